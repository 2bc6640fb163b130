#!/usr/bin/env node
// Runs the test suite with node:test. Test files are listed explicitly in test/lists/*.txt (one path
// per line, '#' comments): a listed file that is missing fails the run, and so does a *.test.ts file
// that no list names, so nothing is silently skipped. `node scripts/run-tests.mjs FILE…` runs some.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

// A terminal gets node's spec reporter; anything else (CI, a pipe) progress by file and one summary.
const reporter = process.stdout.isTTY ? 'spec' : join(root, 'scripts/test-reporter.mjs');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-reporter=${reporter}`, '--test-concurrency=2', ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' },
  },
);
process.exit(result.status ?? 1);
