// Sealed session credentials, the revocation set and the audit log's group commit, on a real SQLite
// store shared by two "nodes".
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AuditLog } from '../../src/cloud/audit/audit-log.js';
import type { SessionClaims } from '../../src/cloud/caller/caller.js';
import {
  newSessionIds,
  openSession,
  SessionOpener,
  sealSession,
} from '../../src/cloud/sessions/credentials.js';
import { SealingKeys } from '../../src/cloud/sessions/keys.js';
import {
  Revocations,
  revocationId,
  revocationRecord,
  runRevocationRecord,
} from '../../src/cloud/sessions/revocations.js';
import { fixedClock } from '../../src/core/deps.js';
import type { Logger } from '../../src/http/log.js';
import { cryptoRandom, seededRandom } from '../../src/runtime/random.js';
import { openStore } from '../../src/store/open.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { tweak } from '../helpers/aws.js';
import { overrideStore } from '../helpers/store-proxy.js';

const root = mkdtempSync(join(tmpdir(), 'gatepass-sessions-'));
after(() => rmSync(root, { recursive: true, force: true }));
const master = cryptoRandom.bytes(32);
const clock = fixedClock(1_800_000_000_000);
let n = 0;

async function node(dataDir = join(root, `n${++n}`)) {
  const store = await openStore({ dataDir });
  const keys = new SealingKeys(store, master, cryptoRandom, clock);
  await keys.load();
  const revocations = new Revocations(store);
  await revocations.load();
  return { dataDir, store, keys, revocations };
}

function claims(overrides: Partial<SessionClaims> = {}): SessionClaims {
  return {
    ...newSessionIds(cryptoRandom, Date.now()),
    accountId: '111111111111',
    roleId: 'AROAEXAMPLEEXAMPLE012',
    roleName: 'net-plan',
    rolePath: '/',
    sessionName: 'run-abc',
    iat: 1_800_000_000,
    exp: 1_800_003_600,
    chainDepth: 1,
    tags: {},
    transitiveTagKeys: [],
    runId: 'run-abc',
    ...overrides,
  };
}

test('a sealed session opens to the same claims and secret; the key id is ASIA plus 16 base32 characters', async () => {
  const { store, keys } = await node();
  try {
    const c = claims();
    const creds = sealSession(keys, c, cryptoRandom);
    assert.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(creds.secretAccessKey.length, 40);
    const opened = openSession(keys, creds.accessKeyId, creds.sessionToken);
    assert.deepEqual(opened?.claims, c);
    assert.equal(opened?.secretAccessKey, creds.secretAccessKey);
  } finally {
    await store.close();
  }
});

test('a token presented with another key id, a tampered token or a foreign token does not open', async () => {
  const { store, keys } = await node();
  try {
    const a = sealSession(keys, claims(), cryptoRandom);
    const b = sealSession(keys, claims(), cryptoRandom);
    assert.equal(openSession(keys, b.accessKeyId, a.sessionToken), undefined);
    const flipped = tweak(a.sessionToken, 3);
    assert.equal(openSession(keys, a.accessKeyId, flipped), undefined);
    assert.equal(openSession(keys, a.accessKeyId, 'FwoGZXIvYXdzEB8aDK'), undefined);
    assert.equal(openSession(keys, a.accessKeyId, `GP1.99.${a.sessionToken.split('.')[2]}`), undefined);
  } finally {
    await store.close();
  }
});

test('any node opens any node’s tokens; after rotation old tokens still open and new ones use the new key', async () => {
  const one = await node();
  const two = await node(one.dataDir);
  try {
    const before = sealSession(one.keys, claims(), cryptoRandom);
    assert.ok(openSession(two.keys, before.accessKeyId, before.sessionToken));
    const version = await one.keys.rotate();
    assert.equal(version, 2);
    const afterRotation = sealSession(one.keys, claims(), cryptoRandom);
    assert.match(afterRotation.sessionToken, /^GP1\.2\./);
    assert.ok(openSession(one.keys, before.accessKeyId, before.sessionToken));
    await two.keys.load();
    assert.ok(openSession(two.keys, afterRotation.accessKeyId, afterRotation.sessionToken));
  } finally {
    await one.store.close();
    await two.store.close();
  }
});

