// Applying a setup file: the plan (what would change, computed from one read of the store) and,
// unless it is a dry run, its writes, all in one transaction with the audit event: a file lands
// whole or not at all. Entities the file does not mention are left alone.
import type { Clock, Random } from '../../core/deps.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { Store } from '../../store/types.js';
import { ensureAwsManagedPolicies } from '../iam/aws-managed.js';
import { planSetup } from './plan.js';
import type { SetupChange } from './plan-context.js';
import { SetupError, type SetupSpec } from './schema.js';
import { readView } from './view.js';

export interface ApplyResult {
  changes: SetupChange[];
  accounts: { name: string; id: string }[];
}

/**
 * Plan `spec` against the store and, unless `dryRun`, write it. A file with problems throws a
 * SetupError listing them all, and writes nothing; so does a write that fails half way (the
 * transaction rolls back). A dry run reads only.
 */
export async function applySetup(
  store: Store,
  spec: SetupSpec,
  deps: { random: Random; clock: Clock },
  options: { file: string; dryRun?: boolean },
): Promise<ApplyResult> {
  // One transaction for the read as well: the plan sees one consistent state and its writes land on it.
  return store.transaction(async (tx) => {
    const now = deps.clock.now();
    const plan = planSetup(spec, await readView(tx, spec, now), { random: deps.random, now });
    if (plan.problems.length > 0) throw new SetupError(options.file, plan.problems);
    const result: ApplyResult = { changes: plan.changes, accounts: plan.accounts };
    if (options.dryRun) return result;
    await ensureAwsManagedPolicies(tx, now);
    for (const write of plan.writes) await write.run(tx);
    // On the record with the changes, in the same transaction, like every IAM write.
    const event = setupEvent(result, options.file, deps);
    if (event) await tx.appendAudit([event]);
    return result;
  });
}

/** Changes listed in full in a `setup:apply` audit event; the count covers the rest. */
const MAX_RECORDED_CHANGES = 200;

/** The audit event of an apply that changed something (`gatepass audit --action setup:apply`). */
function setupEvent(
  result: ApplyResult,
  file: string,
  deps: { random: Random; clock: Clock },
): AuditEvent | undefined {
  const changed = result.changes.filter((c) => c.op !== 'unchanged');
  if (changed.length === 0) return undefined;
  return {
    time: deps.clock.now(),
    requestId: deps.random.uuid(),
    action: 'setup:apply',
    decision: 'info',
    caller: 'gatepass apply',
    detail: {
      file: file.slice(0, 1024),
      count: changed.length,
      changes: changed.slice(0, MAX_RECORDED_CHANGES).map((c) => `${c.op} ${c.kind} ${c.name}`),
    },
  };
}
