import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { tempDir } from '../helpers/temp.js';
import { httpRequest } from '../server/helpers.js';

const root = new URL('../..', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('GATEPASS_')) delete env[key];
  return env;
};

function cli(args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--version prints the package.json version and exits 0', () => {
  const r = cli(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), version);
});

test('--help works for the program and for serve, exiting 0', () => {
  const top = cli(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Usage: gatepass/);
  assert.match(top.stdout, /serve/);
  const serve = cli(['serve', '--help']);
  assert.equal(serve.code, 0);
  for (const flag of [
    '--config',
    '--host',
    '--port',
    '--data-dir',
    '--database-url',
    '--tls-cert',
    '--tls-key',
    '--log-level',
  ]) {
    assert.ok(serve.stdout.includes(flag), `serve --help lacks ${flag}`);
  }
  assert.match(serve.stdout, /GATEPASS_PORT/);
});

test('unknown commands and options are usage errors (exit 2)', () => {
  const a = cli(['frobnicate']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown command 'frobnicate'/);
  const b = cli(['serve', '--no-such-flag']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /unknown option '--no-such-flag'/);
  assert.equal(cli(['serve', '--port']).code, 2);
});

test('invalid configuration exits 2 listing every problem', async () => {
  const dir = await tempDir('gatepass-cli-');
  const file = join(dir, 'gatepass.yaml');
  await writeFile(file, 'colour: blue\n');
  const env = { ...cleanEnv(), GATEPASS_LOG_LEVEL: 'loud' };
  const r = cli(['serve', '--config', file, '--port', 'http', '--tls-cert', '/x.pem'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error: invalid configuration/);
  assert.match(r.stderr, /unknown key "colour"/);
  assert.match(r.stderr, /port: expected an integer .*--port/);
  assert.match(r.stderr, /logLevel: expected one of .*GATEPASS_LOG_LEVEL/);
  assert.match(r.stderr, /tlsCert and tlsKey must be set together/);
});

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    if (!child.stderr) return reject(new Error('no stderr'));
    const rl = createInterface({ input: child.stderr });
    const seen: string[] = [];
    rl.on('line', (line) => {
      seen.push(line);
      if (pattern.test(line)) {
        rl.close();
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${pattern}:\n${seen.join('\n')}`)));
  });
}

// From the sources and from the installed CLI (package.json's bin, the bundle in dist/bin/), where
// the native SQLite driver and elkjs's files are loaded from node_modules.
const bin = join(
  root,
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { gatepass: string } }).bin
    .gatepass,
);
for (const [how, start] of [
  ['from source', ['--import', 'tsx', main]],
  ['from the installed CLI (bundle)', [bin]],
] as const) {
  test(`serve end to end ${how}: listens, answers health and readiness, serves elkjs, exits 0 on SIGTERM with a SQLite file`, async () => {
    const dataDir = await tempDir('gatepass-serve-');
    const child = spawn(process.execPath, [...start, 'serve', '--data-dir', dataDir, '--port', '0'], {
      cwd: root,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const listening = await waitForLine(child, /"msg":"listening"/);
      const url = String(listening.url);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
      assert.equal((await httpRequest(`${url}/readyz`)).status, 200);
      const elk = await httpRequest(`${url}/ui/elk-api.js`);
      assert.equal(elk.status, 200);
      assert.match(elk.body, /ELK/);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      const files = readdirSync(dataDir);
      assert.ok(
        files.some((f) => /\.(sqlite3?|db)$/.test(f)),
        `no SQLite file in ${dataDir}: ${files.join(', ')}`,
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
}

test('npm ci built dist: the compiled CLI prints its version', () => {
  assert.ok(
    existsSync(join(root, 'dist/src/cli/main.js')),
    'dist/ is missing: npm ci (or npm run build) builds it',
  );
  const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), '--version'], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), version);
});
