// Errors a newcomer meets first, each with a one-line hint of what to do: plain HTTP to an HTTPS
// node, an HTTPS node whose local CA is not trusted, no admin token where the CLI looked, no node;
// the same for `gatepass run` (the agent's own client).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tlsHint } from '../../src/agent/transport-hint.js';
import { runCli } from '../../src/cli/program.js';
import { closedPort } from '../helpers/ports.js';
import { makeTestPki } from '../helpers/tls.js';
import { startTestServer } from '../issuer/server.js';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(['node', 'gatepass', ...args], {
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
    env: { NO_COLOR: '1' },
  });
  return { code, stderr };
}

test('CLI transport and token errors name the cause and what to do about it', async () => {
  const s = await startTestServer({ tlsAutoHost: '127.0.0.1' });
  const empty = mkdtempSync(join(tmpdir(), 'gatepass-hints-'));
  const saved = process.env.GATEPASS_DATA_DIR;
  try {
    const host = new URL(s.url).host;
    const ca = join(s.dataDir, 'tls', 'ca.pem');

    const plain = await cli(['org', 'list', '--server', `http://${host}`, '--token', 'x']);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+ \(\w+\)/);
    assert.match(
      plain.stderr,
      new RegExp(`hint: the node may be serving HTTPS: try --server https://${host}`),
    );

    const untrusted = await cli(['org', 'list', '--server', s.url, '--token', 'x']);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /\(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
    assert.match(untrusted.stderr, /hint: .*--ca <data-dir>\/tls\/ca\.pem/);

    process.env.GATEPASS_DATA_DIR = empty;
    delete process.env.GATEPASS_TOKEN;
    const noToken = await cli(['org', 'list', '--server', s.url, '--ca', ca]);
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, new RegExp(`no token: ${join(empty, 'admin-token')} does not exist`));
    assert.match(noToken.stderr, /hint: pass --token-file <data-dir>\/admin-token/);

    const wrongToken = await cli(['org', 'list', '--server', s.url, '--ca', ca, '--token', 'not-the-token']);
    assert.equal(wrongToken.code, 1);
    assert.doesNotMatch(wrongToken.stderr, /not-the-token/, 'a token is never printed');

    const refused = await cli([
      'org',
      'list',
      '--server',
      `http://127.0.0.1:${await closedPort()}`,
      '--token',
      'x',
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /\(ECONNREFUSED\)[\s\S]*hint: is `gatepass serve` running there\?/);

    const badCa = await cli([
      'org',
      'list',
      '--server',
      s.url,
      '--ca',
      join(empty, 'nope.pem'),
      '--token',
      'x',
    ]);
    assert.equal(badCa.code, 2);
    assert.match(badCa.stderr, /--ca: cannot read/);
  } finally {
    if (saved === undefined) delete process.env.GATEPASS_DATA_DIR;
    else process.env.GATEPASS_DATA_DIR = saved;
    rmSync(empty, { recursive: true, force: true });
    await s.stop();
  }
});

/** `gatepass run` in a child process (it exits with the agent's code). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'run', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), NO_COLOR: '1', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('gatepass run against an HTTPS node with no CA, the wrong CA, over plain HTTP, or where nothing listens says in one line what to do', async () => {
  const s = await startTestServer({ tlsAutoHost: '127.0.0.1' });
  const scratch = mkdtempSync(join(tmpdir(), 'gatepass-run-hints-'));
  try {
    const host = new URL(s.url).host;
    const wrongCa = join(scratch, 'other-ca.pem');
    writeFileSync(wrongCa, makeTestPki('some other CA').caPem);
    // The agent token is never used: each attempt fails before a request is sent.
    const env = { GATEPASS_AGENT_TOKEN: 'gpa_never-sent' };
    const target = ['acme/networking', '--phase', 'plan'];
    const command = ['--', process.execPath, '-e', ''];

    const noCa = await run([...target, '--server', s.url, ...command], env);
    assert.equal(noCa.code, 1, noCa.stderr);
    assert.match(noCa.stderr, /The issuer could not be reached/);
    assert.match(
      noCa.stderr,
      new RegExp(
        `hint: the certificate of ${host} is not publicly trusted: pass --ca <data-dir>/tls/ca\\.pem`,
      ),
    );

    const otherCa = await run([...target, '--server', s.url, '--ca', wrongCa, ...command], env);
    assert.equal(otherCa.code, 1, otherCa.stderr);
    assert.match(otherCa.stderr, /hint: the certificate of .* is not signed by the CA given with --ca/);

    const plain = await run([...target, '--server', `http://${host}`, ...command], env);
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(
      plain.stderr,
      new RegExp(`hint: the node may be serving HTTPS: try --server https://${host}`),
    );
    const nobody = await run(
      [...target, '--server', `http://127.0.0.1:${await closedPort()}`, ...command],
      env,
    );
    assert.equal(nobody.code, 1, nobody.stderr);
    assert.match(
      nobody.stderr,
      /hint: nothing listens at 127\.0\.0\.1:\d+: is `gatepass serve` running there\? --server names the node/,
    );
    for (const r of [noCa, otherCa, plain, nobody]) assert.doesNotMatch(r.stderr, /gpa_never-sent/);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await s.stop();
  }
});

test('the TLS hints name the flag of the URL that failed (--server for the node, --sts-endpoint for an STS) and stay silent otherwise', () => {
  const sts = new URL('http://sts.example:8443/');
  assert.equal(
    tlsHint(sts, 'ECONNRESET', false, '--sts-endpoint'),
    'hint: the node may be serving HTTPS: try --sts-endpoint https://sts.example:8443 (with --ca for a local CA)',
  );
  assert.equal(
    tlsHint(new URL('https://sts.example/'), 'EPROTO', false, '--sts-endpoint'),
    'hint: the node serves plain HTTP: try --sts-endpoint http://sts.example',
  );
  assert.match(
    tlsHint(new URL('https://n/'), 'SELF_SIGNED_CERT_IN_CHAIN', false, '--server') ?? '',
    /pass --ca/,
  );
  assert.match(
    tlsHint(new URL('https://n/'), 'ERR_TLS_CERT_ALTNAME_INVALID', true, '--server') ?? '',
    /does not name this host/,
  );
  assert.equal(tlsHint(new URL('https://n/'), 'ECONNRESET', false, '--server'), undefined);
  assert.equal(tlsHint(sts, 'ECONNREFUSED', false, '--sts-endpoint'), undefined);
});
