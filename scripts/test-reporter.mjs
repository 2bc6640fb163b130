// node:test reporter for runs outside a terminal (CI, a pipe, a log file): one progress line per test
// file as it finishes, every failure in full where it happens, and one closing summary line
// ("N passed, N failed, N skipped") that people and CI log readers both understand. Raw TAP gave
// no summary until the very end and buried failures in thousands of "ok" lines.
import { relative } from 'node:path';
import { inspect } from 'node:util';

const root = process.cwd();
const rel = (file) => (file ? relative(root, file) : '?');
const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

/** Per-file tallies of leaf tests (suites are containers, not tests). */
function tally(files, file) {
  let t = files.get(file);
  if (!t) {
    t = { pass: 0, fail: 0, skip: 0, started: Date.now() };
    files.set(file, t);
  }
  return t;
}

function describeError(error) {
  const cause = error?.cause ?? error;
  if (cause instanceof Error) {
    // The test runner's own frames say nothing about the failure.
    const stack = cause.stack ?? `${cause.name}: ${cause.message}`;
    return stack
      .split('\n')
      .filter((line) => !/\(node:|at node:|at async Promise\.all/.test(line))
      .join('\n');
  }
  return inspect(cause, { depth: 4 });
}

function indent(text, prefix = '    ') {
  return String(text)
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

export default async function* reporter(source) {
  const files = new Map();
  const summary = new Map();
  for await (const event of source) {
    const data = event.data ?? {};
    switch (event.type) {
      case 'test:pass':
      case 'test:fail': {
        const isFile = data.nesting === 0 && data.name === data.file;
        if (data.details?.type === 'suite') {
          // A suite fails on its own only when a hook or its body throws: say so, its tests say the rest.
          if (event.type === 'test:fail' && data.details?.error?.failureType !== 'subtestsFailed') {
            yield `✖ ${rel(data.file)} › ${data.name} (suite)\n${indent(describeError(data.details.error))}\n`;
          }
          break;
        }
        if (isFile) {
          // The file itself failed outside any test (it did not load, or it exited early).
          if (event.type === 'test:fail') {
            yield `✖ ${rel(data.file)} did not complete\n${indent(describeError(data.details?.error))}\n`;
          }
          break;
        }
        const t = tally(files, data.file);
        if (event.type === 'test:fail') {
          t.fail++;
          yield `✖ ${rel(data.file)} › ${data.name}\n${indent(describeError(data.details?.error))}\n`;
        } else if (data.skip !== undefined || data.todo !== undefined) t.skip++;
        else t.pass++;
        break;
      }
      case 'test:complete': {
        if (data.nesting !== 0 || data.name !== data.file) break;
        const t = tally(files, data.file);
        // A file that failed outside its tests (it did not load, it exited early) is reported by a
        // test:fail after this event; count it here so its line is not a green one.
        if (data.details?.passed === false && t.fail === 0) t.fail++;
        const mark = t.fail > 0 ? '✖' : '✔';
        const parts = [`${t.pass} passed`];
        if (t.fail > 0) parts.push(`${t.fail} failed`);
        if (t.skip > 0) parts.push(`${t.skip} skipped`);
        yield `${mark} ${rel(data.file)}: ${parts.join(', ')} (${seconds(Date.now() - t.started)})\n`;
        break;
      }
      case 'test:stderr':
      case 'test:stdout':
        // Output a test printed (a child process's log, a console line): kept, marked with its file.
        if (data.message)
          yield `${indent(String(data.message).replace(/\n$/, ''), `  ${rel(data.file)} | `)}\n`;
        break;
      case 'test:diagnostic': {
        const m = /^(\w+) ([\d.]+)$/.exec(String(data.message));
        if (m && data.nesting === 0) summary.set(m[1], Number(m[2]));
        else if (data.nesting === 0) yield `ℹ ${data.message}\n`;
        break;
      }
      default:
        break;
    }
  }
  const n = (k) => summary.get(k) ?? 0;
  const failed = n('fail') + n('cancelled');
  const skipped = n('skipped') + n('todo');
  yield `\n${n('tests')} tests in ${files.size} files, ${seconds(n('duration_ms'))}\n`;
  yield `${n('pass')} passed, ${failed} failed, ${skipped} skipped\n`;
}
