// The two floors bench/sts/targets.ts and workers.ts split issue 23's gaps with: the durable floor
// (an RS256 check and a synced row per call before its answer) and the SigV4 floor (a signature check
// and nothing else). A floor that skipped its work would make gatepass look slow for nothing, so
// these prove each does it: the durable floor's answered calls survive a SIGKILL of the server, and
// the SigV4 floor refuses whatever a real verifier refuses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { startSigv4Floor, startVerifyFloor } from '../../bench/lib/anchors.js';
import { signedCallerIdentity } from '../../bench/sts/requests.js';
import { httpsGet } from '../../src/cloud/oidc/https-get.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

const FORM = 'application/x-www-form-urlencoded; charset=utf-8';

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': FORM, ...headers } });
  await res.arrayBuffer();
  return res.status;
}

/** The IdP's published key, fetched as gatepass fetches it (HTTPS, trusted by the test CA). */
async function publishedKey(idp: TestIdp, pki: TestPki): Promise<object> {
  const jwks = await httpsGet(
    `${idp.issuer}/.well-known/jwks`,
    { thumbprints: [], ca: [pki.caPem] },
    { timeoutMs: 5000, maxBytes: 1 << 20 },
  );
  const [jwk] = (JSON.parse(jwks.body) as { keys: object[] }).keys;
  assert.ok(jwk, 'the IdP published a key');
  return jwk;
}

const webIdentityForm = (token: string): string =>
  new URLSearchParams({ Action: 'AssumeRoleWithWebIdentity', WebIdentityToken: token }).toString();

test('the durable floor keeps a row for every call it answered through a SIGKILL, and none for a bad token', async () => {
  const pki = makeTestPki();
  const idp = await startTestIdp(pki);
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-floor-test-'));
  try {
    const kid = 'k1';
    await idp.addKey(kid, 'RS256');
    const database = join(dir, 'floor.db');
    const floor = await startVerifyFloor(await publishedKey(idp, pki), 600, database);
    let killed = false;
    try {
      const token = await idp.sign(idp.claims({ sub: 'run-1' }), { kid });
      const statuses = await Promise.all(
        Array.from({ length: 40 }, () => post(floor.url, webIdentityForm(token))),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
      const [h, p, s = ''] = token.split('.');
      const forged = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      assert.equal(await post(floor.url, webIdentityForm(forged)), 403);
      process.kill(floor.pid, 'SIGKILL');
      killed = true;
      const db = new Database(database, { readonly: true });
      try {
        const rows = db.prepare('SELECT claims FROM issued').all() as { claims: string }[];
        assert.equal(rows.length, 40, 'every answered call has its row, and the refused one none');
        assert.equal((JSON.parse(rows[0]?.claims ?? '{}') as { sub?: string }).sub, 'run-1');
      } finally {
        db.close();
      }
    } finally {
      if (!killed) await floor.stop();
    }
  } finally {
    await idp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the durable floor holds its answer while it cannot commit, and answers once the row is in', async () => {
  const pki = makeTestPki();
  const idp = await startTestIdp(pki);
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-floor-test-'));
  try {
    await idp.addKey('k1', 'RS256');
    const database = join(dir, 'floor.db');
    const floor = await startVerifyFloor(await publishedKey(idp, pki), 600, database);
    const db = new Database(database);
    try {
      const token = await idp.sign(idp.claims({ sub: 'run-2' }), { kid: 'k1' });
      assert.equal(await post(floor.url, webIdentityForm(token)), 200);
      db.exec('BEGIN IMMEDIATE');
      let answered = 0;
      const held = post(floor.url, webIdentityForm(token)).then((status) => {
        answered = status;
        return status;
      });
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(answered, 0, 'no answer while its row cannot be committed');
      db.exec('COMMIT');
      assert.equal(await held, 200);
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM issued').get() as { n: number }).n, 2);
    } finally {
      db.close();
      await floor.stop();
    }
  } finally {
    await idp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A signed GetCallerIdentity as fetch sends it (it sets Host itself), its body replaced when told. */
async function signed(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  options: { body?: string; signingDate?: Date } = {},
): Promise<{ headers: Record<string, string>; body: string }> {
  const request = await signedCallerIdentity(url, credentials, options.signingDate);
  const { host: _host, ...headers } = request.headers;
  return { headers, body: options.body ?? request.body };
}

test('the SigV4 floor accepts a signed request and refuses a changed body, a wrong key, an unknown key and a stale date', async () => {
  const key = {
    accessKeyId: 'ASIAFLOORTEST0000001',
    secretAccessKey: 'floor-test-secret-key-0000000000000000000',
  };
  const floor = await startSigv4Floor({ [key.accessKeyId]: key.secretAccessKey }, 400);
  try {
    const send = async (r: { headers: Record<string, string>; body: string }): Promise<number> =>
      post(floor.url, r.body, r.headers);
    assert.equal(await send(await signed(floor.url, key)), 200);
    assert.equal(
      await send(await signed(floor.url, key, { body: 'Action=GetCallerIdentity&Version=2011-06-16' })),
      403,
      'a body other than the one signed',
    );
    assert.equal(
      await send(await signed(floor.url, { ...key, secretAccessKey: `${key.secretAccessKey}x` })),
      403,
      'signed with another secret',
    );
    assert.equal(
      await send(await signed(floor.url, { ...key, accessKeyId: 'ASIAFLOORTEST0000002' })),
      403,
      'an access key the floor does not know',
    );
    assert.equal(
      await send(await signed(floor.url, key, { signingDate: new Date(Date.now() - 20 * 60_000) })),
      403,
      'signed 20 minutes ago',
    );
    assert.equal(await post(floor.url, 'Action=GetCallerIdentity'), 403, 'not signed at all');
  } finally {
    await floor.stop();
  }
});
