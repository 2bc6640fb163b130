// The revocation set every node holds in memory. Revocations are rows in the store; a node applies
// its own at once and learns other nodes' through the store's change feed (`sync`).
import type { RevocationRecord, RevocationScope } from '../../store/records/sessions.js';
import type { Store } from '../../store/types.js';
import type { SessionClaims } from '../caller.js';

export type RevokedBy = RevocationScope;

export class Revocations {
  private readonly sessions = new Map<string, RevocationRecord>();
  private readonly runs = new Map<string, RevocationRecord>();
  private readonly roles = new Map<string, RevocationRecord>();
  private seq = 0;

  constructor(private readonly store: Store) {}

  /**
   * Load every stored revocation (in place of what was held: also a full reload when the change feed
   * was trimmed past this node) and remember where the feed stands.
   */
  async load(): Promise<void> {
    this.seq = await this.store.latestChange();
    const records = await this.store.list('revocation');
    for (const map of [this.sessions, this.runs, this.roles]) map.clear();
    for (const record of records) this.apply(record);
  }

  /** How far the change feed has been applied. */
  get position(): number {
    return this.seq;
  }

  /** Apply revocations written by other nodes since the last sync; returns how many changed. */
  async sync(): Promise<number> {
    let applied = 0;
    for (;;) {
      const changes = await this.store.changesSince(this.seq, 500);
      if (changes.length === 0) return applied;
      for (const change of changes) {
        this.seq = change.seq;
        if (change.kind !== 'revocation') continue;
        const record = change.op === 'put' ? await this.store.get('revocation', change.id) : undefined;
        if (record) this.apply(record);
        else this.forget(change.id);
        applied++;
      }
    }
  }

  async revoke(record: RevocationRecord): Promise<void> {
    await this.store.put('revocation', record);
    this.apply(record);
  }

  /**
   * Which revocation covers this session, if any. `roleArn` is the session's role. A session is named
   * by its id or by its access key id (what audit events and CloudTrail-style logs show).
   */
  check(claims: SessionClaims, roleArn: string): RevokedBy | undefined {
    return this.covering(claims, roleArn)?.scope;
  }

  /** The revocation that covers this session, if any: when, why, and by what (the audit trail's story). */
  covering(claims: SessionClaims, roleArn: string): RevocationRecord | undefined {
    const session = this.sessions.get(claims.sid) ?? this.sessions.get(claims.accessKeyId);
    if (session) return session;
    const run = claims.runId !== undefined ? this.runs.get(claims.runId) : undefined;
    if (run) return run;
    const role = this.roles.get(roleArn);
    if (role && (role.issuedBefore === undefined || claims.iat * 1000 < role.issuedBefore)) return role;
    return undefined;
  }

  isRunRevoked(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** Drop revocations that can no longer match a live session, here and in the store. */
  async prune(now: number): Promise<number> {
    let pruned = 0;
    for (const map of [this.sessions, this.runs, this.roles]) {
      for (const record of [...map.values()]) {
        if (record.expiresAt > now) continue;
        await this.store.delete('revocation', record.id);
        map.delete(record.subject);
        pruned++;
      }
    }
    return pruned;
  }

  private mapFor(scope: RevocationScope): Map<string, RevocationRecord> {
    return scope === 'session' ? this.sessions : scope === 'run' ? this.runs : this.roles;
  }

  private apply(record: RevocationRecord): void {
    this.mapFor(record.scope).set(record.subject, record);
  }

  private forget(id: string): void {
    for (const map of [this.sessions, this.runs, this.roles]) {
      for (const [subject, record] of map) if (record.id === id) map.delete(subject);
    }
  }
}

export function revocationId(scope: RevocationScope, subject: string): string {
  return `${scope}:${subject}`;
}

/** Sessions last at most 12 hours: after that no revocation can still match a live one. */
export const MAX_SESSION_MS = 43_200_000;

/**
 * A revocation record. Scope `role` revokes the role's sessions issued before `issuedBefore`
 * (default: now), like AWS's "revoke active sessions" (an `aws:TokenIssueTime` deny).
 */
export function revocationRecord(
  scope: RevocationScope,
  subject: string,
  now: number,
  reason: string,
  issuedBefore?: number,
): RevocationRecord {
  return {
    id: revocationId(scope, subject),
    scope,
    subject,
    ...(scope === 'role' ? { issuedBefore: issuedBefore ?? now } : {}),
    createdAt: now,
    expiresAt: (scope === 'role' ? (issuedBefore ?? now) : now) + MAX_SESSION_MS,
    reason,
  };
}
