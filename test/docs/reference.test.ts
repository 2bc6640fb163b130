// The generated reference docs match the code: the CLI reference is every command's own --help and
// the configuration reference is CONFIG_SCHEMA. Fails until `npx tsx scripts/gen-docs.ts` is rerun.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandTree, fullName, renderReference, staleReferenceFiles } from '../../scripts/gen-docs.js';
import { CONFIG_SCHEMA } from '../../src/server/config.js';

test('docs/reference/*.md are what scripts/gen-docs.ts generates from the code now (rerun it when this fails)', () => {
  assert.deepEqual(staleReferenceFiles(), []);
});

test('the CLI reference has a section for every command and the config reference a row for every key', () => {
  const docs = renderReference();
  const cli = docs.get('docs/reference/cli.md') ?? '';
  const walk = (cmd: ReturnType<typeof commandTree>): string[] => [
    fullName(cmd),
    ...cmd.commands.filter((c) => c.name() !== 'help').flatMap(walk),
  ];
  for (const name of walk(commandTree())) assert.match(cli, new RegExp(`^#+ ${name}$`, 'm'), name);
  const config = docs.get('docs/reference/config.md') ?? '';
  for (const spec of CONFIG_SCHEMA)
    assert.ok(config.includes(`| \`${spec.key}\` | \`${spec.flag}\` | \`${spec.env}\` |`), spec.key);
});

test('generating twice gives the same bytes (no clock, terminal width or colour in the output)', () => {
  assert.deepEqual([...renderReference()], [...renderReference()]);
});
