// An Organizations request records a denial once, after its transaction has ended, and awaits the
// record before answering AccessDeniedException. A regression test for the denial written with an
// unawaited `void deps.audit(...)` from inside the transaction: the client could have its refusal
// while the record was still uncommitted, or lost.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { holdAuditWrites, signedIamCall, withFailingAuditWrites } from '../helpers/audit.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';
import { type OrganizationsAnswer, organizationsCall, organizationsOk } from '../helpers/organizations.js';

let fx: CloudFixture;
/** A user of the management account who may read IAM and nothing of Organizations. */
let reader: Keys;

const org = (keys: Keys, operation: string, body: Record<string, unknown> = {}) =>
  organizationsCall(fx.url, keys, operation, body);
const events = (requestId: string): Promise<AuditEvent[]> => fx.app.store.queryAudit({ requestId });

before(async () => {
  fx = await startCloud();
  await organizationsOk(fx.url, fx.admin, 'CreateOrganization', { FeatureSet: 'ALL' });
  const iam = (params: Record<string, string>) => signedIamCall(fx, fx.admin, params);
  await iam({ Action: 'CreateUser', UserName: 'reader' });
  await iam({
    Action: 'AttachUserPolicy',
    UserName: 'reader',
    PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess',
  });
  const key = await iam({ Action: 'CreateAccessKey', UserName: 'reader' });
  reader = {
    accessKeyId: /<AccessKeyId>([^<]+)</.exec(key.body)?.[1] ?? '',
    secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(key.body)?.[1] ?? '',
  };
});
after(() => fx?.stop());

/** `operation` by the reader is refused only once its deny record has committed, and leaves one. */
async function refusedAfterItsRecord(operation: string, body: Record<string, unknown>): Promise<AuditEvent> {
  const held = holdAuditWrites(fx);
  let answered = false;
  try {
    const pending = org(reader, operation, body).then((r) => {
      answered = true;
      return r;
    });
    await held.reached;
    // Another request's full round trip while the denial's record is held: the denial is not answered.
    const roots = await org(fx.admin, 'ListRoots');
    assert.equal(roots.status, 200, JSON.stringify(roots.json));
    assert.equal(answered, false, 'the refusal waited for its audit record');
    held.release();
    const denied: OrganizationsAnswer = await pending;
    assert.equal(denied.status, 400, JSON.stringify(denied.json));
    assert.equal(denied.json.__type, 'AccessDeniedException');
    const recorded = await events(denied.requestId);
    assert.equal(recorded.length, 1, JSON.stringify(recorded));
    return recorded[0] as AuditEvent;
  } finally {
    held.release();
    held.restore();
  }
}

test('a denied Organizations write is one deny event with the trace, committed before the refusal is answered', async () => {
  const roots = await organizationsOk(fx.url, fx.admin, 'ListRoots');
  const rootId = String((roots.Roots as { Id: string }[])[0]?.Id);
  const e = await refusedAfterItsRecord('CreateOrganizationalUnit', { ParentId: rootId, Name: 'denied' });
  assert.equal(e.action, 'organizations:CreateOrganizationalUnit');
  assert.equal(e.decision, 'deny');
  assert.equal(e.reasonCode, 'AccessDeniedException');
  assert.equal(e.caller, `arn:aws:iam::${fx.accountId}:user/reader`);
  assert.ok(e.detail?.trace, 'the policy trace is on record');
  const ous = await organizationsOk(fx.url, fx.admin, 'ListOrganizationalUnitsForParent', {
    ParentId: rootId,
  });
  assert.deepEqual(ous.OrganizationalUnits, [], 'nothing was created');
});

test('a denied CreateOrganization (its own transaction) waits for its record too', async () => {
  const e = await refusedAfterItsRecord('CreateOrganization', { FeatureSet: 'ALL' });
  assert.equal(e.action, 'organizations:CreateOrganization');
  assert.equal(e.decision, 'deny');
});

test('an Organizations denial whose audit event cannot be written is still answered AccessDeniedException', async () => {
  const r = await withFailingAuditWrites(fx, () => org(reader, 'DescribeOrganization'));
  assert.equal(r.json.__type, 'AccessDeniedException', JSON.stringify(r.json));
});
