// One audit event per STS request, over real HTTP against a real node. AssumeRole writes exactly
// one from one builder, whatever step answers: an issuance (direct or chained), a trust denial (with
// the policy trace), a missing role, a duration over the role's or the chain's limit, a refused tag
// or source identity; a caller refused before the action runs (revoked, bad parameter) is recorded
// once by the endpoint. The issuance is on record before the credentials leave: a failed audit write
// fails it, while a refusal is still answered (a regression test for the issuance and denials once
// recorded from three places: the transaction, an unawaited write, the endpoint). The other
// actions: a read (GetCallerIdentity, GetAccessKeyInfo, DecodeAuthorizationMessage) leaves none, as
// IAM's reads do, and a refused one exactly one (with the policy trace when a policy refused it);
// RevokeRun, a write, leaves exactly one either way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { eventsOf as auditEventsOf, onlyEventOf, withFailingAuditWrites } from '../helpers/audit.js';
import type { Keys } from '../helpers/cloud.js';
import { keysFrom, pick, type RawResponse, type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const V = '2011-06-15';

const eventsOf = (r: RawResponse): Promise<AuditEvent[]> => auditEventsOf(w.fx, r);
const only = (r: RawResponse): Promise<AuditEvent> => onlyEventOf(w.fx, r);

const assume = (keys: Keys, role: string, extra: Record<string, string> = {}, account?: string) =>
  w.signed(keys, {
    Action: 'AssumeRole',
    Version: V,
    RoleArn: w.roleArn(role, account),
    RoleSessionName: 'audited',
    ...extra,
  });

const adminArn = (): string => `arn:aws:iam::${w.fx.accountId}:user/gatepass-admin`;

test('an issuance is one allow event naming the caller, the role, the new key and the chain depth', async () => {
  const r = await assume(w.fx.admin, 'tagged');
  assert.equal(r.status, 200, r.body);
  const e = await only(r);
  assert.equal(e.action, 'sts:AssumeRole');
  assert.equal(e.decision, 'allow');
  assert.equal(e.accessKeyId, pick(r.body, 'AccessKeyId'));
  assert.equal(e.roleArn, w.roleArn('tagged'));
  assert.equal(e.accountId, w.fx.accountId);
  assert.equal(e.sessionId, undefined, 'a user is not a session');
  assert.deepEqual(e.detail, {
    chainDepth: 1,
    durationSeconds: 3600,
    assumedRoleArn: `arn:aws:sts::${w.fx.accountId}:assumed-role/tagged/audited`,
  });
});

test('a chained issuance is one allow event with the calling session, its run and the web identity it started from', async () => {
  const session = await w.session({ jti: 'jti-chain-audit' });
  const r = await assume(session, 'target', {}, w.memberId);
  assert.equal(r.status, 200, r.body);
  const e = await only(r);
  assert.equal(e.decision, 'allow');
  assert.equal(e.caller, `arn:aws:sts::${w.fx.accountId}:assumed-role/web/world`);
  assert.equal(e.roleArn, w.roleArn('target', w.memberId));
  assert.equal(e.accountId, w.memberId);
  assert.equal(e.runId, 'run-world');
  assert.equal(typeof e.sessionId, 'string');
  assert.equal(e.jti, 'jti-chain-audit');
  assert.equal(typeof e.sub, 'string');
  assert.equal(e.detail?.chainDepth, 2);
});

test('a trust policy that does not admit the caller is one AccessDenied event with the trace', async () => {
  // `web` trusts only its identity provider: the administrator is not in its trust policy.
  const r = await assume(w.fx.admin, 'web');
  assert.equal(r.status, 403, r.body);
  const e = await only(r);
  assert.equal(e.decision, 'deny');
  assert.equal(e.reasonCode, 'AccessDenied');
  assert.equal(e.caller, adminArn());
  assert.equal(e.roleArn, w.roleArn('web'));
  assert.equal(e.detail?.deniedAction, 'sts:AssumeRole');
  assert.ok(e.detail?.trace, 'the policy trace is on record');
});

test('asking to set a source identity the trust policy does not allow is one denial naming sts:SetSourceIdentity', async () => {
  const session = await w.session();
  // `target` trusts role `web` for sts:AssumeRole and sts:TagSession only.
  const r = await assume(session, 'target', { SourceIdentity: 'alice' }, w.memberId);
  assert.equal(pick(r.body, 'Code'), 'AccessDenied');
  const e = await only(r);
  assert.equal(e.detail?.deniedAction, 'sts:SetSourceIdentity');
  assert.ok(e.detail?.trace);
});

test('a role that does not exist is one AccessDenied event saying so, in the account the ARN names', async () => {
  const r = await assume(w.fx.admin, 'no-such-role');
  assert.equal(r.status, 403, r.body);
  assert.equal(pick(r.body, 'Code'), 'AccessDenied');
  const e = await only(r);
  assert.equal(e.reasonCode, 'AccessDenied');
  assert.equal(e.roleArn, w.roleArn('no-such-role'));
  assert.equal(e.accountId, w.fx.accountId);
  assert.deepEqual(e.detail, { reason: 'role-not-found' });
});

test("a DurationSeconds over the role's maximum is one ValidationError event naming the caller", async () => {
  const r = await assume(w.fx.admin, 'tagged', { DurationSeconds: '43200' });
  assert.equal(pick(r.body, 'Code'), 'ValidationError');
  const e = await only(r);
  assert.equal(e.decision, 'deny');
  assert.equal(e.reasonCode, 'ValidationError');
  assert.equal(e.action, 'sts:AssumeRole');
  assert.equal(e.caller, adminArn());
  assert.match(String(e.detail?.message), /MaxSessionDuration/);
});

test('a chained session asked for over one hour is one ValidationError event naming the calling session', async () => {
  const session = await w.session();
  const r = await assume(session, 'target', { DurationSeconds: '7200' }, w.memberId);
  assert.equal(pick(r.body, 'Code'), 'ValidationError');
  const e = await only(r);
  assert.equal(e.reasonCode, 'ValidationError');
  assert.equal(typeof e.sessionId, 'string');
  assert.match(String(e.detail?.message), /1 hour session limit/);
});

test('duplicate session tag keys are one InvalidParameterValue event; so is a transitive key that is not a tag', async () => {
  const dup = await assume(w.fx.admin, 'tagged', {
    'Tags.member.1.Key': 'team',
    'Tags.member.1.Value': 'a',
    'Tags.member.2.Key': 'Team',
    'Tags.member.2.Value': 'b',
  });
  assert.equal(pick(dup.body, 'Code'), 'InvalidParameterValue');
  assert.equal((await only(dup)).reasonCode, 'InvalidParameterValue');
  const stray = await assume(w.fx.admin, 'tagged', { 'TransitiveTagKeys.member.1': 'team' });
  assert.equal(pick(stray.body, 'Code'), 'InvalidParameterValue');
  assert.equal((await only(stray)).caller, adminArn());
});

test('a parameter the API model refuses is one event, recorded by the endpoint before the action runs', async () => {
  const r = await assume(w.fx.admin, 'tagged', { RoleSessionName: 'x' });
  assert.equal(pick(r.body, 'Code'), 'ValidationError');
  const e = await only(r);
  assert.equal(e.action, 'sts:AssumeRole');
  assert.equal(e.reasonCode, 'ValidationError');
});

test('a session of a revoked run asking for AssumeRole is one event saying it was revoked', async () => {
  const run = { terraform_run_id: 'run-revoked-caller' };
  const session = await w.session(run);
  const revoked = await w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: await w.token(run) });
  assert.equal(revoked.status, 200, revoked.body);
  const r = await assume(session, 'target', {}, w.memberId);
  assert.equal(pick(r.body, 'Code'), 'InvalidClientTokenId');
  const e = await only(r);
  assert.equal(e.action, 'sts:AssumeRole');
  assert.equal(e.runId, 'run-revoked-caller');
  assert.equal(e.detail?.refusal && (e.detail.refusal as { kind: string }).kind, 'revoked');
});

