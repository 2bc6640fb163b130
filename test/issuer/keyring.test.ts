import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { fixedClock } from '../../src/core/deps.js';
import { openSigningKey } from '../../src/issuer/keygen.js';
import { Keyring } from '../../src/issuer/keyring.js';
import { type KeyringPolicy, MAX_PUBLISHED_KEYS, planMaintenance } from '../../src/issuer/keyring-state.js';
import { seededRandom } from '../../src/runtime/random.js';
import type { SigningAlg, SigningKeyRecord } from '../../src/store/records/keyring.js';
import { freshStore, MASTER_KEY, plainVerify } from './helpers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);
const POLICY: KeyringPolicy = { publishAheadMs: HOUR, rotationPeriodMs: 90 * DAY };

async function keyring(alg: SigningAlg = 'RS256', policy: KeyringPolicy = POLICY) {
  const { store } = await freshStore();
  const clock = fixedClock(T0);
  const ring = new Keyring({ store, masterKey: MASTER_KEY, clock, random: seededRandom(1), alg, ...policy });
  return { store, clock, ring };
}

const payload = (nowMs: number, lifetimeMs: number, extra: Record<string, unknown> = {}) => ({
  iss: 'https://issuer.test',
  aud: 'aws.workload.identity',
  sub: 'organization:o:project:Default Project:workspace:w:run_phase:plan',
  iat: Math.floor(nowMs / 1000),
  exp: Math.floor((nowMs + lifetimeMs) / 1000),
  ...extra,
});

