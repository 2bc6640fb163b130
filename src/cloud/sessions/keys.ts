// Versioned sealing keys for session tokens. Kept in the store encrypted under the master key; every
// node loads them, so any node can open any session token. The newest active key seals; older keys
// only open until the tokens they sealed have expired.

import { open, seal } from '../../core/crypto/aead.js';
import type { Clock, Random } from '../../core/deps.js';
import type { SealingKeyRecord } from '../../store/records/keyring.js';
import { type Store, StoreConflictError } from '../../store/types.js';

export interface SealingKey {
  version: number;
  key: Buffer;
}

const aad = (version: number): string => `gatepass:sealing-key:${version}`;

/** Whether `masterKey` opens a stored sealing key (it was sealed under that master key). */
export function opensSealingKey(masterKey: Uint8Array, record: SealingKeyRecord): boolean {
  try {
    open(masterKey, record.keyEnc, aad(record.version));
    return true;
  } catch {
    return false;
  }
}

export class SealingKeys {
  private byVersion = new Map<number, SealingKey>();
  private current: SealingKey | undefined;
  private lastReload = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: Store,
    private readonly masterKey: Uint8Array,
    private readonly random: Random,
    private readonly clock: Clock,
  ) {}

  /** Load every key; on an empty store create version 1 (a racing node's key wins if it was first). */
  async load(): Promise<void> {
    let records = await this.store.list('sealingKey');
    if (!records.some((r) => r.active)) {
      await this.create(Math.max(0, ...records.map((r) => r.version)) + 1);
      records = await this.store.list('sealingKey');
    }
    this.byVersion = new Map(records.map((r) => [r.version, this.decrypt(r)]));
    const active = records.filter((r) => r.active).sort((a, b) => b.version - a.version)[0];
    this.current = active ? this.byVersion.get(active.version) : undefined;
  }

  /** A new active key; older keys stay to open what they sealed. */
  async rotate(): Promise<number> {
    const version = Math.max(0, ...(await this.store.list('sealingKey')).map((r) => r.version)) + 1;
    await this.store.transaction(async (tx) => {
      for (const r of await tx.list('sealingKey'))
        if (r.active) await tx.update('sealingKey', { ...r, active: false });
      await tx.insert('sealingKey', this.record(version));
    });
    await this.load();
    return version;
  }

  /**
   * A token names a key version this node has not loaded: another node may have rotated a moment
   * ago, before the change feed said so. Reload (at most every 100 ms, so made-up versions cannot
   * turn into a query per request) and say whether the version is known now.
   */
  async loadIfNewer(version: number): Promise<boolean> {
    if (this.byVersion.has(version)) return true;
    const now = this.clock.now();
    if (version <= Math.max(0, ...this.byVersion.keys()) || now - this.lastReload < 100) return false;
    this.lastReload = now;
    await this.load();
    return this.byVersion.has(version);
  }

  active(): SealingKey {
    if (!this.current) throw new Error('sealing keys not loaded');
    return this.current;
  }

  get(version: number): SealingKey | undefined {
    return this.byVersion.get(version);
  }

  private async create(version: number): Promise<void> {
    try {
      await this.store.insert('sealingKey', this.record(version));
    } catch (err) {
      if (!(err instanceof StoreConflictError && err.reason === 'exists')) throw err;
    }
  }

  private record(version: number): SealingKeyRecord {
    return {
      id: String(version),
      version,
      createdAt: this.clock.now(),
      keyEnc: seal(this.masterKey, this.random.bytes(32), aad(version), this.random),
      active: true,
    };
  }

  private decrypt(record: SealingKeyRecord): SealingKey {
    return { version: record.version, key: open(this.masterKey, record.keyEnc, aad(record.version)) };
  }
}
