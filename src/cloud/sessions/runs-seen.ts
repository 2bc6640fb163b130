// Which issuer's run obtained sessions here, by run id: RevokeRun refuses another issuer's token for
// a run id it did not start. One store row per (issuer, run), written once per node: the set that
// remembers what was written is bounded (cleared when full, which only costs a repeated write).
// The row commits with the request's audit event (one sync for both): the request awaits it before
// it answers, so no credential of a run leaves before the run is bound to its issuer.
import { runSubject } from '../../store/records/sessions.js';
import { StoreConflictError } from '../../store/types.js';
import { type CommitWith, MAX_SESSION_MS } from './revocations.js';

/** Tokens live at most a week (the longest phase deadline), sessions 12 hours beyond. */
const KEEP_MS = 7 * 86_400_000 + MAX_SESSION_MS;

export class RunsSeen {
  private readonly written = new Set<string>();

  constructor(
    private readonly commitWith: CommitWith,
    private readonly max = 10_000,
  ) {}

  async note(issuer: string, runId: string, now: number): Promise<void> {
    const id = runSubject(issuer, runId);
    if (this.written.has(id)) return;
    await this.commitWith(async (tx) => {
      if (await tx.get('stsRun', id)) return;
      try {
        await tx.insert('stsRun', { id, issuer, runId, firstSeen: now, expiresAt: now + KEEP_MS });
      } catch (err) {
        // Another node bound the run since this transaction began: its row stands, and the audit
        // events sharing this commit must not fail for it.
        if (!(err instanceof StoreConflictError)) throw err;
      }
    });
    if (this.written.size >= this.max) this.written.clear();
    this.written.add(id);
  }
}
