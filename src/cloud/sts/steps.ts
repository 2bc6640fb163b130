// How an STS request runs: named steps over one request record, each returning a value or a
// refusal, then exactly one audit event from the action's one builder. The outcome types and that
// tail are shared here, so every action answers and records alike.
import { AwsError } from '../../core/query/errors.js';
import type { AuditEvent } from '../../store/records/audit.js';
import { markRecorded } from '../audit/audit-log.js';

/** A step's refusal: the error the client gets (the audit event is built from the request). */
export class Refusal {
  constructor(readonly error: AwsError) {}
}

/** A step's AwsError as a refusal; anything else (a store outage) still throws. */
export function asRefusal(e: unknown): Refusal {
  if (e instanceof AwsError) return new Refusal(e);
  throw e;
}

/** `fn`'s value, or its AwsError as a refusal (synchronous steps stay synchronous). */
export function refusing<T>(fn: () => T): T | Refusal {
  try {
    return fn();
  } catch (e) {
    return asRefusal(e);
  }
}

/**
 * The end of every request: its one audit event, awaited. An answer whose record fails to commit
 * fails (nothing leaves the server off the record); a refusal is answered even when its record could
 * not be written (the audit log logs that), and is marked so the endpoint does not record it again.
 */
export async function recordOutcome<T>(
  deps: { audit(event: AuditEvent): Promise<void> },
  outcome: T | Refusal,
  event: AuditEvent,
): Promise<T> {
  if (outcome instanceof Refusal) {
    await deps.audit(event).catch(() => undefined);
    throw markRecorded(outcome.error);
  }
  await deps.audit(event);
  return outcome;
}
