// Removing a signing key takes effect at once. On the node where `keys trim --force` or `keys revoke`
// runs, a token signed by the removed key is refused as soon as the command returns, however warm
// the JWKS cache, and so are the sessions minted from its tokens (chained ones included); another
// node on the same store refuses it within a second (change feed); a cloud side of another
// deployment, which only sees the issuer's JWKS, drops the key at its first refetch (an unknown kid,
// within its rate limit). Over real HTTPS against a node whose cloud side trusts its own issuer.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { send } from '../../src/agent/http-client.js';
import { type Cloud, createCloud } from '../../src/cloud/assemble.js';
import { httpsGet } from '../../src/cloud/oidc/https-get.js';
import { JwksCache } from '../../src/cloud/oidc/jwks.js';
import { RemovedSigningKeys } from '../../src/cloud/oidc/removed-keys.js';
import { verifyWebIdentityToken } from '../../src/cloud/oidc/verify.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { createJsonLogger } from '../../src/server/log.js';
import { loadMasterKey } from '../../src/server/master-key.js';
import type { OidcProviderRecord } from '../../src/store/records/iam.js';
import { type AgentNode, startAgentNode } from '../agent/helpers/node.js';
import { cli } from '../explain/helpers.js';
import type { Keys } from '../helpers/cloud.js';

let node: AgentNode;
let admin: string;
before(async () => {
  node = await startAgentNode();
  admin = (await readFile(`${node.dataDir}/admin-token`, 'utf8')).trim();
});
after(() => node?.stop());

interface KeyJson {
  kid: string;
  state: string;
  revokedAt?: number;
}
/** The fields of the issuer API's answers these tests read. */
interface ApiJson {
  token?: string;
  removed?: string[];
  revoked?: KeyJson;
  signer?: KeyJson;
  items?: KeyJson[];
  error?: { code: string; field?: string };
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: ApiJson }> {
  const res = await send(
    new URL(`${node.url}/api/v1${path}`),
    {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    },
    { ca: [node.caPem] },
  );
  return { status: res.status, json: JSON.parse(res.body.toString('utf8') || '{}') };
}

/** A plan token of workspace acme/networking, signed by the active key. */
async function mint(): Promise<{ token: string; kid: string }> {
  const r = await api('POST', '/tokens', { organization: 'acme', workspace: 'networking', phase: 'plan' });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const token = String(r.json.token);
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
  return { token, kid: String(header.kid) };
}

const sts = (credentials?: Keys) =>
  new STSClient({
    endpoint: node.url,
    region: 'us-east-1',
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: node.caPem }) },
    ...(credentials ? { credentials } : {}),
  });

/** AssumeRoleWithWebIdentity into gp-plan: the session's keys, or the AWS error code. */
async function exchange(token: string): Promise<Keys | string> {
  const res = await send(
    new URL(`${node.url}/`),
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        Action: 'AssumeRoleWithWebIdentity',
        Version: '2011-06-15',
        RoleArn: `arn:aws:iam::${node.hub}:role/gp-plan`,
        RoleSessionName: 'key-removal',
        WebIdentityToken: token,
      }).toString(),
    },
    { ca: [node.caPem] },
  );
  const xml = res.body.toString('utf8');
  const pick = (tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1] ?? '';
  if (res.status !== 200) return pick('Code');
  return {
    accessKeyId: pick('AccessKeyId'),
    secretAccessKey: pick('SecretAccessKey'),
    sessionToken: pick('SessionToken'),
  };
}

async function whoami(credentials: Keys): Promise<string> {
  try {
    await sts(credentials).send(new GetCallerIdentityCommand({}));
    return 'ok';
  } catch (e) {
    return (e as { name: string }).name;
  }
}

function keysOf(r: Keys | string): Keys {
  assert.ok(typeof r !== 'string', `expected a session, got ${String(r)}`);
  return r;
}

