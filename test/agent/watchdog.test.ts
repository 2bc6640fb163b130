// The run directory's watchdog removes the directory once the agent is gone, leaves it while the
// agent lives, exits by itself once the agent cleaned up, and carries no secret in its environment.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { watchRunDir } from '../../src/agent/watchdog.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function runDir(): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'gatepass-watchdog-'));
  const dir = join(root, "run dir with 'quotes' and $(spaces)");
  mkdirSync(dir);
  writeFileSync(join(dir, 'token'), 'not-a-real-token', { mode: 0o600 });
  return { root, dir };
}

test('a killed agent: the watchdog removes its run directory, and only that', async () => {
  const { root, dir } = runDir();
  const agent = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const pid = watchRunDir(dir, agent.pid ?? -1);
    assert.ok(pid, 'the watchdog started');
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(existsSync(dir), 'left alone while the agent lives');
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
    assert.deepEqual(environ, ['PATH=/usr/bin:/bin'], 'nothing of the agent environment is passed on');
    agent.kill('SIGKILL');
    await until('the run directory to be removed', () => !existsSync(dir));
    await until('the watchdog to exit', () => !alive(pid));
    assert.ok(existsSync(root), 'the directory around it is untouched');
  } finally {
    agent.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

test('an agent that cleaned up itself: the watchdog exits without touching anything', async () => {
  const { root, dir } = runDir();
  try {
    const pid = watchRunDir(dir);
    assert.ok(pid, 'the watchdog started');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(existsSync(dir), 'the agent (this process) lives: the directory stays');
    rmSync(dir, { recursive: true });
    await until('the watchdog to exit', () => !alive(pid));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
