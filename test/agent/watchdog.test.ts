// The run directory's watchdog removes the directory as soon as its agent's process is gone (killed
// with SIGKILL), leaves it while the agent lives, leaves a directory whose marker names another agent
// (the next phase of the run, same path), exits once the agent releases it, costs no process while
// it waits, and carries no secret in its environment.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MARKER_FILE } from '../../src/agent/delivery.js';
import { watchRunDir } from '../../src/agent/watchdog.js';
import { alive } from '../helpers/child.js';

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function runDir(markerPid: number | undefined): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'gatepass-watchdog-'));
  const dir = join(root, "run dir with 'quotes' and $(spaces)");
  mkdirSync(dir);
  writeFileSync(join(dir, 'token'), 'not-a-real-token', { mode: 0o600 });
  if (markerPid !== undefined) writeFileSync(join(dir, MARKER_FILE), String(markerPid), { mode: 0o600 });
  return { root, dir };
}

const watchdogModule = new URL('../../src/agent/watchdog.ts', import.meta.url).href;

/**
 * A stand-in agent: a Node process that writes its pid as the directory's marker, starts the
 * watchdog and waits; it prints the watchdog's pid. `markerPid` overrides what the marker says.
 */
async function startAgent(
  dir: string,
  markerPid?: number,
): Promise<{ agent: ChildProcess; watchdog: number; command: number }> {
  const script = `
    import { writeFileSync } from 'node:fs';
    const { watchRunDir } = await import(${JSON.stringify(watchdogModule)});
    writeFileSync(${JSON.stringify(join(dir, MARKER_FILE))}, String(${markerPid ?? 'process.pid'}));
    const w = watchRunDir(${JSON.stringify(dir)});
    // The run's command, started as the agent starts it (its stdio inherited).
    const { spawn } = await import('node:child_process');
    const command = spawn('sleep', ['60'], { stdio: 'inherit' });
    process.stdout.write(String(w?.pid ?? 'none') + ' ' + String(command.pid) + '\\n');
    setInterval(() => {}, 1000);
  `;
  const agent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    agent.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    agent.once('exit', (code) => reject(new Error(`agent exited ${code}`)));
  });
  const [watchdog, command] = line.split(' ').map(Number) as [number, number];
  assert.ok(Number.isInteger(watchdog), `the watchdog started (${line})`);
  return { agent, watchdog, command };
}

/** The processes whose parent is `pid` (a waiting watchdog starts none: it blocks in a read). */
function childrenOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The pipes and socket pairs among a process's open descriptors (`pipe:[inode]`, `socket:[inode]`). */
function pipesOf(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.startsWith('pipe:') || target.startsWith('socket:'));
}

test('a killed agent (SIGKILL): its watchdog removes its run directory at once, and only that, while the command still runs', async () => {
  const { root, dir } = runDir(undefined);
  const { agent, watchdog, command } = await startAgent(dir);
  try {
    // The command must not hold the watchdog's pipe: it would keep the watchdog waiting after the
    // agent's death for as long as the command runs.
    const lifeline = readlinkSync(`/proc/${watchdog}/fd/0`);
    assert.match(lifeline, /^(pipe|socket):/);
    assert.ok(!pipesOf(command).includes(lifeline), 'the command inherited the watchdog pipe');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(existsSync(dir), 'left alone while the agent lives');
    assert.equal(childrenOf(watchdog), '', 'waiting starts no process (no polling sleep)');
    const environ = readFileSync(`/proc/${watchdog}/environ`, 'utf8').split('\0').filter(Boolean);
    assert.deepEqual(environ, ['PATH=/usr/bin:/bin'], 'nothing of the agent environment is passed on');
    agent.kill('SIGKILL');
    await until('the run directory to be removed', () => !existsSync(dir), 2_000);
    await until('the watchdog to exit', () => !alive(watchdog));
    assert.ok(alive(command), 'the command was still running');
    assert.ok(existsSync(root), 'the directory around it is untouched');
  } finally {
    agent.kill('SIGKILL');
    process.kill(command, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

test("a killed agent whose directory's marker names another agent (the run's next phase, same path): the directory stays", async () => {
  const { root, dir } = runDir(undefined);
  const { agent, watchdog, command } = await startAgent(dir, 1);
  try {
    agent.kill('SIGKILL');
    await until('the watchdog to exit', () => !alive(watchdog));
    assert.ok(existsSync(join(dir, 'token')), "another agent's directory is not touched");
  } finally {
    agent.kill('SIGKILL');
    process.kill(command, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
});

test('an agent that cleaned up and released its watchdog: the watchdog exits without touching anything', async () => {
  const { root, dir } = runDir(process.pid);
  try {
    const w = watchRunDir(dir);
    assert.ok(w, 'the watchdog started');
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(existsSync(dir), 'the agent (this process) lives: the directory stays');
    assert.ok(alive(w.pid), 'the watchdog waits as long as the agent holds the pipe');
    rmSync(dir, { recursive: true });
    // Something else at the same path by now: not the watchdog's to remove (no marker of ours).
    mkdirSync(dir);
    w.release();
    await until('the watchdog to exit', () => !alive(w.pid));
    assert.ok(existsSync(dir), 'a directory without our marker is left alone');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
