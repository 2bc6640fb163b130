// No credential leaves without its audit record on disk: when the durable audit commit fails (here a
// trigger refusing the row, as a full or failing disk would), AssumeRoleWithWebIdentity answers an
// error and no credentials; once the store writes again, issuance answers again. Over real HTTP
// against a real node (SQLite, synchronous=FULL, group commit).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  checkBindingSharesCommit,
  pick,
  refuseAuditRows,
  type StsWorld,
  startStsWorld,
} from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

test('a failed durable audit commit fails the issuance instead of answering credentials', async () => {
  const ok = await w.webIdentity();
  assert.equal(ok.status, 200, ok.body);
  const refusing = refuseAuditRows(w, 'sts:AssumeRoleWithWebIdentity');
  try {
    const before = (await w.fx.app.store.queryAudit({ action: 'sts:AssumeRoleWithWebIdentity' })).length;
    const refused = await w.webIdentity();
    assert.ok(refused.status >= 500, `${refused.status} ${refused.body}`);
    assert.equal(pick(refused.body, 'AccessKeyId'), '', 'no access key in the answer');
    assert.ok(!refused.body.includes('SessionToken'), 'no session token in the answer');
    await w.fx.cloud.flushAudit();
    assert.equal(
      (await w.fx.app.store.queryAudit({ action: 'sts:AssumeRoleWithWebIdentity' })).length,
      before,
    );
    refusing.lift();
    const again = await w.webIdentity();
    assert.equal(again.status, 200, again.body);
  } finally {
    refusing.close();
  }
});

test("a new run's first call whose commit fails binds the run to no issuer; its next call binds it", async () => {
  const run = { terraform_run_id: 'run-durable-1', terraform_run_phase: 'plan' };
  await checkBindingSharesCommit(w, 'sts:AssumeRoleWithWebIdentity', run.terraform_run_id, () =>
    w.webIdentity({}, run),
  );
});
