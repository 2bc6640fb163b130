// The installed CLI is the bundle `npm run build` writes to dist/bin/ (package.json's bin): it must
// be the same program as the sources. Every command's help, at every depth, is compared with what the
// sources print for it, so a command, option or argument lost (or a chunk missing) in the bundle fails.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { freePort } from '../../bench/lib/anchors.js';

const root = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: { gatepass: string };
};
const bin = join(root, pkg.bin.gatepass);
const env = { PATH: process.env.PATH, NO_COLOR: '1' };

function run(args: string[]) {
  const r = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Every command path of the source tree with the help the sources print for it, from one Node
 * process whose output is a pipe, as the bundle's is below (help is wrapped to the terminal's width).
 */
function sourceHelp(): Map<string, string> {
  const url = (path: string) => pathToFileURL(join(root, path)).href;
  const script = `
    import { Writable } from 'node:stream';
    import { runCli } from ${JSON.stringify(url('src/cli/program.ts'))};
    import { buildProgram } from ${JSON.stringify(url('src/cli/command-tree.ts'))};
    import { loadCommands } from ${JSON.stringify(url('src/cli/commands/index.ts'))};
    import { createOutput } from ${JSON.stringify(url('src/cli/lib/output.ts'))};
    const sink = () => new Writable({ write(_c, _e, done) { done(); } });
    const program = buildProgram(createOutput({ stdout: sink(), stderr: sink(), color: false }), await loadCommands());
    const paths = [];
    const walk = (cmd, path) => { paths.push(path); for (const sub of cmd.commands) walk(sub, [...path, sub.name()]); };
    walk(program, []);
    const help = {};
    for (const path of paths) {
      let text = '';
      const stdout = new Writable({ write(c, _e, done) { text += c; done(); } });
      await runCli(['node', 'gatepass', ...path, '--help'], { stdout, stderr: sink(), color: false });
      help[path.join(' ')] = text;
    }
    process.stdout.write(JSON.stringify(help));
  `;
  const r = run(['--import', 'tsx', '--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.stderr);
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, string>));
}

test('the installed CLI (package.json bin) is the bundle npm ci builds, and prints the package version', () => {
  assert.ok(existsSync(bin), `${pkg.bin.gatepass} is missing: npm ci (or npm run build) builds it`);
  const r = run([bin, '--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), pkg.version);
});

test("the bundled CLI's help tree equals the source's command tree, command by command", () => {
  const help = sourceHelp();
  // The walk found the whole tree (top-level commands and their subcommands), each with its help.
  assert.ok(help.size > 30, `only ${help.size} command paths found in the sources`);
  for (const path of ['', 'run', 'serve', 'explain', 'org'])
    assert.ok(help.has(path), `no "${path}" command`);
  for (const [path, text] of help) {
    assert.match(text, /^Usage: gatepass/, `no help from the sources for "${path}"`);
    const r = run([bin, ...(path === '' ? [] : path.split(' ')), '--help']);
    assert.equal(r.code, 0, `gatepass ${path} --help: ${r.stderr}`);
    assert.equal(r.stdout, text, `gatepass ${path} --help differs between the bundle and the sources`);
  }
});

test('an unknown command is the same usage error (exit 2) from the bundle as from the sources', () => {
  const bundled = run([bin, 'frobnicate']);
  const source = run(['--import', 'tsx', join(root, 'src/cli/main.ts'), 'frobnicate']);
  assert.equal(bundled.code, 2);
  assert.deepEqual(bundled, source);
});

// `gatepass run` starts every infrastructure run: the executable is a small CommonJS file that loads
// run.cjs, one CommonJS file holding `run`, with its V8 code cache, so Node starts it without its ES
// module loader (bench/agent/README.md measures what that saves).
test('gatepass run starts from CommonJS files only: the executable and run.cjs require only Node built-ins, run.cjs holds the agent and no commander, and only the executable imports the ES module CLI', () => {
  assert.match(pkg.bin.gatepass, /\.cjs$/);
  const requires = (source: string) =>
    [...source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  const imports = (source: string) =>
    [...source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
  const executable = readFileSync(bin, 'utf8');
  const runFile = join(dirname(bin), 'run.cjs');
  const run = readFileSync(runFile, 'utf8');
  assert.ok(requires(run).includes('node:child_process'), 'the agent is not inside run.cjs');
  assert.ok(!requires(executable).includes('node:child_process'), 'the agent is inside the executable');
  for (const [name, source] of [
    ['the executable', executable],
    ['run.cjs', run],
  ] as const) {
    assert.deepEqual(
      requires(source).filter((r) => !r?.startsWith('node:')),
      [],
      `${name} must not load a package or a chunk`,
    );
  }
  assert.deepEqual(imports(executable), ['./main.js']);
  assert.deepEqual(imports(run), []);
  // Its usual command lines are parsed without commander (src/cli/run/argv.ts); `run --help` and
  // usage errors go through main.js.
  assert.doesNotMatch(run, /node_modules\/commander/, 'commander is bundled into run.cjs');
  assert.ok(existsSync(join(dirname(bin), 'main.js')));
  assert.ok(existsSync(`${runFile}.v8cache`), 'the build made no code cache for run.cjs');
});

test('gatepass run from the executable fails like the sources when something is missing (no token, bad target, no phase)', () => {
  for (const args of [
    ['run', 'acme/networking', '--phase', 'apply', '--server', 'https://127.0.0.1:1', '--', 'true'],
    ['run', 'acme', '--phase', 'apply', '--', 'true'],
    ['run', 'acme/networking', '--', 'true'],
  ]) {
    const bundled = run([bin, ...args]);
    assert.equal(bundled.code, 2, `${args.join(' ')}: ${bundled.stderr}`);
    assert.deepEqual(
      bundled,
      run(['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args]),
      args.join(' '),
    );
  }
});

// The README's first command, `npx gatepass demo`: the demo's chunk finds examples/ from dist/bin/
// and starts its child (dist/bin/child.js) next to itself; the child imports the AWS SDK from
// node_modules, and the plan and apply run through the agent.
test('npx gatepass demo runs end to end from the bundle (JS SDK variant), its child and the AWS SDK found', async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gatepass-bundle-demo-'));
  try {
    const port = await freePort();
    const demoEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const key of Object.keys(demoEnv)) if (key.startsWith('GATEPASS_')) delete demoEnv[key];
    const r = spawnSync(
      process.execPath,
      [bin, 'demo', '--data-dir', join(scratch, 'state'), '--port', String(port), '--no-terraform'],
      { cwd: scratch, env: demoEnv, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /✓ JS SDK apply: created arn:aws:iam::\d{12}:policy\/networking\/network-readers/);
    assert.match(r.stdout, /run run-\S+ revoked at the STS/);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
