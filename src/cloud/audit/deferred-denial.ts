// A denial decided inside a store transaction cannot await its audit record there: the audit log's
// commit would wait on the write lock the transaction holds. The error carries its event out, and
// the transaction's runner records it once the transaction has ended, awaited before the refusal
// is answered (IAM and Organizations share this; STS opens no transaction).
import type { AuditEvent } from '../../store/records/audit.js';
import { type Store, StoreConflictError, type StoreOps } from '../../store/types.js';
import { markRecorded } from './audit-log.js';

// The event rides on the error itself. A module-wide WeakMap keyed by errors would make V8's
// young-generation collector promote every refused request's error and event (bench/sts/README.md).
const PENDING: unique symbol = Symbol('gatepass.deferredDenial');

/** `error`, marked as recorded: `transactionRecordingDenials` writes `event` for it. */
export function withDeferredRecord<E extends Error>(error: E, event: AuditEvent): E {
  Object.defineProperty(error, PENDING, { value: event, configurable: true });
  return markRecorded(error);
}

const pendingEvent = (error: unknown): AuditEvent | undefined =>
  typeof error === 'object' && error !== null && PENDING in error
    ? (error as { [PENDING]: AuditEvent })[PENDING]
    : undefined;

/**
 * One transaction whose refusal, if `withDeferredRecord` made it, is recorded after it has ended (a
 * failed write is logged by the audit log and the refusal still answered). A write that lost a race
 * with another node throws `conflict()`, the protocol's ConcurrentModification.
 */
export async function transactionRecordingDenials<T>(
  store: Store,
  audit: ((event: AuditEvent) => Promise<void>) | undefined,
  fn: (tx: StoreOps) => Promise<T>,
  conflict: () => Error,
): Promise<T> {
  try {
    return await store.transaction(fn);
  } catch (err) {
    const denial = pendingEvent(err);
    if (denial) await audit?.(denial).catch(() => undefined);
    if (err instanceof StoreConflictError && err.reason === 'stale') throw conflict();
    throw err;
  }
}
