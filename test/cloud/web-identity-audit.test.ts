// AssumeRoleWithWebIdentity writes exactly one audit event per request, from one builder, whatever
// step answers: the issuance, a trust denial (with the policy trace), a missing role, or a token
// refused before any policy decision (with a few unverified claims, never the token). Over real HTTP
// against a real node; a regression test for a refusal that escaped its step and was recorded by
// the endpoint's catch-all instead, without the claims `gatepass explain` needs. A failed audit
// write fails an issuance (no credentials leave) and leaves a refusal answered.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { eventsOf, onlyEventOf, withFailingAuditWrites } from '../helpers/audit.js';
import { keysFrom, pick, type RawResponse, type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const only = (r: RawResponse): Promise<AuditEvent> => onlyEventOf(w.fx, r);

const forge = (token: string): string => {
  const [h, p, s = ''] = token.split('.');
  return `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
};

test('an issuance is one allow event naming the session, its key, the role, sub and aud', async () => {
  const r = await w.webIdentity();
  assert.equal(r.status, 200, r.body);
  const e = await only(r);
  assert.equal(e.decision, 'allow');
  assert.equal(e.action, 'sts:AssumeRoleWithWebIdentity');
  assert.equal(e.accessKeyId, pick(r.body, 'AccessKeyId'));
  assert.equal(e.roleArn, w.roleArn('web'));
  assert.equal(typeof e.sub, 'string');
  assert.equal(typeof e.detail?.kid, 'string');
});

test('a forged signature is one deny event with the unverified claims and the kid, never the token', async () => {
  const token = forge(await w.token({ jti: 'jti-forged-audit' }));
  const r = await w.webIdentity({ WebIdentityToken: token });
  assert.equal(r.status, 400, r.body);
  assert.equal(pick(r.body, 'Code'), 'InvalidIdentityToken');
  const e = await only(r);
  assert.equal(e.reasonCode, 'InvalidIdentityToken');
  assert.equal((e.detail?.unverifiedClaims as Record<string, unknown>)?.jti, 'jti-forged-audit');
  assert.equal(typeof e.detail?.kid, 'string');
  assert.ok(!JSON.stringify(e).includes(token.split('.')[2] ?? 'x'), 'the signature is not kept');
});

test('a token of an unregistered issuer is one deny event', async () => {
  const r = await w.webIdentity({ WebIdentityToken: await w.token({}, w.stranger) });
  assert.equal(pick(r.body, 'Code'), 'InvalidIdentityToken');
  assert.match(pick(r.body, 'Message'), /No OpenIDConnect provider found/);
  assert.equal((await only(r)).reasonCode, 'InvalidIdentityToken');
});

test('a trust policy that does not match is one AccessDenied event with the trace', async () => {
  const r = await w.webIdentity({}, { sub: 'organization:acme:project:Infra:workspace:x:run_phase:apply' });
  assert.equal(r.status, 403, r.body);
  const e = await only(r);
  assert.equal(e.reasonCode, 'AccessDenied');
  assert.equal(e.detail?.deniedAction, 'sts:AssumeRoleWithWebIdentity');
  assert.ok(e.detail?.trace, 'the policy trace is on record');
});

test('a role that does not exist is one AccessDenied event saying so', async () => {
  const r = await w.webIdentity({ RoleArn: w.roleArn('no-such-role') });
  assert.equal(pick(r.body, 'Code'), 'AccessDenied');
  const e = await only(r);
  assert.equal(e.detail?.reason, 'role-not-found');
});

test('a DurationSeconds over the role maximum is one event, after the trust decision allowed', async () => {
  const r = await w.webIdentity({ DurationSeconds: '43200' });
  assert.equal(pick(r.body, 'Code'), 'ValidationError');
  assert.equal((await only(r)).reasonCode, 'ValidationError');
});

test('an issuance whose audit event cannot be written fails: no credentials leave; a refusal is still answered', async () => {
  const r = await withFailingAuditWrites(w.fx, () => w.webIdentity());
  assert.equal(r.status, 500, r.body);
  assert.equal(pick(r.body, 'Code'), 'InternalFailure');
  assert.equal(keysFrom(r.body).accessKeyId, '');
  assert.doesNotMatch(r.body, /SecretAccessKey|SessionToken|ASIA/);
  const denied = await withFailingAuditWrites(w.fx, () =>
    w.webIdentity({ RoleArn: w.roleArn('no-such-role') }),
  );
  assert.equal(pick(denied.body, 'Code'), 'AccessDenied');
  for (const refused of [r, denied]) assert.deepEqual(await eventsOf(w.fx, refused), []);
});
