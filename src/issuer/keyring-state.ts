// The keyring's state machine as a pure function of the key records and the time:
//   pending ─(activateAt reached)→ active ─(a newer key activates)→ retired ─(its last token expired)→ removed
// A pending key is published before it signs (publish-ahead), so verifiers with a cached JWKS
// already know it; a retired key stays published until every token it signed has expired.
import type { SigningKeyRecord } from '../store/records/keyring.js';

/** AWS reads at most 100 keys from a JWKS; beyond that a kid lookup can fail. */
export const MAX_PUBLISHED_KEYS = 100;

export interface KeyringPolicy {
  /** How long a new key is published before it signs. */
  publishAheadMs: number;
  /** Automatic rotation period, measured from a key's activation. */
  rotationPeriodMs: number;
}

export type KeyTransition =
  | { type: 'activate'; kid: string }
  | { type: 'retire'; kid: string }
  | { type: 'remove'; kid: string }
  /** Generate a key: `activateAt` is when it may sign (now = bootstrap, no publish-ahead needed). */
  | { type: 'create'; activateAt: number };

export const isPublished = (k: SigningKeyRecord): boolean => k.state !== 'removed';

/** A retired key may go once it signed nothing that is still valid. */
export const isExpiredRetired = (k: SigningKeyRecord, now: number): boolean =>
  k.state === 'retired' && k.lastTokenExpiresAt <= now;

/** What maintenance should do now. Applying the transitions in order is always safe. */
export function planMaintenance(
  keys: readonly SigningKeyRecord[],
  now: number,
  policy: KeyringPolicy,
): KeyTransition[] {
  const out: KeyTransition[] = [];
  const active = keys.filter((k) => k.state === 'active');
  const pending = keys.filter((k) => k.state === 'pending').sort((a, b) => a.activateAt - b.activateAt);
  const due = pending.filter((k) => k.activateAt <= now);
  // With no active key, the earliest pending key must sign now: nothing else can.
  const next = due.at(-1) ?? (active.length === 0 ? pending[0] : undefined);
  let signer = active.sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0))[0];
  if (next) {
    out.push({ type: 'activate', kid: next.id });
    for (const k of active) out.push({ type: 'retire', kid: k.id });
    // Older due pending keys never signed: retire them so the trim below takes them.
    for (const k of due) if (k.id !== next.id) out.push({ type: 'retire', kid: k.id });
    signer = next;
  }
  for (const k of keys) if (isExpiredRetired(k, now)) out.push({ type: 'remove', kid: k.id });

  const stillPending = pending.filter((k) => k.id !== (next?.id ?? '') && k.activateAt > now);
  if (!signer) {
    out.push({ type: 'create', activateAt: now });
  } else if (stillPending.length === 0) {
    const rotateAt = (signer.activatedAt ?? signer.activateAt) + policy.rotationPeriodMs;
    if (rotateAt - policy.publishAheadMs <= now) {
      out.push({ type: 'create', activateAt: Math.max(rotateAt, now + policy.publishAheadMs) });
    }
  }
  return out;
}

/** Published keys, signer first, then pending, then retired newest first; never more than the cap. */
export function publishedKeys(keys: readonly SigningKeyRecord[]): SigningKeyRecord[] {
  const rank = { active: 0, pending: 1, retired: 2, removed: 3 } as const;
  return keys
    .filter(isPublished)
    .sort((a, b) => rank[a.state] - rank[b.state] || b.createdAt - a.createdAt)
    .slice(0, MAX_PUBLISHED_KEYS);
}