async function chained(session: Keys): Promise<Keys> {
  const out = await sts(session).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${node.member}:role/reader`, RoleSessionName: 'chained' }),
  );
  const c = out.Credentials;
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
}

/** Another node on the same store: its own cloud side, JWKS cache and change-feed timer. */
async function secondNode(): Promise<Cloud> {
  return createCloud({
    store: node.app.store,
    masterKey: loadMasterKey({ dataDir: node.dataDir }),
    clock: systemClock,
    random: cryptoRandom,
    log: createJsonLogger({ level: 'error', stream: { write: () => true } }),
    bodyLimitBytes: 1 << 20,
    extraCa: [node.caPem],
  });
}

async function hubProvider(): Promise<OidcProviderRecord> {
  const [provider] = await node.app.store.list('oidcProvider', {
    index: { name: 'account', value: node.hub },
  });
  assert.ok(provider);
  return provider;
}

// One keyring for the whole file: these tests rotate and remove its keys, so they run in order.
describe('signing key removal', { concurrency: 1 }, () => {
  test('a mint touches the signing key record but changes no key state: nodes keep their JWKS cache', async () => {
    const keys = new RemovedSigningKeys(node.app.store);
    assert.equal(await keys.load(), true);
    await mint();
    assert.equal(await keys.load(), false, 'a mint is not a key change');
    assert.equal((await api('POST', '/keys/rotate', {})).status, 201);
    assert.equal(await keys.load(), true, 'a new key is');
  });

  test('rotate --immediate: a token of the new key verifies on this node as soon as rotate returns', async () => {
    const before = await mint();
    assert.equal(await whoami(keysOf(await exchange(before.token))), 'ok'); // the JWKS is cached
    assert.equal((await api('POST', '/keys/rotate', { immediate: true })).status, 201);
    const after = await mint();
    assert.notEqual(after.kid, before.kid);
    assert.equal(await whoami(keysOf(await exchange(after.token))), 'ok');
  });

  test('keys rotate --immediate then trim --force: the old key is refused on this node the moment trim returns, with its sessions', async () => {
    const old = await mint();
    const session = keysOf(await exchange(old.token)); // warms this node's JWKS cache with the old key
    const chain = await chained(session);
    assert.deepEqual([await whoami(session), await whoami(chain)], ['ok', 'ok']);
    const other = await secondNode();
    try {
      const provider = await hubProvider();
      await other.sts.verifyToken(old.token, provider, Date.now()); // the other node's cache is warm too

      assert.equal((await api('POST', '/keys/rotate', { immediate: true })).status, 201);
      const trimmed = await api('POST', '/keys/trim', { force: true });
      assert.equal(trimmed.status, 200);
      assert.ok(trimmed.json.removed?.includes(old.kid));

      // No waiting: the same node has applied it before answering.
      assert.equal(await exchange(old.token), 'InvalidIdentityToken');
      // The refusal is on record with the key, and explain says which key went, when and how.
      await node.cloud.flushAudit();
      const [refused] = await node.app.store.queryAudit({
        action: 'sts:AssumeRoleWithWebIdentity',
        decision: 'deny',
        limit: 1,
        latest: true,
      });
      assert.equal(refused?.detail?.removedKid, old.kid);
      const explained = await cli(['explain', refused?.requestId ?? '', '--data-dir', node.dataDir]);
      assert.equal(explained.code, 0, explained.stderr);
      assert.match(
        explained.stdout,
        new RegExp(
          `fix: the token is signed by key ${old.kid}, which this deployment's issuer revoked as leaked at \\d{4}-`,
        ),
      );
      assert.deepEqual(
        [await whoami(session), await whoami(chain)],
        ['InvalidClientTokenId', 'InvalidClientTokenId'],
      );
      const fresh = await mint();
      assert.notEqual(fresh.kid, old.kid);
      assert.equal(await whoami(keysOf(await exchange(fresh.token))), 'ok');

      // The other node, through the change feed on its own timer (polled every 250 ms here).
      const started = performance.now();
      for (;;) {
        const refused = await other.sts.verifyToken(old.token, provider, Date.now()).then(
          () => false,
          (e: { code?: string }) => e.code === 'InvalidIdentityToken',
        );
        if (refused) break;
        assert.ok(performance.now() - started < 1000, 'the other node refuses the key within a second');
        await new Promise((r) => setTimeout(r, 20));
      }
      await other.sts.verifyToken(fresh.token, provider, Date.now());
    } finally {
      await other.stop();
    }
  });

  test('keys revoke on the signing key: a new key signs at once, the old one and its sessions are refused', async () => {
    const old = await mint();
    const session = keysOf(await exchange(old.token));
    const r = await api('POST', `/keys/${old.kid}/revoke`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.revoked?.kid, old.kid);
    assert.equal(r.json.revoked?.state, 'removed');
    assert.equal(typeof r.json.revoked?.revokedAt, 'number');
    assert.equal(r.json.signer?.state, 'active');
    assert.equal(await exchange(old.token), 'InvalidIdentityToken');
    assert.equal(await whoami(session), 'InvalidClientTokenId');
    const fresh = await mint();
    assert.equal(fresh.kid, r.json.signer?.kid);
    assert.equal(await whoami(keysOf(await exchange(fresh.token))), 'ok');
    const jwks = await send(
      new URL(`${node.url}/.well-known/jwks`),
      { method: 'GET', headers: {} },
      { ca: [node.caPem] },
    );
    const published = (JSON.parse(jwks.body.toString('utf8')) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
    assert.ok(!published.includes(old.kid), 'the revoked key is no longer published');

    // Again: nothing changes, no second replacement key.
    const again = await api('POST', `/keys/${old.kid}/revoke`);
    assert.equal(again.status, 200);
    assert.equal(again.json.signer, undefined);
    assert.equal((await mint()).kid, fresh.kid);
  });

  test('keys revoke with a bad or unknown kid, or a body, is a clear error and changes nothing', async () => {
    const before = (await api('GET', '/keys')).json.items;
    const unknown = await api('POST', `/keys/${'A'.repeat(43)}/revoke`);
    assert.deepEqual([unknown.status, unknown.json.error?.code], [404, 'not_found']);
    const bad = await api('POST', '/keys/not-a-kid/revoke');
    assert.deepEqual(
      [bad.status, bad.json.error?.code, bad.json.error?.field],
      [400, 'invalid_field', 'kid'],
    );
    const active = before?.find((k) => k.state === 'active');
    assert.ok(active);
    const extra = await api('POST', `/keys/${active.kid}/revoke`, { force: true });
    assert.deepEqual([extra.status, extra.json.error?.code], [400, 'invalid_field']);
    assert.deepEqual((await api('GET', '/keys')).json.items, before);
  });

  test('a cloud side of another deployment drops a removed key at its first JWKS refetch, on the next unknown kid', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const jwks = new JwksCache(httpsGet, clock, {
      ttlMs: 10 * 60_000,
      refetchIntervalMs: 30_000,
      timeoutMs: 5_000,
      maxKeys: 100,
      maxBytes: 512 * 1024,
    });
    const provider = await hubProvider();
    const verify = (token: string) =>
      verifyWebIdentityToken(token, provider, jwks, { now, ca: [node.caPem] }).then(
        () => 'ok',
        (e: { code?: string }) => e.code ?? 'error',
      );
    const old = await mint();
    assert.equal(await verify(old.token), 'ok');
    assert.equal((await api('POST', '/keys/rotate', { immediate: true })).status, 201);
    assert.equal((await api('POST', '/keys/trim', { force: true })).status, 200);
    const fresh = await mint();
    // Within the refetch rate limit it knows neither the new kid nor that the old one went.
    assert.equal(await verify(fresh.token), 'InvalidIdentityToken');
    now += 30_000;
    // The unknown kid refetches: the new key is known, the removed one is gone.
    assert.equal(await verify(fresh.token), 'ok');
    assert.equal(await verify(old.token), 'InvalidIdentityToken');
  });
});
