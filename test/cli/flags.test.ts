// One idea, one spelling: across the whole command tree, a server URL is --server, a token file
// --token-file (or a narrower *-token-file), and a flag that several commands share takes an argument
// in all of them or in none. Old spellings stay accepted as hidden aliases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, type Option } from 'commander';
import { loadCommands } from '../../src/cli/commands/index.js';
import { parseProblem } from '../docs/doc-commands.js';

interface Flag {
  command: string;
  option: Option;
}

async function allFlags(): Promise<Flag[]> {
  const program = new Command('gatepass');
  for (const module of await loadCommands()) module.register(program);
  const flags: Flag[] = [];
  const walk = (cmd: Command, path: string) => {
    for (const option of cmd.options) flags.push({ command: path, option });
    for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`.trim());
  };
  walk(program, '');
  return flags;
}

test('every command names the server URL --server and a token file --token-file (or a narrower *-token-file)', async () => {
  const visible = (await allFlags()).filter((f) => !f.option.hidden);
  const server = visible.filter((f) => /server URL/i.test(f.option.description));
  assert.ok(server.length > 10, 'the client commands are found');
  assert.deepEqual(
    server.filter((f) => f.option.long !== '--server').map((f) => `${f.command}: ${f.option.flags}`),
    [],
  );
  const spelt = visible.filter((f) => /^--(url|admin-token-file|endpoint)$/.test(f.option.long ?? ''));
  assert.deepEqual(
    spelt.map((f) => `${f.command}: ${f.option.flags}`),
    [],
  );
});

test('a flag several commands share takes an argument in all of them or in none', async () => {
  const byName = new Map<string, Set<string>>();
  for (const { option } of await allFlags()) {
    const kind = option.required || option.optional ? 'value' : 'switch';
    const name = option.long ?? option.short ?? '';
    byName.set(name, (byName.get(name) ?? new Set()).add(kind));
  }
  const mixed = [...byName].filter(([, kinds]) => kinds.size > 1).map(([name]) => name);
  assert.deepEqual(mixed, []);
});

test('old spellings are hidden aliases that still parse: run --url and --token-file, simulate --admin-token-file', async () => {
  const run = ['run', 'acme/ws', '--phase', 'plan'];
  assert.equal(await parseProblem([...run, '--server', 'https://n:8787', '--', 'true']), undefined);
  assert.equal(await parseProblem([...run, '--url', 'https://n:8787', '--', 'true']), undefined);
  assert.equal(await parseProblem([...run, '--token-file', 'f', '--', 'true']), undefined);
  assert.equal(
    await parseProblem([
      'simulate',
      '--as',
      'acme/ws:plan',
      '--role',
      'arn:aws:iam::111122223333:role/r',
      '--admin-token-file',
      'f',
    ]),
    undefined,
  );
  const hidden = (await allFlags())
    .filter((f) => f.option.hidden)
    .map((f) => `${f.command} ${f.option.long}`);
  assert.ok(hidden.includes('run --url') && hidden.includes('run --token-file'), hidden.join(', '));
});
