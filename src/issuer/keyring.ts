// The issuer's signing keyring over the store: applies the state machine of keyring-state.ts,
// signs with the active key, and tracks per key the latest expiry of anything it signed, so a
// retired key is published exactly as long as its tokens can still be presented.
import { SignJWT } from 'jose';
import type { Clock, Random } from '../core/deps.js';
import type { SigningAlg, SigningKeyRecord } from '../store/records/keyring.js';
import type { Store, StoreOps } from '../store/types.js';
import { StoreConflictError } from '../store/types.js';
import { IssuerError } from './errors.js';
import { generateSigningKey, openSigningKey, type PrivateKey } from './keygen.js';
import {
  isExpiredRetired,
  isPublished,
  type KeyringPolicy,
  type KeyTransition,
  MAX_PUBLISHED_KEYS,
  planMaintenance,
  publishedKeys,
} from './keyring-state.js';

export interface KeyringOptions extends KeyringPolicy {
  store: Store;
  masterKey: Uint8Array;
  clock: Clock;
  random: Random;
  /** Algorithm of newly generated keys. */
  alg: SigningAlg;
  /** Minimum time between lazy maintenance passes (default 30 s). */
  maintenanceIntervalMs?: number;
}

export interface KeySummary {
  kid: string;
  alg: SigningAlg;
  state: SigningKeyRecord['state'];
  createdAt: number;
  activateAt: number;
  activatedAt?: number;
  retiredAt?: number;
  removedAt?: number;
  revokedAt?: number;
  lastTokenExpiresAt: number;
}

export interface MaintenanceResult {
  activated: string[];
  retired: string[];
  removed: string[];
  created: string[];
}

const MAX_RETRIES = 5;

/** A key removed as compromised: unpublished, its private part erased, its tokens refused. */
const revokedRecord = (k: SigningKeyRecord, now: number): SigningKeyRecord => ({
  ...k,
  state: 'removed',
  removedAt: k.removedAt ?? now,
  revokedAt: now,
  privateKeyEnc: '',
});

export function summarize(k: SigningKeyRecord): KeySummary {
  const s: KeySummary = {
    kid: k.id,
    alg: k.alg,
    state: k.state,
    createdAt: k.createdAt,
    activateAt: k.activateAt,
    lastTokenExpiresAt: k.lastTokenExpiresAt,
  };
  if (k.activatedAt !== undefined) s.activatedAt = k.activatedAt;
  if (k.retiredAt !== undefined) s.retiredAt = k.retiredAt;
  if (k.removedAt !== undefined) s.removedAt = k.removedAt;
  if (k.revokedAt !== undefined) s.revokedAt = k.revokedAt;
  return s;
}

/** Another writer may have moved the key since the plan was made. */
function stillApplies(k: SigningKeyRecord, t: KeyTransition, now: number): boolean {
  if (t.type === 'activate') return k.state === 'pending';
  if (t.type === 'retire') return k.state === 'active' || k.state === 'pending';
  if (t.type === 'remove') return isExpiredRetired(k, now);
  return false;
}

export class Keyring {
  private readonly privateKeys = new Map<string, Promise<PrivateKey>>();
  private lastMaintenance = Number.NEGATIVE_INFINITY;
  private running: Promise<MaintenanceResult> | undefined;
  private readonly interval: number;

  constructor(private readonly options: KeyringOptions) {
    this.interval = options.maintenanceIntervalMs ?? 30_000;
  }

  get alg(): SigningAlg {
    return this.options.alg;
  }

  /** Run maintenance when the last pass is older than the interval (or always, with force). */
  async maintain(force = false): Promise<MaintenanceResult> {
    const now = this.options.clock.now();
    if (!force && now - this.lastMaintenance < this.interval) {
      return this.running ?? { activated: [], retired: [], removed: [], created: [] };
    }
    this.lastMaintenance = now;
    // One pass at a time in this process, so concurrent requests do not each generate a key.
    const previous = this.running ?? Promise.resolve();
    const pass = previous.catch(() => undefined).then(() => this.maintainNow());
    this.running = pass;
    try {
      return await pass;
    } finally {
      if (this.running === pass) this.running = undefined;
    }
  }

