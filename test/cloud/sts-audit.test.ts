// The STS actions other than the two AssumeRole*s: a read (GetCallerIdentity, GetAccessKeyInfo,
// DecodeAuthorizationMessage) leaves no audit event, as IAM's reads do, and a refused one exactly
// one (with the policy trace when the policy engine refused it); RevokeRun, a write, leaves exactly
// one either way. Over real HTTP against a real node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { pick, type RawResponse, type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const V = '2011-06-15';

async function eventsOf(r: RawResponse): Promise<AuditEvent[]> {
  const requestId = String(r.headers['x-amzn-requestid']);
  await w.fx.cloud.flushAudit();
  return w.fx.app.store.queryAudit({ requestId });
}

async function only(r: RawResponse): Promise<AuditEvent> {
  const events = await eventsOf(r);
  assert.equal(events.length, 1, JSON.stringify(events));
  return events[0] as AuditEvent;
}

test('GetCallerIdentity leaves no event; a tampered signature on it leaves one', async () => {
  const ok = await w.signed(w.fx.admin, { Action: 'GetCallerIdentity', Version: V });
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(await eventsOf(ok), []);
  const tampered = await w.signed(
    w.fx.admin,
    { Action: 'GetCallerIdentity', Version: V },
    {
      tamper: (r) => {
        r.body = r.body.replace('GetCallerIdentity', 'GetCallerIdentity&Extra=1');
      },
    },
  );
  assert.equal(pick(tampered.body, 'Code'), 'SignatureDoesNotMatch');
  const e = await only(tampered);
  assert.equal(e.action, 'sts:GetCallerIdentity');
  assert.equal(e.reasonCode, 'SignatureDoesNotMatch');
});

test('GetAccessKeyInfo: an answer leaves no event, an unknown key one, a denied caller one with the trace', async () => {
  const ok = await w.signed(w.fx.admin, {
    Action: 'GetAccessKeyInfo',
    Version: V,
    AccessKeyId: w.fx.admin.accessKeyId,
  });
  assert.equal(pick(ok.body, 'Account'), w.fx.accountId);
  assert.deepEqual(await eventsOf(ok), []);
  const unknown = await w.signed(w.fx.admin, {
    Action: 'GetAccessKeyInfo',
    Version: V,
    AccessKeyId: 'AKIAZZZZZZZZZZZZZZZZ',
  });
  assert.equal(pick(unknown.body, 'Code'), 'InvalidParameterValue');
  const u = await only(unknown);
  assert.equal(u.reasonCode, 'InvalidParameterValue');
  assert.equal(u.detail?.trace, undefined, 'no policy refused it');
  // A session of role `web`, whose policies allow sts:AssumeRole, sts:TagSession and iam:Get* only.
  const session = await w.session();
  const denied = await w.signed(session, {
    Action: 'GetAccessKeyInfo',
    Version: V,
    AccessKeyId: w.fx.admin.accessKeyId,
  });
  assert.equal(pick(denied.body, 'Code'), 'AccessDenied');
  const d = await only(denied);
  assert.equal(d.action, 'sts:GetAccessKeyInfo');
  assert.equal(d.decision, 'deny');
  assert.equal(d.caller, `arn:aws:sts::${w.fx.accountId}:assumed-role/web/world`);
  assert.equal(typeof d.sessionId, 'string');
  assert.equal(d.detail?.deniedAction, 'sts:GetAccessKeyInfo');
  assert.ok(d.detail?.trace, 'the policy trace is on record');
});

test('DecodeAuthorizationMessage: a decoded message leaves no event, a bad one one, a denied caller one with the trace', async () => {
  const refusedTrust = await w.webIdentity(
    {},
    { sub: 'organization:other:project:x:workspace:y:run_phase:plan' },
  );
  const encoded =
    /Encoded authorization failure message: (\S+)/.exec(pick(refusedTrust.body, 'Message'))?.[1] ?? '';
  assert.notEqual(encoded, '');
  const ok = await w.signed(w.fx.admin, {
    Action: 'DecodeAuthorizationMessage',
    Version: V,
    EncodedMessage: encoded,
  });
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(await eventsOf(ok), []);
  const bad = await w.signed(w.fx.admin, {
    Action: 'DecodeAuthorizationMessage',
    Version: V,
    EncodedMessage: `${encoded}x`,
  });
  assert.equal(pick(bad.body, 'Code'), 'InvalidAuthorizationMessageException');
  assert.equal((await only(bad)).reasonCode, 'InvalidAuthorizationMessageException');
  const denied = await w.signed(await w.session(), {
    Action: 'DecodeAuthorizationMessage',
    Version: V,
    EncodedMessage: encoded,
  });
  assert.equal(pick(denied.body, 'Code'), 'AccessDenied');
  const d = await only(denied);
  assert.equal(d.detail?.deniedAction, 'sts:DecodeAuthorizationMessage');
  assert.ok(d.detail?.trace);
  assert.ok(!JSON.stringify(d).includes(encoded), 'the encoded message is not kept');
});

test('RevokeRun: a revocation is one allow event naming the run and the jti; a refusal is one deny event', async () => {
  const run = { terraform_run_id: 'run-audited-revoke', jti: 'jti-audited-revoke' };
  const token = await w.token(run);
  const r = await w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: token });
  assert.equal(r.status, 200, r.body);
  const e = await only(r);
  assert.equal(e.action, 'sts:RevokeRun');
  assert.equal(e.decision, 'allow');
  assert.equal(e.runId, 'run-audited-revoke');
  assert.equal(e.jti, 'jti-audited-revoke');
  assert.equal(e.detail?.reason, 'run ended');
  assert.ok(!JSON.stringify(e).includes(token), 'never the token');
  const runless = await w.post({
    Action: 'RevokeRun',
    Version: V,
    WebIdentityToken: await w.token({ terraform_run_id: undefined }),
  });
  assert.equal(pick(runless.body, 'Code'), 'InvalidIdentityToken');
  const d = await only(runless);
  assert.equal(d.action, 'sts:RevokeRun');
  assert.equal(d.decision, 'deny');
  assert.equal(d.reasonCode, 'InvalidIdentityToken');
  const noPhase = await w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: token, Scope: 'Phase' });
  assert.equal(pick(noPhase.body, 'Code'), 'InvalidIdentityToken');
  assert.equal((await only(noPhase)).reasonCode, 'InvalidIdentityToken');
  const notJwt = await w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: 'not-a-jwt' });
  assert.equal((await only(notJwt)).reasonCode, 'InvalidIdentityToken');
});
