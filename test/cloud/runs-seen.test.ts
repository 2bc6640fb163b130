// A run's binding to its issuer (RevokeRun refuses another issuer's token for the run) is written
// once per run, in the same commit as the audit event of the request that first sees the run: a
// run's first AssumeRoleWithWebIdentity pays one sync, and nodes racing on one run both answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { AuditLog } from '../../src/cloud/audit/audit-log.js';
import { RunsSeen } from '../../src/cloud/sessions/runs-seen.js';
import type { Logger } from '../../src/http/log.js';
import { openStore } from '../../src/store/open.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { runSubject } from '../../src/store/records/sessions.js';
import type { Store, StoreOps } from '../../src/store/types.js';
import { overrideStore } from '../helpers/store-proxy.js';

const root = mkdtempSync(join(tmpdir(), 'gatepass-runs-seen-'));
let sandbox: PostgresSandbox | undefined;
after(async () => {
  rmSync(root, { recursive: true, force: true });
  await sandbox?.stop();
});

let n = 0;
const node = async (): Promise<{ store: Store }> => ({
  store: await openStore({ dataDir: join(root, `n${++n}`) }),
});
const quiet = { log: () => undefined } as unknown as Logger;
const ISSUER = 'https://issuer.example';

test("a new run's binding to its issuer commits in the same transaction as the audit events of its turn", async () => {
  const { store } = await node();
  try {
    const calls: string[] = [];
    const counting = overrideStore(store, (prop, real) =>
      ['appendAudit', 'transaction', 'put', 'insert'].includes(prop)
        ? (...args: unknown[]) => {
            calls.push(prop);
            return real(...args);
          }
        : undefined,
    );
    const audit = new AuditLog(counting, quiet);
    const seen = new RunsSeen((write) => audit.commitWith(write));
    const event: AuditEvent = { time: 1, requestId: 'r-1', action: 'sts:Test', decision: 'allow' };
    // As AssumeRoleWithWebIdentity does: the note starts, then the request's event is recorded.
    await Promise.all([seen.note(ISSUER, 'run-1', 1_000), audit.record(event)]);
    assert.deepEqual(calls, ['transaction'], 'one transaction, no write of its own');
    assert.equal((await store.get('stsRun', runSubject(ISSUER, 'run-1')))?.runId, 'run-1');
    assert.equal((await store.queryAudit({ action: 'sts:Test' })).length, 1);
    // Known from now on: the next request of the run writes nothing more.
    await Promise.all([seen.note(ISSUER, 'run-1', 2_000), audit.record({ ...event, requestId: 'r-2' })]);
    assert.deepEqual(calls, ['transaction', 'appendAudit']);
  } finally {
    await store.close();
  }
});

test("a failed commit fails the run's note with its events, writes neither, and the next request notes the run again", async () => {
  const { store } = await node();
  try {
    let fail = true;
    const flaky = overrideStore(store, (prop) =>
      prop === 'transaction' && fail ? async () => Promise.reject(new Error('disk full')) : undefined,
    );
    const audit = new AuditLog(flaky, quiet);
    const seen = new RunsSeen((write) => audit.commitWith(write));
    const event: AuditEvent = { time: 1, requestId: 'r-1', action: 'sts:Test', decision: 'allow' };
    const outcomes = await Promise.allSettled([seen.note(ISSUER, 'run-2', 1_000), audit.record(event)]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected'],
    );
    assert.equal(await store.get('stsRun', runSubject(ISSUER, 'run-2')), undefined);
    assert.equal((await store.queryAudit({ action: 'sts:Test' })).length, 0);
    fail = false;
    await Promise.all([seen.note(ISSUER, 'run-2', 2_000), audit.record(event)]);
    assert.equal((await store.get('stsRun', runSubject(ISSUER, 'run-2')))?.firstSeen, 2_000);
  } finally {
    await store.close();
  }
});

test('two nodes noting one new run at once on PostgreSQL: the later commit keeps the first binding and still lands its audit event', async () => {
  sandbox ??= await startPostgres();
  const url = await sandbox.createDatabase('runs_seen_race');
  const [a, b] = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
  try {
    // Node B reads first (no binding yet, in its snapshot); node A then binds the run and commits;
    // only then does B write: its insert meets A's row, which its snapshot cannot see.
    let bRead!: () => void;
    const bHasRead = new Promise<void>((resolve) => {
      bRead = resolve;
    });
    let aCommitted!: () => void;
    const aHasCommitted = new Promise<void>((resolve) => {
      aCommitted = resolve;
    });
    const slowB = overrideStore(b, (prop, real) =>
      prop === 'transaction'
        ? (fn: (tx: StoreOps) => Promise<unknown>) =>
            real(async (tx: StoreOps) =>
              fn(
                new Proxy(tx, {
                  get(target, p, receiver) {
                    const v = Reflect.get(target, p, receiver);
                    if (p !== 'get') return typeof v === 'function' ? v.bind(target) : v;
                    return async (...args: Parameters<StoreOps['get']>) => {
                      const found = await target.get(...args);
                      bRead();
                      await aHasCommitted;
                      return found;
                    };
                  },
                }),
              ),
            )
        : undefined,
    );
    const auditA = new AuditLog(a, quiet);
    const auditB = new AuditLog(slowB, quiet);
    const seenA = new RunsSeen((write) => auditA.commitWith(write));
    const seenB = new RunsSeen((write) => auditB.commitWith(write));
    const event = (node: string): AuditEvent => ({
      time: 1,
      requestId: `r-${node}`,
      action: 'sts:Race',
      decision: 'allow',
    });
    const onB = Promise.all([seenB.note(ISSUER, 'run-race', 2_000), auditB.record(event('b'))]);
    await bHasRead;
    await Promise.all([seenA.note(ISSUER, 'run-race', 1_000), auditA.record(event('a'))]);
    aCommitted();
    await onB;
    assert.equal(
      (await a.get('stsRun', runSubject(ISSUER, 'run-race')))?.firstSeen,
      1_000,
      "A's binding stands",
    );
    assert.deepEqual((await a.queryAudit({ action: 'sts:Race' })).map((e) => e.requestId).sort(), [
      'r-a',
      'r-b',
    ]);
  } finally {
    await a.close();
    await b.close();
  }
});
