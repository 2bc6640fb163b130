// An IAM request runs as authenticate → authorize → act → audit, with one audit point each way: a
// write's allow event commits in the write's own transaction (write-audit.test.ts), and a denial's
// event, decided inside the transaction, is written once the transaction has ended and awaited
// before the refusal is answered. A regression test for the denial written with an unawaited
// `void deps.audit(...)` from inside the transaction: its record could still be uncommitted (or
// lost) when the client already had its answer.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { holdAuditWrites, signedIamCall, withFailingAuditWrites } from '../helpers/audit.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;
let reader: Keys;
/** A user with no policy at all. */
let nobody: Keys;

const call = (keys: Keys, params: Record<string, string>) => signedIamCall(fx, keys, params);

const events = (requestId: string): Promise<AuditEvent[]> => fx.app.store.queryAudit({ requestId });

before(async () => {
  fx = await startCloud();
  // A user who may only read IAM.
  await call(fx.admin, { Action: 'CreateUser', UserName: 'reader' });
  await call(fx.admin, {
    Action: 'AttachUserPolicy',
    UserName: 'reader',
    PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess',
  });
  reader = await accessKey('reader');
  await call(fx.admin, { Action: 'CreateUser', UserName: 'nobody' });
  nobody = await accessKey('nobody');
});

async function accessKey(user: string): Promise<Keys> {
  const key = await call(fx.admin, { Action: 'CreateAccessKey', UserName: user });
  return {
    accessKeyId: /<AccessKeyId>([^<]+)</.exec(key.body)?.[1] ?? '',
    secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(key.body)?.[1] ?? '',
  };
}
after(() => fx?.stop());

test('a denied IAM write is one deny event with the trace, committed before the refusal is answered', async () => {
  const held = holdAuditWrites(fx);
  let answered = false;
  try {
    const pending = call(reader, { Action: 'CreateUser', UserName: 'not-allowed' }).then((r) => {
      answered = true;
      return r;
    });
    await held.reached;
    // Another request's full round trip while the denial's record is held: the denial is not answered.
    const other = await call(reader, { Action: 'GetUser', UserName: 'reader' });
    assert.equal(other.status, 200, other.body);
    assert.equal(answered, false, 'the refusal waited for its audit record');
    held.release();
    const denied = await pending;
    assert.equal(denied.status, 403, denied.body);
    // No flush: the record is committed before the answer left.
    const recorded = await events(denied.requestId);
    assert.equal(recorded.length, 1, JSON.stringify(recorded));
    const e = recorded[0] as AuditEvent;
    assert.equal(e.action, 'iam:CreateUser');
    assert.equal(e.decision, 'deny');
    assert.equal(e.reasonCode, 'AccessDenied');
    assert.equal(e.caller, `arn:aws:iam::${fx.accountId}:user/reader`);
    assert.ok(e.detail?.trace, 'the policy trace is on record');
  } finally {
    held.release();
    held.restore();
  }
});

test('a denied IAM simulation is one deny event too (SimulateCustomPolicy runs through the same transaction)', async () => {
  const r = await call(nobody, {
    Action: 'SimulateCustomPolicy',
    'PolicyInputList.member.1': JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    }),
    'ActionNames.member.1': 's3:GetObject',
  });
  if (r.status === 200)
    return assert.fail('IAMReadOnlyAccess is not meant to allow iam:SimulateCustomPolicy');
  assert.equal(r.status, 403, r.body);
  const recorded = await events(r.requestId);
  assert.deepEqual(
    recorded.map((e) => [e.action, e.decision]),
    [['iam:SimulateCustomPolicy', 'deny']],
  );
});

test('a denial whose audit event cannot be written is still answered AccessDenied', async () => {
  const r = await withFailingAuditWrites(fx, () =>
    call(reader, { Action: 'DeleteUser', UserName: 'reader' }),
  );
  assert.equal(r.status, 403, r.body);
  assert.match(r.body, /<Code>AccessDenied<\/Code>/);
  assert.equal(
    (await call(fx.admin, { Action: 'GetUser', UserName: 'reader' })).status,
    200,
    'nothing was deleted',
  );
});