test('revocations by session, run and role apply at once locally and reach another node through sync', async () => {
  const one = await node();
  const two = await node(one.dataDir);
  try {
    const roleArn = 'arn:aws:iam::111111111111:role/net-plan';
    const s1 = claims();
    const ISS = 'https://issuer.example';
    const s2 = claims({ runId: 'run-xyz', runIssuer: ISS });
    const foreign = claims({ runId: 'run-xyz', runIssuer: 'https://another-issuer.example' });
    const s3 = claims({ runId: 'run-other', iat: 1_800_000_100 });
    assert.equal(one.revocations.check(s1, roleArn), undefined);

    const base = { createdAt: clock.now(), expiresAt: clock.now() + 3_600_000, reason: 'test' };
    await one.revocations.revoke({
      id: revocationId('session', s1.sid),
      scope: 'session',
      subject: s1.sid,
      ...base,
    });
    await one.revocations.revoke(runRevocationRecord({ issuer: ISS, runId: 'run-xyz' }, clock.now(), 'test'));
    assert.equal(one.revocations.check(s1, roleArn), 'session');
    assert.equal(one.revocations.check(s2, roleArn), 'run');
    assert.equal(one.revocations.check(foreign, roleArn), undefined, "another issuer's run of the same id");
    assert.equal(two.revocations.check(s1, roleArn), undefined, 'not yet synced');
    assert.equal(await two.revocations.sync(), 2);
    assert.equal(two.revocations.check(s1, roleArn), 'session');
    assert.equal(two.revocations.check(s2, roleArn), 'run');
    assert.equal(two.revocations.isRunRevoked({ issuer: ISS, runId: 'run-xyz' }), true);
    assert.equal(
      two.revocations.isRunRevoked({ issuer: 'https://another-issuer.example', runId: 'run-xyz' }),
      false,
    );

    // "Revoke older sessions": only sessions issued before the instant.
    await two.revocations.revoke({
      id: revocationId('role', roleArn),
      scope: 'role',
      subject: roleArn,
      issuedBefore: 1_800_000_050_000,
      ...base,
    });
    await one.revocations.sync();
    assert.equal(one.revocations.check(claims(), roleArn), 'role');
    assert.equal(one.revocations.check(s3, roleArn), undefined);
    assert.equal(one.revocations.check(claims(), 'arn:aws:iam::111111111111:role/other'), undefined);
  } finally {
    await one.store.close();
    await two.store.close();
  }
});

test('expired revocations are pruned from memory and the store; live ones stay', async () => {
  const one = await node();
  try {
    const base = { createdAt: clock.now(), reason: 'test' };
    const ISS = 'https://issuer.example';
    await one.revocations.revoke({
      ...runRevocationRecord({ issuer: ISS, runId: 'old' }, clock.now(), 'test'),
      ...base,
      expiresAt: clock.now() - 1,
    });
    await one.revocations.revoke({
      ...runRevocationRecord({ issuer: ISS, runId: 'live' }, clock.now(), 'test'),
      ...base,
      expiresAt: clock.now() + 1000,
    });
    assert.equal(await one.revocations.prune(clock.now()), 1);
    assert.equal(one.revocations.isRunRevoked({ issuer: ISS, runId: 'old' }), false);
    assert.equal(one.revocations.isRunRevoked({ issuer: ISS, runId: 'live' }), true);
    assert.deepEqual(
      (await one.store.list('revocation')).map((r) => r.id),
      [`run:${ISS} live`],
    );
  } finally {
    await one.store.close();
  }
});

