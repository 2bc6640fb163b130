// RevokeRun commits the revocation, the run's binding to its issuer and its audit event in one
// transaction: all three land or none does. When that commit fails (here a trigger refusing the
// audit row, as a full or failing disk would), the run is not revoked, in the store or in memory, and
// the client gets an error it can retry; the retry ends the run. Over real HTTP against a real node
// (SQLite, synchronous=FULL, group commit), and for one node's parts with the store's calls counted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AuditLog } from '../../src/cloud/audit/audit-log.js';
import { Revocations } from '../../src/cloud/sessions/revocations.js';
import { RunsSeen } from '../../src/cloud/sessions/runs-seen.js';
import type { Logger } from '../../src/http/log.js';
import { openStore } from '../../src/store/open.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import {
  type RevocationRecord,
  revocationId,
  runRevocationRecord,
  runSubject,
} from '../../src/store/records/sessions.js';
import type { Store, StoreOps } from '../../src/store/types.js';
import type { Keys } from '../helpers/cloud.js';
import { stopPgSandbox, twoPostgresNodes } from '../helpers/pg-nodes.js';
import { countingStore, overrideTxMethod, signal } from '../helpers/store-proxy.js';
import {
  checkBindingSharesCommit,
  pick,
  refuseAuditRows,
  type StsWorld,
  startStsWorld,
} from './sts-world.js';

const V = '2011-06-15';
const root = mkdtempSync(join(tmpdir(), 'gatepass-revoke-durable-'));
let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(async () => {
  await w?.stop();
  rmSync(root, { recursive: true, force: true });
  await stopPgSandbox();
});

const revokeRun = async (run: Record<string, string>) =>
  w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: await w.token(run) });
const whoami = async (k: Keys): Promise<string> => {
  const r = await w.signed(k, { Action: 'GetCallerIdentity', Version: V });
  return r.status === 200 ? 'ok' : pick(r.body, 'Code');
};
const revocationOf = (runId: string) =>
  w.fx.app.store.get('revocation', revocationId('run', runSubject(w.fx.idp.issuer, runId)));

test('a RevokeRun whose audit commit fails revokes nothing, here or in the store; its retry ends the run', async () => {
  const run = { terraform_run_id: 'run-revoke-durable-1', terraform_run_phase: 'apply' };
  const keys = await w.session(run);
  const refusing = refuseAuditRows(w, 'sts:RevokeRun');
  try {
    const refused = await revokeRun(run);
    assert.ok(refused.status >= 500, `${refused.status} ${refused.body}`);
    assert.doesNotMatch(refused.body, /eyJ/, 'no token in the error');
    assert.equal(
      await revocationOf(run.terraform_run_id),
      undefined,
      'the revocation shares the failed commit',
    );
    await w.fx.cloud.sync();
    assert.equal(await whoami(keys), 'ok', 'not applied on this node either');
    refusing.lift();
    const again = await revokeRun(run);
    assert.equal(again.status, 200, again.body);
    assert.equal((await revocationOf(run.terraform_run_id))?.scope, 'run');
    assert.equal(await whoami(keys), 'InvalidClientTokenId');
    const allowed = (await w.audit()).filter(
      (e) => e.action === 'sts:RevokeRun' && e.decision === 'allow' && e.runId === run.terraform_run_id,
    );
    assert.equal(allowed.length, 1, 'one revocation, one record');
  } finally {
    refusing.close();
  }
});

test('a RevokeRun of a run never seen here whose commit fails binds the run to no issuer; its retry binds it', async () => {
  const run = { terraform_run_id: 'run-revoke-durable-2', terraform_run_phase: 'plan' };
  await checkBindingSharesCommit(w, 'sts:RevokeRun', run.terraform_run_id, () => revokeRun(run));
});

