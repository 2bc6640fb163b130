// Every command README.md and docs/ show is exercised, so the docs cannot drift from the code:
// each `gatepass …` line is parsed by the real command tree, and the blocks tagged `sh run` are
// executed in order against a real node (the one `gatepass demo` leaves, served by `gatepass serve`).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '../../bench/lib/anchors.js';
import {
  type DocCommand,
  docFiles,
  gatepassCommands,
  parseProblem,
  root,
  shellBlocks,
  shellWords,
  where,
} from './doc-commands.js';

const main = join(root, 'src/cli/main.ts');
const tsx = import.meta.resolve('tsx');

const allCommands = (): DocCommand[] => docFiles().flatMap((f) => shellBlocks(f).flatMap(gatepassCommands));

test('every gatepass command in README.md and docs/ names a real subcommand with real flags and complete arguments', async () => {
  const commands = allCommands();
  assert.ok(commands.length >= 40, `only ${commands.length} commands found: is the extraction broken?`);
  const problems: string[] = [];
  for (const c of commands) {
    const problem = await parseProblem(c.args);
    if (problem !== undefined) problems.push(`${where(c)}: ${c.source}\n    ${problem}`);
  }
  assert.deepEqual(problems, []);
});

test('every gatepass command in README.md and docs/ is written npx gatepass: it works verbatim right after the quick start', () => {
  const bare = allCommands()
    .filter((c) => !c.npx)
    .map((c) => `${where(c)}: ${c.source}`);
  assert.deepEqual(bare, []);
});

test('the checker fails on an unknown subcommand, an unknown flag, a bad choice and a missing argument', async () => {
  assert.equal(await parseProblem(['demo', '--data-dir', 'x', '--port', '1']), undefined);
  assert.equal(
    await parseProblem(['run', 'acme/ws', '--phase', 'plan', '--', 'terraform', 'plan']),
    undefined,
  );
  assert.equal(await parseProblem(['serve', '--help']), undefined);
  assert.match((await parseProblem(['frobnicate'])) ?? '', /unknown command/);
  assert.match((await parseProblem(['demo', '--colour'])) ?? '', /unknown option/);
  assert.match((await parseProblem(['run', 'acme/ws', '--phase', 'destroy', '--', 'x'])) ?? '', /phase/);
  assert.match((await parseProblem(['run', '--phase', 'plan'])) ?? '', /missing required argument/);
});

test('shell lines are understood: prompts, continuations, comments, env prefixes, npx and chains', () => {
  assert.deepEqual(shellWords(`FOO=1 npx gatepass org create "a b" # note`), [
    'FOO=1',
    'npx',
    'gatepass',
    'org',
    'create',
    'a b',
  ]);
  const block = {
    file: 'x.md',
    line: 1,
    info: ['sh'],
    text: '$ npm ci && npx gatepass demo\nA=b gatepass run acme/ws \\\n  --phase plan -- aws sts get-caller-identity | cat\n',
  };
  assert.deepEqual(
    gatepassCommands(block).map((c) => c.args),
    [['demo'], ['run', 'acme/ws', '--phase', 'plan', '--', 'aws', 'sts', 'get-caller-identity']],
  );
});

test('README quick start is exactly two commands, the main job and the tests, and .ci/run runs the same test command', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const [block] = shellBlocks('README.md').filter((b) => section.includes(b.text));
  assert.ok(block, 'a shell block under "## Quick start"');
  const lines = block.text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
  assert.deepEqual(lines, ['npm ci && npx gatepass demo', 'npm test']);
  assert.match(readFileSync(join(root, '.ci/run'), 'utf8'), /^npm test$/m);
});

// ---- blocks tagged `sh run`, executed for real ----

let scratch: string | undefined;
let server: ChildProcess | undefined;
after(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server?.once('exit', resolve));
  }
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra };
  for (const key of Object.keys(env)) if (key.startsWith('GATEPASS_') && !(key in extra)) delete env[key];
  return env;
}

function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      file,
      args,
      { cwd, env, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
          out: `${stdout}\n${stderr}`,
        });
      },
    );
  });
}

async function ready(port: number, ca: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/readyz', ca }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('gatepass serve did not become ready');
}

/** The shell every run block executes in: `gatepass` and `npx gatepass` are this checkout's CLI. */
const PRELUDE = `set -euo pipefail
gatepass() { node --import ${JSON.stringify(tsx)} ${JSON.stringify(main)} "$@"; }
npx() { if [ "$1" = gatepass ]; then shift; gatepass "$@"; else command npx "$@"; fi; }
export -f gatepass npx
`;

// The docs show aws-cli as the run's command; .ci/run installs it.
const hasAws = spawnSync('aws', ['--version']).status === 0;

test("the demo's suggested next commands and the blocks tagged `sh run` in README.md and docs/ succeed against the node the demo leaves behind", {
  skip: hasAws ? false : 'aws-cli is not installed (.ci/run installs it)',
}, async () => {
  const runBlocks = docFiles().map((file) => ({
    file,
    blocks: shellBlocks(file).filter((b) => b.info[1] === 'run'),
  }));
  assert.ok(
    runBlocks.some((f) => f.blocks.length > 0),
    'some blocks are tagged `sh run`',
  );
  scratch = await mkdtemp(join(tmpdir(), 'gatepass-docs-run-'));
  // Commands name repository files (examples/…) as from a checkout.
  await symlink(join(root, 'examples'), join(scratch, 'examples'));
  const port = await freePort();
  const env = cleanEnv({});
  const demo = await exec(
    process.execPath,
    ['--import', tsx, main, 'demo', '--port', String(port), '--no-terraform'],
    scratch,
    env,
  );
  assert.equal(demo.code, 0, demo.out);
  server = spawn(
    process.execPath,
    [
      '--import',
      tsx,
      main,
      'serve',
      '--data-dir',
      '.gatepass-demo',
      '--tls-auto-host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { cwd: scratch, env, stdio: 'ignore' },
  );
  await ready(port, await readFile(join(scratch, '.gatepass-demo', 'tls', 'ca.pem'), 'utf8'));

  // The demo's own "What to try next" lines, as printed (the server they start is already up).
  const next = demo.out.slice(demo.out.indexOf('What to try next:'));
  const suggested = next
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('  ') && !l.trim().startsWith('#') && !l.includes('gatepass serve'))
    .map((l) => l.trim());
  assert.ok(suggested.length >= 3, `the demo suggests commands:\n${next}`);
  const tried = await exec('bash', ['-c', PRELUDE + suggested.join('\n')], scratch, {
    ...env,
    HOME: scratch,
  });
  assert.equal(tried.code, 0, `a command the demo suggests failed\n${tried.out}`);

  // Every run session starts pointed at the node, as getting-started.md §2 sets it up.
  const session = {
    ...env,
    HOME: scratch,
    GATEPASS_SERVER: `https://127.0.0.1:${port}`,
    GATEPASS_CA_FILE: '.gatepass-demo/tls/ca.pem',
    GATEPASS_DATA_DIR: '.gatepass-demo',
    AWS_CA_BUNDLE: '.gatepass-demo/tls/ca.pem',
  };
  for (const { file, blocks } of runBlocks) {
    if (blocks.length === 0) continue;
    // The docs show the default port; the test's node listens on a free one.
    const script = PRELUDE + blocks.map((b) => b.text.replaceAll(':8787', `:${port}`)).join('\n');
    const r = await exec('bash', ['-c', script], scratch, session);
    assert.equal(r.code, 0, `${file}: a \`sh run\` block failed\n${r.out}`);
  }
});
