// This deployment's signing keys as the cloud side needs them, read from the store the issuer and
// the cloud side share. A removed key's tokens are refused whatever a cached JWKS still says (the
// cache would otherwise honour them until its TTL); a revoked key's (a leak: `keys revoke`,
// `keys trim --force`) sessions are refused too. When the keyring changes, the JWKS cached for our
// own issuer is dropped, so a key activated at once (`keys rotate --immediate`) verifies at once. Key ids are RFC 7638 thumbprints of the public key,
// so a kid names the key material itself, under whatever issuer URL it is presented.
// Bounded: one entry per key the deployment ever removed (one per rotation period).
import type { Store } from '../../store/types.js';

export class RemovedSigningKeys {
  private removed = new Set<string>();
  private revoked = new Map<string, number>();
  private all = new Set<string>();

  constructor(private readonly store: Store) {}

  private states = '';

  /**
   * Read the keyring again (at start, and when the change feed shows a key change). Returns whether
   * a key was added or changed state: every mint also touches the signing key's record (its latest
   * token expiry), which changes nothing here.
   */
  async load(): Promise<boolean> {
    const removed = new Set<string>();
    const revoked = new Map<string, number>();
    const all = new Set<string>();
    const states: string[] = [];
    for (const k of await this.store.list('signingKey')) {
      all.add(k.id);
      states.push(`${k.id}:${k.state}:${k.revokedAt ?? ''}`);
      if (k.state !== 'removed') continue;
      removed.add(k.id);
      if (k.revokedAt !== undefined) revoked.set(k.id, k.revokedAt);
    }
    const fingerprint = states.sort().join(',');
    if (fingerprint === this.states) return false;
    this.states = fingerprint;
    this.removed = removed;
    this.revoked = revoked;
    this.all = all;
    return true;
  }

  /** Whether this deployment's keyring holds (or held) the key: a JWKS with it is our issuer's. */
  isOurs(kid: string): boolean {
    return this.all.has(kid);
  }

  isRemoved(kid: string): boolean {
    return this.removed.has(kid);
  }

  /** When the key was revoked as compromised, if it was. */
  revokedAt(kid: string): number | undefined {
    return this.revoked.get(kid);
  }
}