  private async maintainNow(): Promise<MaintenanceResult> {
    const now = this.options.clock.now();
    const result: MaintenanceResult = { activated: [], retired: [], removed: [], created: [] };
    const transitions = planMaintenance(await this.options.store.list('signingKey'), now, this.options);
    // Keys are generated outside the transaction: RSA generation is slow and needs no store.
    const generated = new Map<KeyTransition, SigningKeyRecord>();
    for (const t of transitions)
      if (t.type === 'create') generated.set(t, await this.newRecord(t.activateAt));
    await this.retrying(async (tx) => {
      for (const t of transitions) {
        if (t.type === 'create') {
          const record = generated.get(t);
          if (record) await tx.insert('signingKey', record);
          continue;
        }
        const current = await tx.getVersioned('signingKey', t.kid);
        if (!current || !stillApplies(current.record, t, now)) continue;
        await tx.update('signingKey', this.apply(current.record, t, now), current.rev);
      }
    });
    for (const t of transitions) {
      if (t.type === 'create') result.created.push(generated.get(t)?.id ?? '');
      else if (t.type === 'activate') result.activated.push(t.kid);
      else if (t.type === 'retire') result.retired.push(t.kid);
      else result.removed.push(t.kid);
    }
    for (const kid of result.removed) this.privateKeys.delete(kid);
    return result;
  }

  /**
   * Start a rotation: a new key, published now, signing after the publish-ahead period. With
   * `immediate` (a suspected leak) it signs at once, at the risk of verifiers with a stale JWKS.
   */
  async rotate(options: { immediate?: boolean; alg?: SigningAlg } = {}): Promise<KeySummary> {
    const keys = await this.options.store.list('signingKey');
    if (keys.filter(isPublished).length >= MAX_PUBLISHED_KEYS) throw new IssuerError('too_many_keys');
    const now = this.options.clock.now();
    const record = await this.newRecord(
      options.immediate ? now : now + this.options.publishAheadMs,
      options.alg ?? this.options.alg,
    );
    await this.retrying(async (tx) => {
      // A rotation supersedes any earlier pending key.
      for (const k of await tx.list('signingKey', { index: { name: 'state', value: 'pending' } })) {
        await tx.update('signingKey', { ...k, state: 'retired', retiredAt: now });
      }
      if (record.state === 'active') {
        for (const k of await tx.list('signingKey', { index: { name: 'state', value: 'active' } })) {
          await tx.update('signingKey', { ...k, state: 'retired', retiredAt: now });
        }
      }
      await tx.insert('signingKey', record);
    });
    return summarize(record);
  }

  /**
   * Remove retired keys whose tokens have all expired. `force` removes every retired key at once
   * (after a leak) and marks it revoked: the tokens it signed, and the sessions minted from them,
   * are refused.
   */
  async trim(options: { force?: boolean } = {}): Promise<string[]> {
    const now = this.options.clock.now();
    const removed: string[] = [];
    await this.retrying(async (tx) => {
      removed.length = 0;
      for (const k of await tx.list('signingKey', { index: { name: 'state', value: 'retired' } })) {
        if (isExpiredRetired(k, now)) {
          await tx.update('signingKey', { ...k, state: 'removed', removedAt: now, privateKeyEnc: '' });
          removed.push(k.id);
        } else if (options.force) {
          await tx.update('signingKey', revokedRecord(k, now));
          removed.push(k.id);
        }
      }
    });
    for (const kid of removed) this.privateKeys.delete(kid);
    return removed;
  }

  /**
   * A leaked key, at once: it is removed and marked revoked whatever its state, so its tokens and
   * the sessions minted from them are refused. When it was the signer, a new key signs from now.
   * Revoking a key that is already revoked changes nothing.
   */
  async revoke(kid: string): Promise<{ revoked: KeySummary; signer?: KeySummary }> {
    const now = this.options.clock.now();
    const current = await this.options.store.get('signingKey', kid);
    if (!current) throw new IssuerError('not_found', 'kid');
    if (current.revokedAt !== undefined) return { revoked: summarize(current) };
    // A replacement is generated outside the transaction (slow), used only if the key still signs.
    const replacement = current.state === 'active' ? await this.newRecord(now) : undefined;
    const result = await this.retrying(async (tx) => {
      const found = await tx.getVersioned('signingKey', kid);
      if (!found) throw new IssuerError('not_found', 'kid');
      const revoked = revokedRecord(found.record, now);
      await tx.update('signingKey', revoked, found.rev);
      const [active] = await tx.list('signingKey', { index: { name: 'state', value: 'active' } });
      if (active || !replacement) return { revoked: summarize(revoked) };
      await tx.insert('signingKey', replacement);
      return { revoked: summarize(revoked), signer: summarize(replacement) };
    });
    this.privateKeys.delete(kid);
    return result;
  }

