// Errors a newcomer meets first, each with a one-line hint of what to do: plain HTTP to an HTTPS
// node, an HTTPS node whose local CA is not trusted, no admin token where the CLI looked, no node.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/cli/program.js';
import { startTestServer } from '../issuer/server.js';

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(['node', 'gatepass', ...args], {
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
    env: { NO_COLOR: '1' },
  });
  return { code, stderr };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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
