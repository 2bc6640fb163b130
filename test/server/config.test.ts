import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CONFIG_SCHEMA,
  ConfigError,
  describeConfig,
  loadConfig,
  resolveConfig,
} from '../../src/server/config.js';

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

test('defaults apply when no source sets a key', () => {
  const c = resolveConfig({ env: {} });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8787);
  assert.equal(c.dataDir, './.gatepass');
  assert.equal(c.bodyLimitBytes, 1_048_576);
  assert.equal(c.requestTimeoutMs, 30_000);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.shutdownGraceMs, 10_000);
  assert.equal('databaseUrl' in c, false);
  assert.equal('issuerUrl' in c, false);
});

test('precedence is defaults < file < environment < flags, key by key', () => {
  const c = resolveConfig({
    file: { host: '10.0.0.1', port: 1000, logLevel: 'warn', dataDir: '/file' },
    env: { GATEPASS_PORT: '2000', GATEPASS_LOG_LEVEL: 'debug', GATEPASS_DATA_DIR: '/env' },
    flags: { port: '3000', dataDir: undefined },
  });
  assert.equal(c.host, '10.0.0.1'); // file only
  assert.equal(c.logLevel, 'debug'); // env beats file
  assert.equal(c.port, 3000); // flag beats env and file
  assert.equal(c.dataDir, '/env'); // an undefined flag is "not given"
  assert.equal(c.keepAliveTimeoutMs, 5_000); // default
});

test('every bad key and value from every source is reported in one error', () => {
  const problems = problemsOf(() =>
    resolveConfig({
      file: { port: 'eighty', colour: 'blue', logLevel: 'loud', tlsCert: '/c.pem' },
      env: { GATEPASS_BODY_LIMIT_BYTES: '-5', GATEPASS_ISSUER_URL: 'not a url', GATEPASS_UNRELATED: 'x' },
      flags: { requestTimeoutMs: '1.5', databaseUrl: 'mysql://u:hunter2@db/x' },
    }),
  );
  const text = problems.join('\n');
  for (const fragment of [
    'unknown key "colour"',
    'port: expected an integer from 0 to 65535, got "eighty" (from config file key "port")',
    'logLevel: expected one of debug, info, warn, error',
    'bodyLimitBytes: expected an integer',
    'GATEPASS_BODY_LIMIT_BYTES',
    'issuerUrl: expected an absolute http or https URL',
    'requestTimeoutMs: expected an integer',
    '--request-timeout-ms',
    'databaseUrl: expected an absolute postgres or postgresql URL',
    'tlsCert and tlsKey must be set together',
  ]) {
    assert.ok(text.includes(fragment), `missing problem: ${fragment}\n${text}`);
  }
  assert.equal(problems.length, 8);
  assert.equal(text.includes('hunter2'), false, 'a database URL value is never echoed');
});

test('a bad value is reported even when a higher source overrides it', () => {
  const problems = problemsOf(() => resolveConfig({ env: { GATEPASS_PORT: 'x' }, flags: { port: '1' } }));
  assert.deepEqual(problems, ['port: expected an integer from 0 to 65535, got "x" (from GATEPASS_PORT)']);
});

test('headers timeout may not exceed the request timeout', () => {
  const problems = problemsOf(() => resolveConfig({ env: {}, flags: { headersTimeoutMs: 40_000 } }));
  assert.match(problems[0] ?? '', /headersTimeoutMs \(40000\) must not exceed requestTimeoutMs \(30000\)/);
});

test('a config file that is not a mapping is a problem; an empty one is fine', () => {
  assert.deepEqual(
    problemsOf(() => resolveConfig({ file: ['port'], env: {} })),
    ['config file: expected a mapping of configuration keys'],
  );
  assert.equal(resolveConfig({ file: null, env: {} }).port, 8787);
});

test('the resolved config is deeply frozen', () => {
  const c = resolveConfig({ env: {} });
  assert.ok(Object.isFrozen(c));
  assert.throws(() => {
    (c as { port: number }).port = 1;
  }, TypeError);
});

test('every schema key has an env var, a flag and a description for the docs', () => {
  const envs = new Set<string>();
  for (const spec of CONFIG_SCHEMA) {
    const snake = spec.key.replace(/[A-Z]/g, (ch) => `_${ch}`).toUpperCase();
    assert.equal(spec.env, `GATEPASS_${snake}`);
    assert.equal(spec.flag, `--${spec.key.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`);
    assert.ok(spec.description.length > 10);
    envs.add(spec.env);
  }
  assert.equal(envs.size, CONFIG_SCHEMA.length);
});

test('loadConfig reads YAML and JSON files named by flag or GATEPASS_CONFIG', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatepass-config-'));
  const yamlPath = join(dir, 'gatepass.yaml');
  const jsonPath = join(dir, 'gatepass.json');
  await writeFile(yamlPath, 'port: 9000\nlogLevel: warn\n');
  await writeFile(jsonPath, JSON.stringify({ port: 9100 }));
  assert.equal((await loadConfig({ env: { GATEPASS_CONFIG: yamlPath } })).port, 9000);
  const both = await loadConfig({ env: { GATEPASS_CONFIG: yamlPath }, configPath: jsonPath });
  assert.equal(both.port, 9100);
  assert.equal(both.logLevel, 'info');
});

test('loadConfig reports unreadable and unparseable files as ConfigError', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatepass-config-'));
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'port: [unclosed\n');
  await assert.rejects(loadConfig({ env: {}, configPath: join(dir, 'missing.yaml') }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.problems[0] ?? '', /cannot be read \(ENOENT\)/);
    return true;
  });
  await assert.rejects(loadConfig({ env: {}, configPath: bad }), ConfigError);
});

test('describeConfig hides the database password', () => {
  const c = resolveConfig({ env: { GATEPASS_DATABASE_URL: 'postgres://gp:hunter2@db:5432/gp' } });
  const shown = JSON.stringify(describeConfig(c));
  assert.equal(shown.includes('hunter2'), false);
  assert.ok(shown.includes('postgres://gp:redacted@db:5432/gp'));
});

test('stsRevokeRun is on unless switched off (env or flag); anything else is refused with the choices', () => {
  assert.equal(resolveConfig({ env: {} }).stsRevokeRun, 'on');
  assert.equal(resolveConfig({ env: { GATEPASS_STS_REVOKE_RUN: 'off' } }).stsRevokeRun, 'off');
  assert.equal(resolveConfig({ env: {}, flags: { stsRevokeRun: 'off' } }).stsRevokeRun, 'off');
  assert.deepEqual(
    problemsOf(() => resolveConfig({ env: { GATEPASS_STS_REVOKE_RUN: 'false' } })),
    ['stsRevokeRun: expected one of on, off, got "false" (from GATEPASS_STS_REVOKE_RUN)'],
  );
});
