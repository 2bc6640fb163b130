import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { exitCodeOf, SignalRelay, startChild } from '../../src/agent/child.js';

const scratch = await mkdtemp(join(tmpdir(), 'gatepass-agent-child-'));
after(() => rm(scratch, { recursive: true, force: true }));

/** A child that records every SIGINT/SIGTERM/SIGHUP it gets, exiting 0 on SIGTERM. */
const TRAP = `const fs = require('fs');
const log = (s) => fs.appendFileSync(process.argv[2], s + '\\n');
for (const s of ['SIGINT', 'SIGHUP']) process.on(s, () => log(s));
process.on('SIGTERM', () => { log('SIGTERM'); process.exit(0); });
fs.writeFileSync(process.argv[1], 'ready'); setInterval(() => {}, 1000);`;

async function until(path: string): Promise<void> {
  for (let i = 0; i < 3000 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(existsSync(path), 'the child never became ready');
}

async function logged(path: string, signal: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (existsSync(path) && (await readFile(path, 'utf8')).includes(signal)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`the child never logged ${signal}`);
}

test('exit codes: the code itself, or 128 + the signal number', () => {
  assert.equal(exitCodeOf(0, null), 0);
  assert.equal(exitCodeOf(3, null), 3);
  assert.equal(exitCodeOf(null, 'SIGTERM'), 143);
  assert.equal(exitCodeOf(null, 'SIGINT'), 130);
  assert.equal(exitCodeOf(null, 'SIGHUP'), 129);
  assert.equal(exitCodeOf(null, 'SIGKILL'), 137);
});

test('without a terminal every signal is relayed; the first one is remembered', async () => {
  const ready = join(scratch, 'r1');
  const got = join(scratch, 'g1');
  const relay = new SignalRelay({ interactive: false });
  relay.install();
  try {
    const child = startChild([process.execPath, '-e', TRAP, ready, got], { env: { PATH: '' }, cwd: scratch });
    relay.attach(child.process);
    await until(ready);
    process.kill(process.pid, 'SIGHUP');
    await logged(got, 'SIGHUP');
    process.kill(process.pid, 'SIGINT');
    await logged(got, 'SIGINT');
    process.kill(process.pid, 'SIGTERM');
    const exit = await child.exited;
    assert.equal(exit.exitCode, 0);
    assert.deepEqual((await readFile(got, 'utf8')).trim().split('\n'), ['SIGHUP', 'SIGINT', 'SIGTERM']);
    assert.equal(relay.received, 'SIGHUP');
  } finally {
    relay.uninstall();
  }
});

test('with a terminal only SIGTERM is relayed (the terminal already sent SIGINT/SIGHUP to the child)', async () => {
  const ready = join(scratch, 'r2');
  const got = join(scratch, 'g2');
  const relay = new SignalRelay({ interactive: true });
  relay.install();
  try {
    const child = startChild([process.execPath, '-e', TRAP, ready, got], { env: { PATH: '' }, cwd: scratch });
    relay.attach(child.process);
    await until(ready);
    process.kill(process.pid, 'SIGINT');
    process.kill(process.pid, 'SIGHUP');
    process.kill(process.pid, 'SIGTERM');
    const exit = await child.exited;
    assert.equal(exit.exitCode, 0);
    assert.deepEqual((await readFile(got, 'utf8')).trim().split('\n'), ['SIGTERM']);
    assert.equal(relay.received, 'SIGINT');
  } finally {
    relay.uninstall();
  }
});

test('a command that does not exist resolves with 127 and the errno, not an exception', async () => {
  const child = startChild([join(scratch, 'missing')], { env: {}, cwd: scratch, stdio: 'ignore' });
  const exit = await child.exited;
  assert.equal(exit.exitCode, 127);
  assert.equal(exit.spawnError, 'ENOENT');
});
