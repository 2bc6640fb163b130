#!/usr/bin/env node
// Runs the test suite with node:test. Test files are listed explicitly in test/lists/*.txt (one path
// per line, '#' comments): a listed file that is missing fails the run, and so does a *.test.ts file
// that no list names, so nothing is silently skipped. `node scripts/run-tests.mjs FILE…` runs some.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const fail = (msg) => {
  process.stderr.write(`run-tests: ${msg}\n`);
  process.exit(2);
};

function listed() {
  const dir = join(root, 'test/lists');
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.txt')) continue;
    for (const raw of readFileSync(join(dir, name), 'utf8').split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (line) files.push(line);
    }
  }
  return files;
}

function discovered(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) discovered(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const args = process.argv.slice(2);
let files = args.length > 0 ? args : listed();
if (files.length === 0) fail('no test files listed');
const missing = files.filter((f) => !existsSync(join(root, f)));
if (missing.length > 0) fail(`listed test files do not exist: ${missing.join(', ')}`);
if (args.length === 0) {
  const set = new Set(files);
  const unlisted = discovered(join(root, 'test')).filter((f) => !set.has(f));
  if (unlisted.length > 0) fail(`test files not in any test/lists/*.txt: ${unlisted.join(', ')}`);
}
files = [...new Set(files)];

/** Files that make a directory a gatepass data directory with secrets in it. */
const SECRET_FILES = new Set(['master.key', 'admin-token']);

/** Paths (relative to `dir`) of secret files below it, not following symlinks. */
function secretsBelow(dir, depth = 6, out = []) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory() && depth > 0) secretsBelow(p, depth - 1, out);
    else if (st.isFile() && SECRET_FILES.has(name)) out.push(p);
  }
  return out;
}

// The tests get a temp folder of their own: what they leave behind is found (and then removed),
// without mistaking what other programs on the machine keep in the system temp folder.
const testTmp = mkdtempSync(join(tmpdir(), 'gatepass-tests-'));
// Like the system temp folder (sticky, open to every user): the PostgreSQL sandbox runs as another user.
chmodSync(testTmp, 0o1777);
// A terminal gets node's spec reporter; anything else (CI, a pipe) progress by file and one summary.
const reporter = process.stdout.isTTY ? 'spec' : join(root, 'scripts/test-reporter.mjs');
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, '--test-concurrency=2', ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NO_COLOR: '1',
      TMPDIR: testTmp,
    },
  },
);
// Stopped (Ctrl-C, `timeout`), the run passes the signal on and still removes the temp folder once
// the tests are gone: by Node's default a signal would end this process at once, leaving the tests'
// data directories (master keys, admin tokens) behind, and, for a signal sent to it alone, the
// tests running.
let stoppedBy;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    stoppedBy ??= signal;
    child.kill(signal);
  });
}
const status = await new Promise((resolve) => {
  child.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  child.on('error', (err) => {
    process.stderr.write(`run-tests: could not start the tests: ${err.message}\n`);
    resolve(1);
  });
});
const leftovers = secretsBelow(testTmp).map((p) => relative(testTmp, p));
rmSync(testTmp, { recursive: true, force: true });
if (leftovers.length > 0 && !stoppedBy) {
  process.stderr.write(
    `run-tests: tests left data directories with secrets in the temp folder (use test/helpers/temp.ts):\n${leftovers.map((p) => `  ${p}\n`).join('')}`,
  );
  process.exit(1);
}
process.exit(stoppedBy ? 128 + constants.signals[stoppedBy] : status);
