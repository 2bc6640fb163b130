// Audit events written with group commit: events that arrive while a write is in flight go out
// together in the next one, and each caller's promise resolves when its own event is committed.
// Issuance awaits it, so no credential leaves the server without its record; a failed write rejects
// those callers (the request fails) and is logged.
import type { Logger } from '../../http/log.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { Store, StoreOps } from '../../store/types.js';

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

/** The most turns of the event loop a commit waits for more events to join it. */
const MAX_SETTLE_TURNS = 4;

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/** A store write that commits with a batch of audit events (commitWith). */
type StoreWrite = (tx: StoreOps) => Promise<void>;

export class AuditLog {
  private queue: AuditEvent[] = [];
  private writes: StoreWrite[] = [];
  private waiters: Waiter[] = [];
  private writing = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  record(event: AuditEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push(event);
      this.waiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /**
   * Commit `write` in the same transaction as the next batch of events: a request that must make a
   * record durable before it answers, beside its audit event, pays one sync for both. Resolves when
   * committed; a failed commit rejects it with the batch's events.
   */
  commitWith(write: StoreWrite): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.writes.push(write);
      this.waiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** Resolves when everything recorded so far is committed (or has failed). */
  async flush(): Promise<void> {
    while (this.writing || this.pending() > 0) {
      if (!this.writing) void this.drain();
      await new Promise((r) => setImmediate(r));
    }
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending() > 0) {
        await this.settle();
        const batch = this.queue;
        const writes = this.writes;
        const waiters = this.waiters;
        this.queue = [];
        this.writes = [];
        this.waiters = [];
        try {
          if (writes.length === 0) await this.store.appendAudit(batch);
          else
            await this.store.transaction(async (tx) => {
              for (const write of writes) await write(tx);
              if (batch.length > 0) await tx.appendAudit(batch);
            });
          for (const w of waiters) w.resolve();
        } catch (err) {
          this.log.log('error', 'audit write failed', { err, events: batch.length });
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * Waits while the event loop keeps bringing events: a request read in a turn reaches `record` in
   * that turn, so the requests in flight share one sync (its CPU, not the rows, is what a durable
   * commit costs). It commits at the first turn that adds nothing, and after a few turns at most.
   */
  private async settle(): Promise<void> {
    for (let turn = 0; turn < MAX_SETTLE_TURNS; turn++) {
      const before = this.pending();
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending() === before) return;
    }
  }

  private pending(): number {
    return this.queue.length + this.writes.length;
  }
}