test('the session opener memoises opened tokens by key id, answers from the cache only for the token opened, never keeps a failed open, and stays bounded', async () => {
  const { store, keys } = await node();
  try {
    const opener = new SessionOpener(keys, 2);
    const a = sealSession(keys, claims(), cryptoRandom);
    const first = opener.open(a.accessKeyId, a.sessionToken);
    assert.ok(first);
    assert.equal(opener.open(a.accessKeyId, a.sessionToken), first, 'the second open is the cached one');
    // Another key id with the same token does not hit the cache entry and does not open.
    const b = sealSession(keys, claims(), cryptoRandom);
    assert.equal(opener.open(b.accessKeyId, a.sessionToken), undefined);
    assert.equal(opener.open(a.accessKeyId, tweak(a.sessionToken, 3)), undefined);
    // A cached key id with any other token is opened in full (and refused), never answered from the cache.
    assert.equal(opener.open(a.accessKeyId, b.sessionToken), undefined);
    assert.equal(opener.open(a.accessKeyId, `${a.sessionToken}A`), undefined);
    assert.equal(opener.open(a.accessKeyId, a.sessionToken), first, 'the entry survives refused tokens');
    // Past the bound the cache starts over, and tokens still open.
    const c = sealSession(keys, claims(), cryptoRandom);
    assert.ok(opener.open(b.accessKeyId, b.sessionToken));
    assert.ok(opener.open(c.accessKeyId, c.sessionToken));
    const again = opener.open(a.accessKeyId, a.sessionToken);
    assert.notEqual(again, first);
    assert.deepEqual(again, first);
  } finally {
    await store.close();
  }
});

test('a session is revoked by its access key id as well as by its session id', async () => {
  const { store, revocations } = await node();
  try {
    const c = claims();
    await revocations.revoke(revocationRecord('session', c.accessKeyId, 1_800_000_000_000, 'test'));
    assert.equal(revocations.check(c, 'arn:aws:iam::111111111111:role/net-plan'), 'session');
    assert.equal(revocations.check(claims(), 'arn:aws:iam::111111111111:role/net-plan'), undefined);
  } finally {
    await store.close();
  }
});

test('audit events recorded in one turn of the event loop share one commit; each caller learns when its event is stored', async () => {
  const { store } = await node();
  try {
    const calls: number[] = [];
    const counting = overrideStore(store, (name, real) =>
      name === 'appendAudit'
        ? (events: AuditEvent[]) => {
            calls.push(events.length);
            return real(events);
          }
        : undefined,
    );
    const lines: string[] = [];
    const log = { log: (_level: string, msg: string) => lines.push(msg) } as unknown as Logger;
    const audit = new AuditLog(counting, log);
    const event = (i: number): AuditEvent => ({
      time: i,
      requestId: `r-${i}`,
      action: 'sts:Test',
      decision: 'allow',
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => audit.record(event(i))));
    assert.deepEqual(calls, [20]);
    assert.equal((await store.queryAudit({ action: 'sts:Test' })).length, 20);
    // A failed write rejects the callers of that batch and is logged; the next batch is written.
    const failing = overrideStore(store, (name) =>
      name === 'appendAudit' ? async () => Promise.reject(new Error('disk full')) : undefined,
    );
    const broken = new AuditLog(failing, log);
    await assert.rejects(broken.record(event(100)), /disk full/);
    assert.deepEqual(lines, ['audit write failed']);
    await broken.flush();
  } finally {
    await store.close();
  }
});

test('session ids are time-ordered version 7 UUIDs, so the audit log indexes them at its end', () => {
  const random = seededRandom(21);
  const uuid7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const issued = [1_800_000_000_000, 1_800_000_000_001, 1_800_000_060_000].map((ms) =>
    newSessionIds(random, ms),
  );
  for (const ids of issued) assert.match(ids.sid, uuid7);
  assert.deepEqual(
    issued.map((ids) => ids.sid),
    issued.map((ids) => ids.sid).sort(),
  );
  assert.notEqual(newSessionIds(random, 5).sid, newSessionIds(random, 5).sid);
});
