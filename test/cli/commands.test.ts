// The on-demand command list: each entry's name is the command its module registers, so running a
// command loads exactly the module that defines it, and help or an unknown word loads them all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { commands, loadCommands } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/program.js';

test('every command entry names exactly the commands its module registers', async () => {
  for (const entry of commands) {
    const program = new Command('gatepass');
    (await entry.load()).register(program);
    assert.deepEqual(
      program.commands.map((c) => c.name()),
      entry.names,
    );
  }
  const names = commands.flatMap((c) => c.names);
  assert.equal(new Set(names).size, names.length, 'names are unique');
});

test('a named command loads only its module; no name or an unknown one loads every module', async () => {
  assert.equal((await loadCommands('run')).length, 1);
  assert.equal((await loadCommands('varset')).length, 1);
  assert.equal((await loadCommands()).length, commands.length);
  assert.equal((await loadCommands('frobnicate')).length, commands.length);
});

test('the top-level help still lists every command, and an unknown command is a usage error', async () => {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => ({
    write: (s: string) => {
      append(s);
      return true;
    },
  });
  const io = {
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    color: false,
  };
  assert.equal(await runCli(['node', 'gatepass', '--help'], io), 0);
  for (const name of commands.flatMap((c) => c.names))
    assert.match(stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
  assert.equal(await runCli(['node', 'gatepass', '--version'], io), 0);
  assert.match(stdout, /^\d+\.\d+\.\d+$/m);
  assert.equal(await runCli(['node', 'gatepass', 'frobnicate'], io), 2);
  assert.match(stderr, /unknown command 'frobnicate'/);
});