test("a run's revocation, its binding and the audit event of its turn commit in one transaction", async () => {
  const store = await openStore({ dataDir: join(root, 'node') });
  try {
    const { store: counting, calls } = countingStore(store, ['appendAudit', 'transaction', 'put', 'insert']);
    const quiet = { log: () => undefined } as unknown as Logger;
    const audit = new AuditLog(counting, quiet);
    const withAudit = (write: Parameters<AuditLog['commitWith']>[0]) => audit.commitWith(write);
    const revocations = new Revocations(counting);
    const seen = new RunsSeen(withAudit);
    const ref = { issuer: 'https://issuer.example', runId: 'run-1' };
    // As RevokeRun does: the revocation and the binding start, then the request's event is recorded.
    await Promise.all([
      revocations.revoke(runRevocationRecord(ref, 1_000, 'run ended'), withAudit),
      seen.note(ref.issuer, ref.runId, 1_000),
      audit.record({ time: 1_000, requestId: 'r-1', action: 'sts:RevokeRun', decision: 'allow' }),
    ]);
    assert.deepEqual(calls, ['transaction'], 'one transaction, no write of its own');
    assert.ok(revocations.isRunRevoked(ref), 'applied once committed');
    assert.equal((await store.list('revocation')).length, 1);
    assert.equal((await store.get('stsRun', runSubject(ref.issuer, ref.runId)))?.runId, ref.runId);
    assert.equal((await store.queryAudit({ action: 'sts:RevokeRun' })).length, 1);
  } finally {
    await store.close();
  }
});

/**
 * `store` whose revocation writes first take the transaction's snapshot, then wait for `go`: a write
 * that meets a row another node committed meanwhile, which its snapshot cannot see.
 */
const writingLate = (store: Store, snapshotTaken: () => void, go: Promise<void>): Store =>
  overrideTxMethod(store, 'put', (tx) => async (...args: Parameters<StoreOps['put']>) => {
    await tx.get('revocation', args[1].id);
    snapshotTaken();
    await go;
    return tx.put(...args);
  });

test('two nodes revoking one run at once on PostgreSQL: the later commit still lands its audit event, and the stored revocation lasts as long as the longer of the two', {
  timeout: 60_000,
}, async () => {
  const [a, b] = await twoPostgresNodes('revoke_run_race');
  try {
    const quiet = { log: () => undefined } as unknown as Logger;
    const ref = { issuer: 'https://issuer.example', runId: 'run-race' };
    for (const [round, longer] of [
      [1, 'b'],
      [2, 'a'],
    ] as const) {
      const run = { ...ref, runId: `${ref.runId}-${round}` };
      const recordOf = (node: 'a' | 'b'): RevocationRecord =>
        runRevocationRecord(run, 1_000, `ended on ${node}`, node === longer ? 9_000_000 : 5_000_000);
      const [bRead, aCommitted] = [signal(), signal()];
      const slowB = writingLate(b, bRead.fire, aCommitted.done);
      const [auditA, auditB] = [new AuditLog(a, quiet), new AuditLog(slowB, quiet)];
      const [onA, onB] = [new Revocations(a), new Revocations(slowB)];
      const event = (node: string): AuditEvent => ({
        time: 1,
        requestId: `r-${round}-${node}`,
        action: 'sts:RevokeRun',
        decision: 'allow',
      });
      const onNodeB = Promise.all([
        onB.revoke(recordOf('b'), (write) => auditB.commitWith(write)),
        auditB.record(event('b')),
      ]);
      await bRead.done;
      await Promise.all([
        onA.revoke(recordOf('a'), (write) => auditA.commitWith(write)),
        auditA.record(event('a')),
      ]);
      aCommitted.fire();
      await onNodeB;
      const stored = await a.get('revocation', recordOf('a').id);
      assert.equal(stored?.expiresAt, recordOf(longer).expiresAt, `round ${round}: the longer one stands`);
      assert.ok(onB.isRunRevoked(run), 'revoked on the node that lost the race');
      const events = await a.queryAudit({ action: 'sts:RevokeRun' });
      assert.deepEqual(
        events
          .map((e) => e.requestId)
          .filter((id) => id.startsWith(`r-${round}-`))
          .sort(),
        [`r-${round}-a`, `r-${round}-b`],
      );
    }
  } finally {
    await a.close();
    await b.close();
  }
});
