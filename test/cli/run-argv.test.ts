// `gatepass run`'s usual command lines skip commander (src/cli/run/argv.ts): what that parser takes,
// it must read exactly as commander does, and everything else (help, usage errors) must be left to
// commander. Checked on the vectors and on thousands of generated command lines.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { buildProgram } from '../../src/cli/command-tree.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { createOutput } from '../../src/cli/lib/output.js';
import { parseRunArgv, type RunArgs } from '../../src/cli/run/argv.js';

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/cli/run-argv.json', import.meta.url), 'utf8'),
) as {
  cases: { name: string; argv: string[]; fast: RunArgs | null }[];
};

/** What commander hands `run`'s action for this command line, or 'refused' (usage error, help). */
function commanderReads(argv: readonly string[]): RunArgs | 'refused' {
  const sink = () => new Writable({ write: (_c, _e, done) => done() });
  const program = buildProgram(createOutput({ stdout: sink(), stderr: sink(), color: false }), [runCommand]);
  let got: RunArgs | undefined;
  program.commands
    .find((c) => c.name() === 'run')
    ?.action((target: string, command: string[], flags: RunArgs['flags']) => {
      got = { target, command, flags: { ...flags } };
    });
  try {
    program.parse(['node', 'gatepass', ...argv]);
  } catch {
    return 'refused';
  }
  return got ?? 'refused';
}

test('the run command lines in the vectors are taken or left to commander as recorded, and read as commander reads them', () => {
  for (const c of vectors.cases) {
    const fast = parseRunArgv(c.argv) ?? null;
    assert.deepEqual(fast, c.fast, c.name);
    if (fast !== null)
      assert.deepEqual(commanderReads(c.argv), fast, `${c.name}: commander reads it otherwise`);
  }
});

test('on generated command lines, every one the fast parser takes is one commander accepts and reads the same way', () => {
  const words = [
    'acme/ws',
    'a/b/c',
    '',
    '-',
    '--',
    '--phase',
    'plan',
    'apply',
    'bogus',
    '--phase=plan',
    '--phase=',
    '--run',
    'run-1',
    '--run=run-2',
    '--server',
    'http://x',
    '--server=',
    '--url',
    '--agent-token-file',
    'f',
    '--token-file',
    '--ca',
    '--sts-endpoint',
    '--iam-endpoint',
    '--region',
    'us-east-1',
    '--refresh',
    '--refresh=1',
    '--keep-files',
    '-h',
    '--help',
    '-V',
    '--version',
    '--unknown',
    'true',
    'terraform',
    '-x',
    '--x=1',
    '-1',
    'run',
  ];
  // Well-formed pieces, so that many lines are taken and their combinations compared.
  const fragments = [
    ['--run', 'run-1'],
    ['--run=run-2'],
    ['--server', 'https://gp:8443'],
    ['--url=http://x'],
    ['--refresh'],
    ['--keep-files'],
    ['--region', 'eu-west-1'],
    ['--ca', 'ca.pem'],
    ['--token-file', 't'],
    ['--agent-token-file=t'],
    ['--sts-endpoint', 'https://sts'],
    ['--iam-endpoint=https://iam'],
  ];
  // A fixed xorshift sequence: the same lines on every run.
  let seed = 23;
  const next = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let taken = 0;
  for (let i = 0; i < 4000; i++) {
    const line = ['run'];
    // Most lines carry the usual parts, so that many of them are taken.
    if (next(3) > 0) line.push('acme/ws', '--phase', next(2) ? 'plan' : 'apply');
    for (let k = next(5); k > 0; k--) {
      if (next(2)) line.push(...(fragments[next(fragments.length)] as string[]));
      else line.push(words[next(words.length)] as string);
    }
    if (next(4) > 0) line.push('--', 'true');
    for (let k = next(3); k > 0; k--) line.push(words[next(words.length)] as string);
    const fast = parseRunArgv(line);
    if (fast === undefined) continue;
    taken++;
    assert.deepEqual(commanderReads(line), fast, JSON.stringify(line));
  }
  // The comparison means something only if the parser takes a good share of the lines.
  assert.ok(taken > 500, `only ${taken} of 4000 lines taken`);
});
