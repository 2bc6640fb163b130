// scripts/run-tests.mjs gives the tests a temp folder of their own, where data directories with
// master keys and admin tokens land. Stopped by Ctrl-C or `timeout`, it must still take the tests
// down and remove that folder: by Node's default a signal ended it at once, with the folder (and, for
// a signal sent to it alone, the tests) left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alive } from '../helpers/child.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function withoutTestContext(): NodeJS.ProcessEnv {
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  return env;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const) {
  test(`a test run stopped by ${signal} stops its tests and removes their temp folder with its secrets`, async () => {
    const outer = mkdtempSync(join(tmpdir(), 'gatepass-runner-test-'));
    const pidFile = join(outer, 'holder.pid');
    try {
      // Only the runner gets the signal, as `timeout` sends it (not the terminal's process group).
      const runner = spawn(process.execPath, ['scripts/run-tests.mjs', 'test/fixtures/holds-secret.mjs'], {
        cwd: root,
        stdio: 'ignore',
        // Without NODE_TEST_CONTEXT, which node:test sets for this file's process: with it the inner
        // run would report to this one instead of running its own.
        env: { ...withoutTestContext(), TMPDIR: outer, HOLDER_PID_FILE: pidFile },
      });
      const exited = new Promise<number | null>((resolve) => runner.once('exit', (c) => resolve(c)));
      await until(() => existsSync(pidFile), 'the test to hold its secret');
      const holder = Number(readFileSync(pidFile, 'utf8'));
      const folders = readdirSync(outer).filter((n) => n.startsWith('gatepass-tests-'));
      assert.equal(folders.length, 1, 'the run made its temp folder');
      runner.kill(signal);
      assert.equal(await exited, code);
      await until(() => !alive(holder), 'the test process to end');
      assert.deepEqual(
        readdirSync(outer).filter((n) => n.startsWith('gatepass-tests-')),
        [],
        'the temp folder, with the master key in it, is gone',
      );
    } finally {
      rmSync(outer, { recursive: true, force: true });
    }
  });
}
