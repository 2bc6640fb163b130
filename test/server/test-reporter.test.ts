// The test runner's reporter for non-terminal output (scripts/test-reporter.mjs): progress by file,
// failures in full, and one closing summary line that CI log readers understand.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');

function runSample(file = 'reporter-sample.mjs') {
  // A nested `node --test` that inherits NODE_TEST_CONTEXT reports to this runner instead of printing.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(
    process.execPath,
    [
      '--test',
      `--test-reporter=${join(root, 'scripts/test-reporter.mjs')}`,
      join(root, 'test/fixtures', file),
    ],
    { cwd: root, encoding: 'utf8', env: { ...env, NODE_OPTIONS: '' } },
  );
  return { status: r.status, out: r.stdout };
}

test('the reporter ends with one "N passed, N failed, N skipped" line that counts every test', () => {
  const { status, out } = runSample();
  assert.notEqual(status, 0, 'a failing test still fails the run');
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.at(-1), '2 passed, 1 failed, 1 skipped');
});

test('the reporter prints a line per finished file and each failure with its message and place', () => {
  const { out } = runSample();
  assert.match(out, /^✖ test\/fixtures\/reporter-sample\.mjs: 2 passed, 1 failed, 1 skipped \(/m);
  assert.match(out, /^✖ test\/fixtures\/reporter-sample\.mjs › fails with a reason$/m);
  assert.match(out, /Error: the reason it failed\n\s+at .*reporter-sample\.mjs:\d+/);
  assert.match(out, /reporter-sample\.mjs \| a line the test printed/);
  assert.doesNotMatch(out, /node:internal/, 'the runner’s own stack frames are left out');
  assert.doesNotMatch(out, /^ok \d+/m, 'no raw TAP');
});

test('a file that fails before any test runs is reported as failed, never with a green line', () => {
  const { status, out } = runSample('reporter-broken.mjs');
  assert.notEqual(status, 0);
  assert.match(out, /^✖ test\/fixtures\/reporter-broken\.mjs: 0 passed, 1 failed/m);
  assert.match(out, /^✖ test\/fixtures\/reporter-broken\.mjs did not complete$/m);
  assert.doesNotMatch(out, /^✔/m);
  assert.equal(out.trimEnd().split('\n').at(-1), '0 passed, 1 failed, 0 skipped');
});
