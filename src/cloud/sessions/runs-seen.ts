// Which issuer's run obtained sessions here, by run id: RevokeRun refuses another issuer's token for
// a run id it did not start. One store row per (issuer, run), written once per node: the set that
// remembers what was written is bounded (cleared when full, which only costs a repeated write).
import { runSubject } from '../../store/records/sessions.js';
import type { Store } from '../../store/types.js';
import { MAX_SESSION_MS } from './revocations.js';

/** Tokens live at most a week (the longest phase deadline), sessions 12 hours beyond. */
const KEEP_MS = 7 * 86_400_000 + MAX_SESSION_MS;

export class RunsSeen {
  private readonly written = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly max = 10_000,
  ) {}

  async note(issuer: string, runId: string, now: number): Promise<void> {
    const id = runSubject(issuer, runId);
    if (this.written.has(id)) return;
    if (!(await this.store.get('stsRun', id)))
      await this.store.put('stsRun', { id, issuer, runId, firstSeen: now, expiresAt: now + KEEP_MS });
    if (this.written.size >= this.max) this.written.clear();
    this.written.add(id);
  }
}
