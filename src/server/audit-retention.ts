// Audit retention (`auditRetentionDays`): events older than the retention are deleted at start and
// then every hour, in bounded batches so a first prune of a large log never holds the write lock for
// long. Each prune that removed something is itself an audit event. Off unless configured: an audit
// log is kept for as long as its owner says. With several nodes each prunes; the deletes are
// idempotent, so at worst two nodes record the same cut.
import type { Clock, Random } from '../core/deps.js';
import { requestId } from '../core/ids.js';
import { singleFlight } from '../core/single-flight.js';
import type { Logger } from '../http/log.js';
import type { Store } from '../store/types.js';

const DAY_MS = 86_400_000;
const INTERVAL_MS = 3_600_000;
const BATCH = 5_000;

export interface AuditRetentionDeps {
  store: Store;
  clock: Clock;
  random: Random;
  log: Logger;
}

export interface AuditRetention {
  /** Prune now; resolves with how many events were deleted. */
  runOnce(): Promise<number>;
  /** Stop the timer and wait for a prune in progress. */
  stop(): Promise<void>;
}

export function startAuditRetention(days: number, deps: AuditRetentionDeps): AuditRetention {
  const { store, clock, random, log } = deps;
  const runOnce = async (): Promise<number> => {
    const now = clock.now();
    const before = now - days * DAY_MS;
    let removed = 0;
    for (;;) {
      const n = await store.pruneAudit(before, BATCH);
      removed += n;
      if (n < BATCH) break;
      // Let requests waiting on the store in between batches.
      await new Promise((r) => setImmediate(r));
    }
    if (removed > 0) {
      await store.appendAudit([
        {
          time: now,
          requestId: requestId(now, random),
          action: 'audit:Prune',
          decision: 'info',
          detail: { retentionDays: days, before: new Date(before).toISOString(), removed },
        },
      ]);
      log.log('info', 'audit events past retention deleted', { retentionDays: days, removed });
    }
    return removed;
  };

  const prune = singleFlight(runOnce, (err) => log.log('warn', 'audit retention prune failed', { err }));
  prune.start();
  const timer = setInterval(() => prune.start(), INTERVAL_MS);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await prune.idle();
    },
  };
}
