// Audit events written with group commit: events that arrive while a write is in flight go out
// together in the next one, and each caller's promise resolves when its own event is committed.
// Issuance awaits it, so no credential leaves the server without its record; a failed write rejects
// those callers (the request fails) and is logged.
import type { Logger } from '../../http/log.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { Store } from '../../store/types.js';

const RECORDED: unique symbol = Symbol('gatepass.auditRecorded');

/**
 * Marks a refusal whose request the action itself put on record (with the decision's trace), so the
 * endpoint's catch-all for refusals does not record the same request again.
 */
export function markRecorded<E extends Error>(error: E): E {
  Object.defineProperty(error, RECORDED, { value: true });
  return error;
}

/** Whether the action already recorded the request this error refuses. */
export const isRecorded = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && RECORDED in error;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class AuditLog {
  private queue: AuditEvent[] = [];
  private waiters: Waiter[] = [];
  private writing = false;
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  record(event: AuditEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push(event);
      this.waiters.push({ resolve, reject });
      // Start the write after the current I/O callbacks, so every request handled in this turn of the
      // event loop joins the same commit; events arriving while it syncs go into the next one.
      if (!this.writing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (!this.writing) void this.drain();
        });
      }
    });
  }

  /** Resolves when everything recorded so far is committed (or has failed). */
  async flush(): Promise<void> {
    while (this.writing || this.scheduled || this.queue.length > 0) {
      if (!this.writing && !this.scheduled) void this.drain();
      await new Promise((r) => setImmediate(r));
    }
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        const waiters = this.waiters;
        this.queue = [];
        this.waiters = [];
        try {
          await this.store.appendAudit(batch);
          for (const w of waiters) w.resolve();
        } catch (err) {
          this.log.log('error', 'audit write failed', { err, events: batch.length });
          for (const w of waiters) w.reject(err);
        }
        // The requests read in this turn of the event loop join the next commit: one sync for them all.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.writing = false;
    }
  }
}
