// The revocation set every node holds in memory. Revocations are rows in the store; a node applies
// its own at once and learns other nodes' through the store's change feed (`sync`). Runs and phases
// are keyed by (issuer, run id[, phase]): a revocation for one issuer's run never matches another's.
import {
  ANY_ISSUER,
  MAX_SESSION_MS,
  phaseSubject,
  type RevocationRecord,
  type RevocationScope,
  revocationId,
  runSubject,
} from '../../store/records/sessions.js';
import { type Store, StoreConflictError, type StoreOps } from '../../store/types.js';
import type { SessionClaims } from '../caller/caller.js';

export type RevokedBy = RevocationScope;

/** Runs a store write in a transaction and resolves once it is committed. */
export type CommitWith = (write: (tx: StoreOps) => Promise<void>) => Promise<void>;

/** What a run or phase revocation names. */
export interface RunRef {
  issuer: string;
  runId: string;
  phase?: string;
}

export class Revocations {
  private readonly maps: Record<RevocationScope, Map<string, RevocationRecord>> = {
    session: new Map(),
    run: new Map(),
    phase: new Map(),
    role: new Map(),
  };
  private seq = 0;

  constructor(private readonly store: Store) {}

  /**
   * Load every stored revocation (in place of what was held: also a full reload when the change feed
   * was trimmed past this node) and remember where the feed stands.
   */
  async load(): Promise<void> {
    this.seq = await this.store.latestChange();
    const records = await this.store.list('revocation');
    for (const map of Object.values(this.maps)) map.clear();
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

  /**
   * Write the revocation, then apply it here. `commit` runs the write in a transaction: by default
   * one of its own, or (RevokeRun) the one that carries the request's audit events.
   */
  async revoke(
    record: RevocationRecord,
    commit: CommitWith = (write) => this.store.transaction(write),
  ): Promise<void> {
    let lostRace = false;
    await commit(async (tx) => {
      try {
        await tx.put('revocation', record);
      } catch (err) {
        // Another node wrote this revocation since the transaction began (PostgreSQL's repeatable
        // read): the run is revoked, and the audit events sharing this commit must not fail for it.
        if (!(err instanceof StoreConflictError)) throw err;
        lostRace = true;
      }
    });
    if (lostRace) await this.outlast(record);
    this.apply(record);
  }

  /** After a lost race: the stored revocation is made to last at least as long as `record`. */
  private async outlast(record: RevocationRecord): Promise<void> {
    await this.store.transaction(async (tx) => {
      const stored = await tx.get('revocation', record.id);
      if (stored === undefined || stored.expiresAt < record.expiresAt) await tx.put('revocation', record);
    });
  }

  /**
   * Which revocation covers this session, if any. `roleArn` is the session's role. A session is named
   * by its id or by its access key id (what audit events and CloudTrail-style logs show).
   */
  check(claims: SessionClaims, roleArn: string): RevokedBy | undefined {
    return this.covering(claims, roleArn)?.scope;
  }

  /** The revocation record that covers this session, if any (audit and explain name it). */
  covering(claims: SessionClaims, roleArn: string): RevocationRecord | undefined {
    const byId = this.maps.session.get(claims.sid) ?? this.maps.session.get(claims.accessKeyId);
    if (byId) return byId;
    if (claims.runId !== undefined) {
      // Sessions sealed before runs were scoped carry no issuer: only an every-issuer revocation matches.
      const run = this.runRevocation({
        issuer: claims.runIssuer ?? '',
        runId: claims.runId,
        ...(claims.runPhase !== undefined ? { phase: claims.runPhase } : {}),
      });
      if (run) return run;
    }
    const role = this.maps.role.get(roleArn);
    if (role && (role.issuedBefore === undefined || claims.iat * 1000 < role.issuedBefore)) return role;
    return undefined;
  }

  /** The revocation covering this run (or this phase of it), if any. */
  runRevocation(ref: RunRef): RevocationRecord | undefined {
    const run =
      this.maps.run.get(runSubject(ref.issuer, ref.runId)) ??
      this.maps.run.get(runSubject(ANY_ISSUER, ref.runId));
    if (run || ref.phase === undefined) return run;
    return (
      this.maps.phase.get(phaseSubject(ref.issuer, ref.runId, ref.phase)) ??
      this.maps.phase.get(phaseSubject(ANY_ISSUER, ref.runId, ref.phase))
    );
  }

  isRunRevoked(ref: RunRef): boolean {
    return this.runRevocation(ref) !== undefined;
  }

  /** Drop revocations that can no longer match a live session, here and in the store. */
  async prune(now: number): Promise<number> {
    let pruned = 0;
    for (const map of Object.values(this.maps)) {
      for (const record of [...map.values()]) {
        if (record.expiresAt > now) continue;
        await this.store.delete('revocation', record.id);
        map.delete(record.subject);
        pruned++;
      }
    }
    return pruned;
  }

  private apply(record: RevocationRecord): void {
    this.maps[record.scope]?.set(record.subject, record);
  }

  private forget(id: string): void {
    for (const map of Object.values(this.maps)) {
      for (const [subject, record] of map) if (record.id === id) map.delete(subject);
    }
  }
}

export { MAX_SESSION_MS, revocationId, runRevocationRecord } from '../../store/records/sessions.js';

/**
 * A revocation record. Scope `role` revokes the role's sessions issued before `issuedBefore`
 * (default: now), like AWS's "revoke active sessions" (an `aws:TokenIssueTime` deny). Scopes run
 * and phase are built by runRevocationRecord.
 */
export function revocationRecord(
  scope: 'session' | 'role',
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