for (const alg of ['RS256', 'ES256'] as const) {
  test(`${alg} tokens verify with jose against the JWKS and with a plain node:crypto verifier`, async () => {
    const { ring, store } = await keyring(alg);
    try {
      const { token, kid } = await ring.issue(payload(T0, HOUR));
      const keys = await ring.publicJwks();
      assert.equal(keys.length, 1);
      assert.equal(keys[0]?.kid, kid);
      assert.equal(keys[0]?.alg, alg);
      assert.equal(keys[0]?.use, 'sig');
      assert.match(kid, /^[A-Za-z0-9_-]{43}$/, 'kid is an RFC 7638 SHA-256 thumbprint');
      assert.equal(keys[0]?.d, undefined, 'no private member is published');
      const { payload: claims, protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys }), {
        currentDate: new Date(T0),
        issuer: 'https://issuer.test',
        audience: 'aws.workload.identity',
      });
      assert.deepEqual(protectedHeader, { alg, kid, typ: 'JWT' });
      assert.equal(claims.sub, 'organization:o:project:Default Project:workspace:w:run_phase:plan');
      const plain = plainVerify(token, keys);
      assert.deepEqual(plain.header, { alg, kid, typ: 'JWT' });
      const tampered = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(token.length - token.lastIndexOf('.') - 1)}`;
      assert.throws(() => plainVerify(tampered, keys), /bad signature/);
    } finally {
      await store.close();
    }
  });
}

test('private keys are stored only encrypted under the master key, bound to their kid', async () => {
  const { ring, store } = await keyring('ES256');
  try {
    await ring.maintain(true);
    const [record] = await store.list('signingKey');
    assert.ok(record);
    assert.doesNotMatch(record.privateKeyEnc, /PRIVATE KEY/);
    assert.doesNotMatch(JSON.stringify(record), /"d":/);
    await openSigningKey(record.id, record.alg, record.privateKeyEnc, MASTER_KEY);
    await assert.rejects(openSigningKey(record.id, record.alg, record.privateKeyEnc, new Uint8Array(32)));
    await assert.rejects(openSigningKey('another-kid', record.alg, record.privateKeyEnc, MASTER_KEY));
  } finally {
    await store.close();
  }
});

test('a rotated key is published ahead, signs only after publish-ahead, and the old key retires', async () => {
  const { ring, store, clock } = await keyring();
  try {
    const first = await ring.issue(payload(T0, 2 * HOUR));
    const pending = await ring.rotate();
    assert.equal(pending.state, 'pending');
    assert.equal(pending.activateAt, T0 + HOUR);
    assert.deepEqual(
      (await ring.publicJwks()).map((k) => k.kid),
      [first.kid, pending.kid],
    );
    clock.advance(HOUR - 1);
    assert.equal(
      (await ring.issue(payload(clock.now(), HOUR))).kid,
      first.kid,
      'pending key does not sign yet',
    );
    clock.advance(1);
    await ring.maintain(true);
    const second = await ring.issue(payload(clock.now(), HOUR));
    assert.equal(second.kid, pending.kid);
    const states = Object.fromEntries((await ring.list()).map((k) => [k.kid, k.state]));
    assert.deepEqual(states, { [first.kid]: 'retired', [pending.kid]: 'active' });
    // The retired key signed a token valid until T0+2h-1ms+1h: it stays until then.
    assert.deepEqual(await ring.trim(), []);
    clock.set(T0 + 2 * HOUR + HOUR);
    assert.deepEqual(await ring.trim(), [first.kid]);
    assert.deepEqual(
      (await ring.publicJwks()).map((k) => k.kid),
      [pending.kid],
    );
    const removed = await store.get('signingKey', first.kid);
    assert.equal(removed?.state, 'removed');
    assert.equal(removed?.privateKeyEnc, '', 'a removed key keeps no private material');
  } finally {
    await store.close();
  }
});

test('forced trim removes retired keys even while their tokens are valid (leak response)', async () => {
  const { ring, store } = await keyring();
  try {
    const first = await ring.issue(payload(T0, DAY));
    await ring.rotate({ immediate: true });
    assert.deepEqual(await ring.trim(), []);
    assert.deepEqual(await ring.trim({ force: true }), [first.kid]);
    assert.ok(!(await ring.publicJwks()).some((k) => k.kid === first.kid));
  } finally {
    await store.close();
  }
});

test('automatic rotation publishes the next key one publish-ahead before the rotation period ends', () => {
  const active: SigningKeyRecord = {
    id: 'k1',
    alg: 'RS256',
    state: 'active',
    createdAt: T0,
    activateAt: T0,
    activatedAt: T0,
    lastTokenExpiresAt: 0,
    publicJwk: {},
    privateKeyEnc: 'x',
  };
  assert.deepEqual(planMaintenance([active], T0 + 90 * DAY - HOUR - 1, POLICY), []);
  assert.deepEqual(planMaintenance([active], T0 + 90 * DAY - HOUR, POLICY), [
    { type: 'create', activateAt: T0 + 90 * DAY },
  ]);
  assert.deepEqual(planMaintenance([], T0, POLICY), [{ type: 'create', activateAt: T0 }]);
  const pending: SigningKeyRecord = { ...active, id: 'k2', state: 'pending', activateAt: T0 + 90 * DAY };
  delete pending.activatedAt;
  assert.deepEqual(planMaintenance([active, pending], T0 + 90 * DAY, POLICY), [
    { type: 'activate', kid: 'k2' },
    { type: 'retire', kid: 'k1' },
  ]);
  const retired: SigningKeyRecord = { ...active, state: 'retired', lastTokenExpiresAt: T0 + DAY };
  assert.deepEqual(
    planMaintenance([retired, { ...pending, state: 'active', activatedAt: T0 }], T0 + DAY, POLICY),
    [{ type: 'remove', kid: 'k1' }],
  );
});

test('rotation refuses to publish more than 100 keys', async () => {
  const { ring, store } = await keyring('ES256');
  try {
    await ring.maintain(true);
    for (let i = 1; i < MAX_PUBLISHED_KEYS; i++) await ring.rotate({ immediate: true });
    assert.equal((await ring.publicJwks()).length, MAX_PUBLISHED_KEYS);
    await assert.rejects(ring.rotate(), { name: 'IssuerError', code: 'too_many_keys' });
  } finally {
    await store.close();
  }
});

test('under continuous minting across rotations and trims, no valid token fails and no removed key is published', async () => {
  const policy: KeyringPolicy = { publishAheadMs: HOUR, rotationPeriodMs: 6 * HOUR };
  const { ring, store, clock } = await keyring('ES256', policy);
  try {
    const random = seededRandom(42);
    const live: { token: string; exp: number }[] = [];
    // A verifier that caches the JWKS for half the publish-ahead, like a relying party would.
    let cached: { keys: Record<string, unknown>[]; at: number } = { keys: [], at: Number.NEGATIVE_INFINITY };
    const removedEver = new Set<string>();
    let verified = 0;
    for (let step = 0; step < 250; step++) {
      clock.advance(10 * 60_000);
      const now = clock.now();
      const r = random.bytes(2);
      // Lifetimes from 5 minutes up to 24 hours, like plan and apply deadlines.
      const lifetime = 5 * 60_000 + ((((r[0] ?? 0) << 8) | (r[1] ?? 0)) % (24 * 12)) * 5 * 60_000;
      live.push({
        token: (await ring.issue(payload(now, lifetime, { jti: `t${step}` }))).token,
        exp: now + lifetime,
      });
      if (step % 37 === 0) await ring.rotate();
      if (step % 11 === 0) for (const kid of await ring.trim()) removedEver.add(kid);
      for (const k of await ring.list()) if (k.state === 'removed') removedEver.add(k.kid);
      const fresh = await ring.publicJwks();
      for (const k of fresh)
        assert.ok(!removedEver.has(String(k.kid)), `removed key ${String(k.kid)} is published`);
      if (now - cached.at >= policy.publishAheadMs / 2) cached = { keys: fresh, at: now };
      for (const t of live) {
        if (t.exp <= now) continue;
        plainVerify(t.token, fresh);
        // Publish-ahead means even the cached copy already holds the signing key: no re-fetch needed.
        plainVerify(t.token, cached.keys);
        verified++;
      }
      for (let i = live.length - 1; i >= 0; i--) if ((live[i]?.exp ?? 0) <= now) live.splice(i, 1);
    }
    assert.ok(removedEver.size > 0, 'keys were removed during the run');
    assert.ok(verified > 1000);
  } finally {
    await store.close();
  }
});