  async list(): Promise<KeySummary[]> {
    return (await this.options.store.list('signingKey')).map(summarize);
  }

  /** The public keys to publish (JWKS `keys`). */
  async publicJwks(): Promise<Record<string, unknown>[]> {
    await this.maintain();
    return publishedKeys(await this.options.store.list('signingKey')).map((k) => ({ ...k.publicJwk }));
  }

  /**
   * Inside the caller's transaction: pick the active key and extend its published lifetime to
   * cover a token expiring at `expMs`. Returns the kid to sign with.
   */
  async reserve(tx: StoreOps, expMs: number): Promise<{ kid: string; alg: SigningAlg }> {
    const [active] = await tx.list('signingKey', { index: { name: 'state', value: 'active' } });
    if (!active) throw new IssuerError('no_signing_key');
    if (active.lastTokenExpiresAt < expMs) {
      const current = await tx.getVersioned('signingKey', active.id);
      if (current?.record.state !== 'active') throw new StoreConflictError('stale', 'signingKey', active.id);
      await tx.update('signingKey', { ...current.record, lastTokenExpiresAt: expMs }, current.rev);
    }
    return { kid: active.id, alg: active.alg };
  }

  async sign(kid: string, alg: SigningAlg, payload: Record<string, unknown>): Promise<string> {
    const key = await this.privateKey(kid, alg);
    return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
  }

  /** Reserve and sign in one step (payload must carry `exp` in seconds). */
  async issue(payload: Record<string, unknown> & { exp: number }): Promise<{ token: string; kid: string }> {
    await this.maintain();
    const { kid, alg } = await this.retrying((tx) => this.reserve(tx, payload.exp * 1000));
    return { token: await this.sign(kid, alg, payload), kid };
  }

  /** Run `fn` in a transaction, retrying on optimistic-concurrency conflicts with other writers. */
  async retrying<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.options.store.transaction(fn);
      } catch (err) {
        if (!(err instanceof StoreConflictError) || err.reason !== 'stale' || attempt >= MAX_RETRIES)
          throw err;
      }
    }
  }

  private privateKey(kid: string, alg: SigningAlg): Promise<PrivateKey> {
    let key = this.privateKeys.get(kid);
    if (!key) {
      key = (async () => {
        const record = await this.options.store.get('signingKey', kid);
        if (!record || record.privateKeyEnc === '') throw new IssuerError('no_signing_key');
        return openSigningKey(kid, alg, record.privateKeyEnc, this.options.masterKey);
      })();
      key.catch(() => this.privateKeys.delete(kid));
      this.privateKeys.set(kid, key);
    }
    return key;
  }

  private async newRecord(activateAt: number, alg: SigningAlg = this.options.alg): Promise<SigningKeyRecord> {
    const now = this.options.clock.now();
    const key = await generateSigningKey(alg, this.options.masterKey, this.options.random);
    const record: SigningKeyRecord = {
      id: key.kid,
      alg,
      state: activateAt <= now ? 'active' : 'pending',
      createdAt: now,
      activateAt,
      lastTokenExpiresAt: 0,
      publicJwk: key.publicJwk,
      privateKeyEnc: key.privateKeyEnc,
    };
    if (record.state === 'active') record.activatedAt = now;
    return record;
  }

  private apply(k: SigningKeyRecord, t: KeyTransition, now: number): SigningKeyRecord {
    switch (t.type) {
      case 'activate':
        return { ...k, state: 'active', activatedAt: now };
      case 'retire':
        return { ...k, state: 'retired', retiredAt: now };
      case 'remove':
        return { ...k, state: 'removed', removedAt: now, privateKeyEnc: '' };
      case 'create':
        return k;
    }
  }
}
