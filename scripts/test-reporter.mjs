// node:test reporter for runs outside a terminal (CI, a pipe, a log file): one progress line per test
// file, every failure in full where it happens, and one closing summary line
// ("N passed, N failed, N skipped") that people and CI log readers both understand. Raw TAP gave
// no summary until the very end and buried failures in thousands of "ok" lines.
//
// Event order matters: node reports each file's tests together, file after file, but emits
// `test:complete` when a test really ends, which can be before its file is reported. So a file's
// line is printed when the report moves on to another file (or ends), with the duration and outcome
// its `test:complete` recorded.
import { relative } from 'node:path';
import { inspect } from 'node:util';

const root = process.cwd();
const rel = (file) => (file ? relative(root, file) : '?');
const seconds = (ms) => `${(ms / 1000).toFixed(1)}s`;

function describeError(error) {
  const cause = error?.cause ?? error;
  if (!(cause instanceof Error)) return inspect(cause, { depth: 4 });
  // The test runner's own frames say nothing about the failure.
  return (cause.stack ?? `${cause.name}: ${cause.message}`)
    .split('\n')
    .filter((line) => !/\(node:|at node:|at async Promise\.all/.test(line))
    .join('\n');
}

function indent(text, prefix = '    ') {
  return String(text)
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

export default async function* reporter(source) {
  /** Per file: leaf tests passed/failed/skipped, and what its `test:complete` said. */
  const files = new Map();
  const fileOf = (file) => {
    let f = files.get(file);
    if (!f) {
      f = { pass: 0, fail: 0, skip: 0, durationMs: undefined, broken: false, printed: false };
      files.set(file, f);
    }
    return f;
  };
  let current;
  const flush = (file) => {
    const f = file === undefined ? undefined : files.get(file);
    if (!f || f.printed) return '';
    f.printed = true;
    const failed = f.fail + (f.broken ? 1 : 0);
    const parts = [`${f.pass} passed`];
    if (failed > 0) parts.push(`${failed} failed`);
    if (f.skip > 0) parts.push(`${f.skip} skipped`);
    const took = f.durationMs === undefined ? '' : ` (${seconds(f.durationMs)})`;
    return `${failed > 0 ? '✖' : '✔'} ${rel(file)}: ${parts.join(', ')}${took}\n`;
  };
  /** Called on every reported event: a new file means the previous one is done. */
  const moveTo = (file) => {
    if (file === undefined || file === current) return '';
    const line = flush(current);
    current = file;
    return line;
  };

  const summary = new Map();
  for await (const event of source) {
    const data = event.data ?? {};
    switch (event.type) {
      case 'test:start':
        yield moveTo(data.file);
        break;
      case 'test:pass':
      case 'test:fail': {
        yield moveTo(data.file);
        const isFile = data.nesting === 0 && data.name === data.file;
        if (isFile) {
          // The file itself failed outside any test (it did not load, or it exited early).
          if (event.type === 'test:fail') {
            fileOf(data.file).broken = true;
            yield `✖ ${rel(data.file)} did not complete\n${indent(describeError(data.details?.error))}\n`;
          }
          break;
        }
        if (data.details?.type === 'suite') {
          // A suite fails on its own only when a hook or its body throws; its tests say the rest.
          if (event.type === 'test:fail' && data.details?.error?.failureType !== 'subtestsFailed') {
            yield `✖ ${rel(data.file)} › ${data.name} (suite)\n${indent(describeError(data.details.error))}\n`;
          }
          break;
        }
        const f = fileOf(data.file);
        if (event.type === 'test:fail') {
          f.fail++;
          yield `✖ ${rel(data.file)} › ${data.name}\n${indent(describeError(data.details?.error))}\n`;
        } else if (data.skip !== undefined || data.todo !== undefined) f.skip++;
        else f.pass++;
        break;
      }
      case 'test:complete':
        if (data.nesting === 0 && data.name === data.file) {
          // Only the duration: a file that broke outside its tests says so with its own test:fail.
          fileOf(data.file).durationMs = data.details?.duration_ms;
        }
        break;
      case 'test:stderr':
      case 'test:stdout':
        // Output a test printed (a child process's log, a console line): kept, marked with its file.
        if (data.message) {
          yield moveTo(data.file);
          yield `${indent(String(data.message).replace(/\n$/, ''), `  ${rel(data.file)} | `)}\n`;
        }
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
  for (const file of files.keys()) yield flush(file);
  const n = (k) => summary.get(k) ?? 0;
  const failed = n('fail') + n('cancelled');
  const skipped = n('skipped') + n('todo');
  yield `\n${n('tests')} tests in ${files.size} files, ${seconds(n('duration_ms'))}\n`;
  yield `${n('pass')} passed, ${failed} failed, ${skipped} skipped\n`;
}
