// No credential leaves without its audit record on disk: when the durable audit commit fails (here a
// trigger refusing the row, as a full or failing disk would), AssumeRoleWithWebIdentity answers an
// error and no credentials; once the store writes again, issuance answers again. Over real HTTP
// against a real node (SQLite, synchronous=FULL, group commit).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { SQLITE_FILE } from '../../src/store/open.js';
import { pick, type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

test('a failed durable audit commit fails the issuance instead of answering credentials', async () => {
  const ok = await w.webIdentity();
  assert.equal(ok.status, 200, ok.body);
  const db = new Database(join(w.fx.dataDir, SQLITE_FILE));
  try {
    db.exec(`CREATE TRIGGER refuse_issuance BEFORE INSERT ON audit
               WHEN NEW.action = 'sts:AssumeRoleWithWebIdentity' AND NEW.decision = 'allow'
               BEGIN SELECT RAISE(ABORT, 'refused'); END`);
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
    db.exec('DROP TRIGGER refuse_issuance');
    const again = await w.webIdentity();
    assert.equal(again.status, 200, again.body);
  } finally {
    db.close();
  }
});
