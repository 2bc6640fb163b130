import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { resolveRunConfig } from '../../src/agent/config.js';
import { ENDPOINT_TOKEN_FILE } from '../../src/agent/credential-process.js';
import {
  type CredentialServer,
  RefreshingCredentials,
  startCredentialServer,
} from '../../src/agent/credential-server.js';
import { deliverFiles } from '../../src/agent/delivery.js';
import { runAgent } from '../../src/agent/run.js';
import type { AwsCredentials } from '../../src/agent/sts-client.js';
import { fixedClock } from '../../src/core/deps.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { runChild } from '../helpers/child.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startTestSts, type TestSts } from './helpers/sts-server.js';

const root = new URL('../..', import.meta.url).pathname;
const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function creds(n: number, expiration: number): AwsCredentials {
  return { accessKeyId: `ASIA${n}`, secretAccessKey: `s${n}`, sessionToken: `t${n}`, expiration };
}

async function get(server: CredentialServer, path: string, auth?: string, method = 'GET') {
  const url = new URL(server.url(''));
  const res = await fetch(`${url.origin}${path}`, {
    method,
    headers: auth === undefined ? {} : { authorization: auth },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('credentials are reused until 15 minutes before expiry (botocore refreshes from then on), then fetched again', async () => {
  const clock = fixedClock(T0);
  let n = 0;
  const source = new RefreshingCredentials(async () => creds(++n, clock.now() + 60 * MIN), clock);
  assert.equal((await source.get()).accessKeyId, 'ASIA1');
  clock.advance(44 * MIN);
  assert.equal((await source.get()).accessKeyId, 'ASIA1');
  clock.advance(1 * MIN);
  assert.equal(source.needsRefresh(), true);
  assert.equal((await source.get()).accessKeyId, 'ASIA2');
  assert.equal(source.fetches, 2);
});

test('short sessions refresh at half-life instead', async () => {
  const clock = fixedClock(T0);
  let n = 0;
  const source = new RefreshingCredentials(async () => creds(++n, clock.now() + 20 * MIN), clock);
  await source.get();
  clock.advance(10 * MIN - 1);
  assert.equal(source.needsRefresh(), false);
  clock.advance(1);
  assert.equal(source.needsRefresh(), true);
  assert.equal((await source.get()).accessKeyId, 'ASIA2');
});

test('concurrent requests during a refresh share one fetch; seeded credentials are served first', async () => {
  const clock = fixedClock(T0);
  let n = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const source = new RefreshingCredentials(async () => {
    await gate;
    return creds(++n, clock.now() + 60 * MIN);
  }, clock);
  source.seed(creds(0, T0 + 60 * MIN));
  assert.equal((await source.get()).accessKeyId, 'ASIA0');
  clock.advance(58 * MIN);
  const all = Promise.all([source.get(), source.get(), source.get()]);
  release();
  assert.deepEqual(
    (await all).map((c) => c.accessKeyId),
    ['ASIA1', 'ASIA1', 'ASIA1'],
  );
  assert.equal(source.fetches, 1);
});

test('the endpoint requires the authorization token and serves each configuration in the container format', async () => {
  const clock = fixedClock(T0);
  const sources = new Map([
    ['', new RefreshingCredentials(async () => creds(1, T0 + 60 * MIN), clock)],
    ['member', new RefreshingCredentials(async () => creds(2, T0 + 60 * MIN), clock)],
    [
      'broken',
      new RefreshingCredentials(async () => {
        throw new Error('secret detail');
      }, clock),
    ],
  ]);
  const errors: string[] = [];
  const server = await startCredentialServer({
    sources,
    random: cryptoRandom,
    onError: (tag) => errors.push(tag),
  });
  try {
    assert.match(server.url(''), /^http:\/\/127\.0\.0\.1:\d+\/default$/);
    assert.equal(Buffer.from(server.authorizationToken, 'base64url').length, 32);
    assert.equal((await get(server, '/default')).status, 401);
    assert.equal((await get(server, '/default', 'wrong')).status, 401);
    assert.equal((await get(server, '/default', `${server.authorizationToken}x`)).status, 401);
    const ok = await get(server, '/default', server.authorizationToken);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, {
      Code: 'Success',
      Type: 'AWS-HMAC',
      AccessKeyId: 'ASIA1',
      SecretAccessKey: 's1',
      Token: 't1',
      Expiration: '2026-01-01T01:00:00Z',
    });
    assert.equal((await get(server, '/member', server.authorizationToken)).body.AccessKeyId, 'ASIA2');
    assert.equal((await get(server, '/nope', server.authorizationToken)).status, 404);
    assert.equal((await get(server, '/default', server.authorizationToken, 'POST')).status, 405);
    const broken = await get(server, '/broken', server.authorizationToken);
    assert.equal(broken.status, 502);
    assert.ok(!JSON.stringify(broken.body).includes('secret detail'));
    assert.deepEqual(errors, ['broken']);
  } finally {
    await server.close();
  }
});

test('credential_process: the script prints the configuration in the process format, and fails cleanly once the run is gone', async () => {
  const clock = fixedClock(T0);
  const server = await startCredentialServer({
    sources: new Map([['member', new RefreshingCredentials(async () => creds(7, T0 + 60 * MIN), clock)]]),
    random: cryptoRandom,
  });
  const dir = await mkdtemp(join(tmpdir(), 'gatepass-agent-process-'));
  try {
    const config = resolveRunConfig({
      variables: new Map([
        ['TFC_AWS_PROVIDER_AUTH_member', 'true'],
        ['TFC_AWS_RUN_ROLE_ARN_member', 'arn:aws:iam::111122223333:role/run'],
      ]),
      phase: 'plan',
      runId: 'run-p1',
    });
    const d = await deliverFiles(dir, config, new Map(), { served: server });
    const file = d.configs[0]?.configFile ?? '';
    const command = /^credential_process = (.*)$/m.exec(await readFile(file, 'utf8'))?.[1] ?? '';
    // As the Go and JS SDKs run it (sh -c); botocore splits the same words with shlex.
    const ok = await runChild('sh', ['-c', command], { env: {} });
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), {
      Version: 1,
      AccessKeyId: 'ASIA7',
      SecretAccessKey: 's7',
      SessionToken: 't7',
      Expiration: '2026-01-01T01:00:00Z',
    });

    await writeFile(join(dir, ENDPOINT_TOKEN_FILE), 'wrong');
    const refused = await runChild('sh', ['-c', command], { env: {} });
    assert.equal(refused.status, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^gatepass credential_process: HTTP 401 Unauthorized: /);

    await server.close();
    const down = await runChild('sh', ['-c', command], { env: {} });
    assert.equal(down.status, 1);
    assert.match(down.stderr, /credential endpoint is unreachable \(ECONNREFUSED\)/);
    await rm(join(dir, ENDPOINT_TOKEN_FILE));
    const gone = await runChild('sh', ['-c', command], { env: {} });
    assert.match(gone.stderr, /the run has ended/);
    for (const r of [refused, down, gone]) assert.ok(!r.stderr.includes(server.authorizationToken));
  } finally {
    await server.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

refreshEndToEnd();

function refreshEndToEnd(): void {
  let issuer: TestIssuer;
  let sts: TestSts;
  let scratch: string;
  before(async () => {
    [issuer, sts] = await Promise.all([startTestIssuer(), startTestSts()]);
    scratch = await mkdtemp(join(tmpdir(), 'gatepass-agent-refresh-'));
  });
  after(async () => {
    await Promise.all([issuer.stop(), sts.close()]);
    await rm(scratch, { recursive: true, force: true });
  });

  test('--refresh: an SDK child on container credentials gets re-minted, re-chained sessions as they expire', async () => {
    const hub = 'arn:aws:iam::111122223333:role/hub';
    const member = 'arn:aws:iam::444455556666:role/member';
    const ws = await issuer.addWorkspace('refresh', {
      TFC_AWS_PROVIDER_AUTH: 'true',
      TFC_AWS_RUN_ROLE_ARN: hub,
      GATEPASS_AWS_CHAIN_ROLE_ARN: member,
      GATEPASS_AWS_STS_ENDPOINT: sts.url,
    });
    // Sessions that are already due for refresh whenever they are asked for.
    sts.lifetimeSeconds = 0;
    const out = join(scratch, 'out.json');
    const script = `
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { writeFileSync } from 'node:fs';
const arns = [];
for (let i = 0; i < 2; i++) arns.push((await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn);
writeFileSync(process.argv[1], JSON.stringify({ arns, uri: process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? null,
  roleArn: process.env.AWS_ROLE_ARN ?? null }));`;
    const before = sts.calls.length;
    const lines: string[] = [];
    const outcome = await runAgent({
      organization: 'acme',
      workspace: ws,
      phase: 'apply',
      issuerUrl: issuer.url,
      agentToken: issuer.agentToken,
      refresh: true,
      keepFiles: false,
      command: [process.execPath, '--input-type=module', '-e', script, out],
      env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      cwd: root,
      log: { info: (m) => lines.push(m), warn: (m) => lines.push(m) },
      clock: systemClock,
      random: cryptoRandom,
      interactive: false,
      runDirBase: join(scratch, 'runs'),
    });
    sts.lifetimeSeconds = 3600;
    assert.equal(outcome.exitCode, 0, lines.join('\n'));
    const seen = JSON.parse(await readFile(out, 'utf8')) as {
      arns: string[];
      uri: string;
      roleArn: string | null;
    };
    assert.match(seen.uri, /^http:\/\/127\.0\.0\.1:\d+\/default$/);
    assert.equal(seen.roleArn, null);
    const sessionName = `gatepass-${outcome.runId}-apply`;
    assert.deepEqual(seen.arns, [
      `arn:aws:sts::444455556666:assumed-role/member/${sessionName}`,
      `arn:aws:sts::444455556666:assumed-role/member/${sessionName}`,
    ]);
    const calls = sts.calls.slice(before);
    const identityKeys = calls.filter((c) => c.action === 'GetCallerIdentity').map((c) => c.accessKeyId);
    assert.equal(identityKeys.length, 2);
    assert.notEqual(identityKeys[0], identityKeys[1], 'the second call used refreshed credentials');
    assert.ok(calls.filter((c) => c.action === 'AssumeRole' && c.params.RoleArn === member).length >= 2);
    // One token for the delivery, one more per refresh.
    const mints = await issuer.call('GET', `/runs/${outcome.runId}/tokens`);
    assert.ok((mints.json as { items: unknown[] }).items.length >= 3);
    assert.equal(outcome.revoked, true);
  });
}
