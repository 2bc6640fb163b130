import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/cli/program.js';
import { tempDir } from '../helpers/temp.js';
import { plainVerify } from './helpers.js';
import { startTestServer, type TestServer } from './server.js';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[]): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'gatepass', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { NO_COLOR: '1' },
  });
  return { code, stdout, stderr };
}

async function withServer(fn: (s: TestServer, auth: string[]) => Promise<void>): Promise<void> {
  const s = await startTestServer();
  try {
    await fn(s, ['--server', s.url, '--token', s.adminToken]);
  } finally {
    await s.stop();
  }
}

test('the CLI administers orgs, workspaces, variables and agent tokens through the API', async () => {
  await withServer(async (_s, auth) => {
    const org = await cli(['org', 'create', 'acme', ...auth, '--json']);
    assert.equal(org.code, 0, org.stderr);
    assert.match(org.stdout, /"name":"acme"/);
    assert.equal(
      (await cli(['workspace', 'create', 'acme/networking', '--plan-timeout', '3600', ...auth])).code,
      0,
    );
    const wsList = await cli(['workspace', 'list', 'acme', ...auth]);
    assert.match(wsList.stdout, /networking\s+prj-\w+\s+3600\s+86400/);
    assert.match((await cli(['project', 'list', 'acme', ...auth])).stdout, /Default Project/);

    assert.equal(
      (await cli(['var', 'set', 'acme/networking', 'SECRET=hunter2', '--sensitive', ...auth])).code,
      0,
    );
    assert.equal(
      (await cli(['var', 'set', 'acme/networking', 'TFC_AWS_PROVIDER_AUTH=true', ...auth])).code,
      0,
    );
    const vars = await cli(['var', 'list', 'acme/networking', ...auth]);
    assert.match(vars.stdout, /SECRET\s+\(sensitive\)/);
    assert.match(vars.stdout, /TFC_AWS_PROVIDER_AUTH\s+true/);
    assert.ok(!vars.stdout.includes('hunter2'));

    const at = await cli(['agent-token', 'create', 'acme', '--description', 'ci', ...auth]);
    assert.equal(at.code, 0);
    assert.match(at.stdout.trim(), /^gpat_[A-Za-z0-9_-]{43}$/);
    assert.match(at.stderr, /not shown again/);
    const listed = await cli(['agent-token', 'list', 'acme', ...auth]);
    assert.match(listed.stdout, /at-\w+\s+ci/);
    assert.ok(!listed.stdout.includes(at.stdout.trim()));
  });
});

test('API errors reach the user naming the bad field, with a failure exit code', async () => {
  await withServer(async (_s, auth) => {
    const bad = await cli(['org', 'create', 'has space', ...auth]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: A field of the request is invalid\. \(name: may contain only/);
    const unauth = await cli(['org', 'list', '--server', auth[1] ?? '', '--token', 'gpadm_nope']);
    assert.equal(unauth.code, 1);
    assert.match(unauth.stderr, /bearer token is required/);
    const down = await cli(['org', 'list', '--server', 'http://127.0.0.1:1', '--token', 'x']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach/);
  });
});

test('token mint gives a token that decode shows and the exported JWKS verifies; keys rotate and trim', async () => {
  await withServer(async (s, auth) => {
    await cli(['org', 'create', 'acme', ...auth]);
    await cli(['workspace', 'create', 'acme/app', ...auth]);
    const minted = await cli(['token', 'mint', 'acme/app', '--phase', 'apply', '--lifetime', '600', ...auth]);
    assert.equal(minted.code, 0, minted.stderr);
    const token = minted.stdout.trim();

    const decoded = await cli(['token', 'decode', token, '--json']);
    assert.equal(decoded.code, 0);
    const parsed = JSON.parse(decoded.stdout) as {
      header: Record<string, unknown>;
      claims: Record<string, unknown>;
    };
    assert.equal(
      parsed.claims.sub,
      'organization:acme:project:Default Project:workspace:app:run_phase:apply',
    );
    assert.equal(parsed.header.alg, 'RS256');
    // The server's clock is fixed in the past: decoding now (real time) sees an expired token.
    assert.match(decoded.stderr, /warning: token expired at/);
    const pretty = await cli(['token', 'decode', token]);
    assert.match(pretty.stdout, /^header\n\{/);
    assert.match(pretty.stdout, /"terraform_run_phase": "apply"/);
    assert.match(pretty.stdout, /^exp {2}\d{4}-/m);
    assert.equal((await cli(['token', 'decode', 'not-a-jwt'])).code, 2);

    const dir = await tempDir('gatepass-discovery-');
    const exported = await cli(['discovery', 'export', dir, ...auth]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /is not https/);
    const config = JSON.parse(
      await readFile(join(dir, '.well-known/openid-configuration'), 'utf8'),
    ) as Record<string, unknown>;
    assert.equal(config.issuer, s.url);
    const jwks = JSON.parse(await readFile(join(dir, '.well-known/jwks'), 'utf8')) as {
      keys: Record<string, unknown>[];
    };
    assert.equal(plainVerify(token, jwks.keys).payload.aud, 'aws.workload.identity');

    const rotated = await cli(['keys', 'rotate', ...auth]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /key [\w-]{43} is pending, signing from \d{4}-/);
    const keys = await cli(['keys', 'list', ...auth]);
    assert.match(keys.stdout, /RS256\s+active/);
    assert.match(keys.stdout, /RS256\s+pending/);
    assert.match((await cli(['keys', 'trim', ...auth])).stdout, /nothing to trim/);
  });
});

test('keys revoke: the signer is replaced at once; a malformed kid is a usage error, an unknown one not found, one beginning with - is a kid', async () => {
  await withServer(async (_s, auth) => {
    const listed = await cli(['keys', 'list', '--json', ...auth]);
    const signer = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kid: string; state: string })
      .find((k) => k.state === 'active');
    assert.ok(signer);
    const bad = await cli(['keys', 'revoke', 'not-a-kid', ...auth]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /kid: expected a 43-character key id/);
    const unknown = await cli(['keys', 'revoke', 'A'.repeat(43), ...auth]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not_found|No such resource/);
    // A kid may begin with '-' (base64url): it reaches the server, before or after the options.
    for (const args of [
      ['-'.padEnd(43, 'A'), ...auth],
      [...auth, '-'.padEnd(43, 'B'), '--json'],
    ]) {
      const dashed = await cli(['keys', 'revoke', ...args]);
      assert.equal(dashed.code, 1, dashed.stderr);
      assert.match(dashed.stderr, /not_found|No such resource/);
    }
    const revoked = await cli(['keys', 'revoke', signer.kid, ...auth]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`key ${signer.kid} is revoked; key [\\w-]{43} signs from now`));
    const after = await cli(['keys', 'list', '--json', ...auth]);
    assert.match(after.stdout, new RegExp(`"kid":"${signer.kid}"[^\\n]*"state":"removed"`));
  });
});
