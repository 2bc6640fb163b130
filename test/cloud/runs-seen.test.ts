// A run's binding to its issuer (RevokeRun refuses another issuer's token for the run) is written
// once per run, in the same commit as the audit event of the request that first sees the run: a
// run's first AssumeRoleWithWebIdentity pays one sync, and nodes racing on one run both answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AuditLog } from '../../src/cloud/audit/audit-log.js';
import { RunsSeen } from '../../src/cloud/sessions/runs-seen.js';
import type { Logger } from '../../src/http/log.js';
import { openStore } from '../../src/store/open.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { runSubject } from '../../src/store/records/sessions.js';
import type { Store, StoreOps } from '../../src/store/types.js';
import { stopPgSandbox, twoPostgresNodes } from '../helpers/pg-nodes.js';
import { countingStore, overrideStore, overrideTxMethod, signal } from '../helpers/store-proxy.js';

const root = mkdtempSync(join(tmpdir(), 'gatepass-runs-seen-'));
after(async () => {
  rmSync(root, { recursive: true, force: true });
  await stopPgSandbox();
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
    const { store: counting, calls } = countingStore(store, ['appendAudit', 'transaction', 'put', 'insert']);
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

test('two nodes noting one new run at once on PostgreSQL: the later commit keeps the first binding and still lands its audit event', {
  timeout: 60_000,
}, async () => {
  const [a, b] = await twoPostgresNodes('runs_seen_race');
  try {
    // Node B reads first (no binding yet, in its snapshot); node A then binds the run and commits;
    // only then does B write: its insert meets A's row, which its snapshot cannot see.
    const [bRead, aCommitted] = [signal(), signal()];
    const slowB = overrideTxMethod(b, 'get', (tx) => async (...args: Parameters<StoreOps['get']>) => {
      const found = await tx.get(...args);
      bRead.fire();
      await aCommitted.done;
      return found;
    });
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
    await bRead.done;
    await Promise.all([seenA.note(ISSUER, 'run-race', 1_000), auditA.record(event('a'))]);
    aCommitted.fire();
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