const failingAudit = <T>(fn: () => Promise<T>): Promise<T> => withFailingAuditWrites(w.fx, fn);

test('an issuance whose audit event cannot be written fails: no credentials leave the server', async () => {
  const r = await failingAudit(() => assume(w.fx.admin, 'tagged'));
  assert.equal(r.status, 500, r.body);
  assert.equal(pick(r.body, 'Code'), 'InternalFailure');
  assert.equal(keysFrom(r.body).accessKeyId, '');
  assert.doesNotMatch(r.body, /SecretAccessKey|SessionToken|ASIA/);
  assert.equal((await eventsOf(r)).length, 0, 'nothing recorded it later either');
  // Writes work again: the next issuance is answered and recorded.
  const next = await assume(w.fx.admin, 'tagged');
  assert.equal(next.status, 200, next.body);
  assert.equal((await only(next)).decision, 'allow');
});

test('a refusal whose audit event cannot be written is still answered with its own error', async () => {
  const missing = await failingAudit(() => assume(w.fx.admin, 'no-such-role'));
  assert.equal(missing.status, 403, missing.body);
  assert.equal(pick(missing.body, 'Code'), 'AccessDenied');
  const denied = await failingAudit(() => assume(w.fx.admin, 'web'));
  assert.equal(pick(denied.body, 'Code'), 'AccessDenied');
  const tooLong = await failingAudit(() => assume(w.fx.admin, 'tagged', { DurationSeconds: '43200' }));
  assert.equal(pick(tooLong.body, 'Code'), 'ValidationError');
  for (const r of [missing, denied, tooLong]) assert.equal((await eventsOf(r)).length, 0);
});

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
