// STS semantics beyond the happy path, against a running node over HTTP: every token claim as a
// `<provider>:<claim>` condition key, sts:TagSession and sts:SetSourceIdentity, ExternalId, session
// tags with transitive inheritance and conflicts, SourceIdentity immutable along a chain,
// DecodeAuthorizationMessage only for allowed principals, and persistent revocation.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Caller } from '../../src/cloud/caller/caller.js';
import { openSession } from '../../src/cloud/sessions/credentials.js';
import { Revocations, revocationId } from '../../src/cloud/sessions/revocations.js';
import { getCallerIdentity } from '../../src/cloud/sts/identity.js';
import { runSubject } from '../../src/store/records/sessions.js';
import { AUD, keysFrom, pick, type RawResponse, type StsWorld, SUB, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const STS = '2011-06-15';
const IAM = '2010-05-08';
const TAGS = 'https://aws.amazon.com/tags';
const SOURCE = 'https://aws.amazon.com/source_identity';

async function ok(r: Promise<RawResponse> | RawResponse): Promise<string> {
  const res = await r;
  assert.equal(res.status, 200, `${pick(res.body, 'Code')}: ${pick(res.body, 'Message')}`);
  return res.body;
}

async function refused(r: Promise<RawResponse>, code: string, status: number): Promise<string> {
  const res = await r;
  assert.equal(pick(res.body, 'Code'), code, pick(res.body, 'Message'));
  assert.equal(res.status, status);
  return pick(res.body, 'Message');
}

/** A role created through the IAM API by the administrator. */
async function createRole(name: string, trust: unknown, inline?: unknown): Promise<string> {
  await ok(
    w.signed(
      w.fx.admin,
      { Action: 'CreateRole', Version: IAM, RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust) },
      { service: 'iam' },
    ),
  );
  if (inline) {
    await ok(
      w.signed(
        w.fx.admin,
        {
          Action: 'PutRolePolicy',
          Version: IAM,
          RoleName: name,
          PolicyName: 'p',
          PolicyDocument: JSON.stringify(inline),
        },
        { service: 'iam' },
      ),
    );
  }
  return w.roleArn(name);
}

const federated = () => ({ Federated: `arn:aws:iam::${w.fx.accountId}:oidc-provider/${w.host}` });

function webTrust(actions: string[], extra: Record<string, string> = {}) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: federated(),
        Action: actions,
        Condition: { StringEquals: { [`${w.host}:aud`]: AUD, [`${w.host}:sub`]: SUB, ...extra } },
      },
    ],
  };
}

const assume = (role: string, claims: Record<string, unknown>, extra: Record<string, string> = {}) =>
  w.webIdentity({ RoleArn: role, ...extra }, claims);

test('trust can pin any token claim as <provider>:<claim>, e.g. terraform_workspace_id', async () => {
  const role = await createRole(
    'ws-pinned',
    webTrust(['sts:AssumeRoleWithWebIdentity'], { [`${w.host}:terraform_workspace_id`]: 'ws-good' }),
  );
  await ok(assume(role, { terraform_workspace_id: 'ws-good' }));
  await refused(assume(role, { terraform_workspace_id: 'ws-other' }), 'AccessDenied', 403);
  await refused(assume(role, {}), 'AccessDenied', 403);
});

test('session tags in the token need sts:TagSession; granted, they reach the session', async () => {
  const tags = { [TAGS]: { principal_tags: { team: ['net'] }, transitive_tag_keys: ['team'] } };
  const without = await createRole('no-tag-session', webTrust(['sts:AssumeRoleWithWebIdentity']));
  await refused(assume(without, tags), 'AccessDenied', 403);
  await ok(assume(without, {}));
  const withTags = await createRole(
    'tag-session',
    webTrust(['sts:AssumeRoleWithWebIdentity', 'sts:TagSession']),
    {
      Version: '2012-10-17',
      Statement: [
        // Only a session tagged team=net may read roles: proves the tag is on the session.
        {
          Effect: 'Allow',
          Action: 'iam:GetRole',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalTag/team': 'net' } },
        },
      ],
    },
  );
  const k = keysFrom(await ok(assume(withTags, tags)));
  await ok(w.signed(k, { Action: 'GetRole', Version: IAM, RoleName: 'tag-session' }, { service: 'iam' }));
});

test('a source identity in the token needs sts:SetSourceIdentity and is returned', async () => {
  const claims = { [SOURCE]: 'run-abc123' };
  const without = await createRole('no-source', webTrust(['sts:AssumeRoleWithWebIdentity']));
  await refused(assume(without, claims), 'AccessDenied', 403);
  const role = await createRole(
    'source',
    webTrust(['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity']),
  );
  assert.equal(pick(await ok(assume(role, claims)), 'SourceIdentity'), 'run-abc123');
});

test('AssumeRole with an ExternalId condition: refused without or with a wrong id, allowed with it', async () => {
  const role = await createRole('external', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${w.fx.accountId}:root` },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': 'partner-42' } },
      },
    ],
  });
  const call = (extra: Record<string, string>) =>
    w.signed(w.fx.admin, {
      Action: 'AssumeRole',
      Version: STS,
      RoleArn: role,
      RoleSessionName: 'ext',
      ...extra,
    });
  await refused(call({}), 'AccessDenied', 403);
  await refused(call({ ExternalId: 'partner-43' }), 'AccessDenied', 403);
  await ok(call({ ExternalId: 'partner-42' }));
});

test('transitive tags are inherited by a chained session, and a request tag with the same key is a conflict', async () => {
  const hub = await w.session();
  const first = keysFrom(
    await ok(
      w.signed(hub, {
        Action: 'AssumeRole',
        Version: STS,
        RoleArn: w.roleArn('target', w.memberId),
        RoleSessionName: 'first',
        'Tags.member.1.Key': 'Team',
        'Tags.member.1.Value': 'net',
        'TransitiveTagKeys.member.1': 'Team',
      }),
    ),
  );
  // A transitive key that is not one of the request's tags is refused.
  await refused(
    w.signed(hub, {
      Action: 'AssumeRole',
      Version: STS,
      RoleArn: w.roleArn('target', w.memberId),
      RoleSessionName: 'bad',
      'TransitiveTagKeys.member.1': 'Team',
    }),
    'InvalidParameterValue',
    400,
  );
  // Duplicate keys differing only in case are refused.
  await refused(
    w.signed(hub, {
      Action: 'AssumeRole',
      Version: STS,
      RoleArn: w.roleArn('target', w.memberId),
      RoleSessionName: 'dup',
      'Tags.member.1.Key': 'a',
      'Tags.member.1.Value': '1',
      'Tags.member.2.Key': 'A',
      'Tags.member.2.Value': '2',
    }),
    'InvalidParameterValue',
    400,
  );
  // From the tagged session, a request tag with the inherited key (any case) is refused before any
  // policy is read.
  const conflict = await w.signed(first, {
    Action: 'AssumeRole',
    Version: STS,
    RoleArn: w.roleArn('target', w.memberId),
    RoleSessionName: 'second',
    'Tags.member.1.Key': 'team',
    'Tags.member.1.Value': 'other',
  });
  assert.equal(pick(conflict.body, 'Code'), 'InvalidParameterValue', pick(conflict.body, 'Message'));
  assert.match(pick(conflict.body, 'Message'), /conflict with transitive tags/);
});

test('SourceIdentity is immutable along a chain: the same value passes, another is refused, none inherits it', async () => {
  const role = await createRole(
    'source-chain',
    webTrust(['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity']),
    {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'], Resource: '*' }],
    },
  );
  await createRole('source-target', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: role },
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      },
    ],
  });
  const k = keysFrom(await ok(assume(role, { [SOURCE]: 'run-immutable' })));
  const target = w.roleArn('source-target');
  const hop = (extra: Record<string, string>) =>
    w.signed(k, { Action: 'AssumeRole', Version: STS, RoleArn: target, RoleSessionName: 'hop', ...extra });
  await refused(hop({ SourceIdentity: 'someone-else' }), 'InvalidParameterValue', 400);
  assert.equal(pick(await ok(hop({ SourceIdentity: 'run-immutable' })), 'SourceIdentity'), 'run-immutable');
  assert.equal(pick(await ok(hop({})), 'SourceIdentity'), 'run-immutable');
});

test('DecodeAuthorizationMessage: a principal without the permission is denied; the public error holds no claim or policy text', async () => {
  const denied = await w.webIdentity({}, { sub: `${SUB}-not`, terraform_workspace_id: 'ws-secret-claim' });
  const message = pick(denied.body, 'Message');
  assert.equal(pick(denied.body, 'Code'), 'AccessDenied');
  for (const leak of [SUB, 'ws-secret-claim', AUD, 'StringLike', 'Statement', 'run_phase']) {
    assert.ok(!message.includes(leak), `the public AccessDenied does not contain ${leak}`);
  }
  const encoded = /Encoded authorization failure message: (\S+)/.exec(message)?.[1] ?? '';
  const session = await w.session();
  const msg = await refused(
    w.signed(session, { Action: 'DecodeAuthorizationMessage', Version: STS, EncodedMessage: encoded }),
    'AccessDenied',
    403,
  );
  assert.ok(!msg.includes('StringLike') && !msg.includes(SUB));
  const decoded = pick(
    await ok(
      w.signed(w.fx.admin, { Action: 'DecodeAuthorizationMessage', Version: STS, EncodedMessage: encoded }),
    ),
    'DecodedMessage',
  );
  assert.match(decoded, /trust-policy-does-not-allow/);
  await refused(
    w.signed(w.fx.admin, {
      Action: 'DecodeAuthorizationMessage',
      Version: STS,
      EncodedMessage: `${encoded}x`,
    }),
    'InvalidAuthorizationMessageException',
    400,
  );
});

test('GetCallerIdentity of an account root names the account (arn:aws:iam::<acct>:root, UserId = account)', () => {
  const root: Caller = {
    kind: 'root',
    accountId: '123456789012',
    arn: 'arn:aws:iam::123456789012:root',
    accessKeyId: 'AKIAAAAAAAAAAAAAAAAA',
  };
  assert.deepEqual(getCallerIdentity(root), {
    arn: 'arn:aws:iam::123456789012:root',
    userId: '123456789012',
    account: '123456789012',
  });
});

test('revocations are stored: a node starting later (fresh from the store) refuses the same sessions', async () => {
  const k = await w.session({ terraform_run_id: 'run-persisted' });
  await ok(
    w.post({
      Action: 'RevokeRun',
      Version: STS,
      WebIdentityToken: await w.token({ terraform_run_id: 'run-persisted' }),
    }),
  );
  await refused(w.signed(k, { Action: 'GetCallerIdentity', Version: STS }), 'InvalidClientTokenId', 403);
  const stored = await w.fx.app.store.get(
    'revocation',
    revocationId('run', runSubject(w.idp.issuer, 'run-persisted')),
  );
  assert.equal(stored?.scope, 'run');
  assert.equal(stored?.issuer, w.idp.issuer);
  const fresh = new Revocations(w.fx.app.store);
  await fresh.load();
  assert.equal(fresh.isRunRevoked({ issuer: w.idp.issuer, runId: 'run-persisted' }), true);
});

test('issuances and denials are audit events with request id, action, caller, role, sub, aud, jti, run, source and agent, never a secret', async () => {
  const ua = { 'user-agent': 'features-agent/1.0' };
  const jti = 'jti-audit-fields';
  const token = await w.token({ jti, terraform_run_id: 'run-audit' });
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['sts:AssumeRole', 'iam:Get*'], Resource: '*' }],
  });
  const r = await w.post(
    {
      Action: 'AssumeRoleWithWebIdentity',
      Version: STS,
      RoleArn: w.roleArn('web'),
      RoleSessionName: 'audited',
      WebIdentityToken: token,
      Policy: policy,
    },
    ua,
  );
  const body = await ok(r);
  const k = keysFrom(body);
  const chained = await w.signed(
    k,
    { Action: 'AssumeRole', Version: STS, RoleArn: w.roleArn('target', w.memberId), RoleSessionName: 'hop' },
    { headers: ua },
  );
  const c = keysFrom(await ok(chained));
  const denied = await w.post(
    {
      Action: 'AssumeRoleWithWebIdentity',
      Version: STS,
      RoleArn: w.roleArn('web'),
      RoleSessionName: 'audited',
      WebIdentityToken: await w.token({ sub: `${SUB}-no` }),
    },
    ua,
  );
  assert.equal(denied.status, 403);
  const events = await w.audit();
  const byRequest = (res: RawResponse) => events.find((e) => e.requestId === res.headers['x-amzn-requestid']);
  const issued = byRequest(r);
  assert.deepEqual(
    {
      action: issued?.action,
      decision: issued?.decision,
      caller: issued?.caller,
      roleArn: issued?.roleArn,
      sub: issued?.sub,
      aud: issued?.aud,
      jti: issued?.jti,
      runId: issued?.runId,
      sourceIp: issued?.sourceIp,
      userAgent: issued?.userAgent,
      accessKeyId: issued?.accessKeyId,
    },
    {
      action: 'sts:AssumeRoleWithWebIdentity',
      decision: 'allow',
      caller: `arn:aws:sts::${w.fx.accountId}:assumed-role/web/audited`,
      roleArn: w.roleArn('web'),
      sub: SUB,
      aud: AUD,
      jti,
      runId: 'run-audit',
      sourceIp: '127.0.0.1',
      userAgent: 'features-agent/1.0',
      accessKeyId: k.accessKeyId,
    },
  );
  const hop = byRequest(chained);
  assert.equal(hop?.decision, 'allow');
  assert.equal(hop?.caller, `arn:aws:sts::${w.fx.accountId}:assumed-role/web/audited`);
  assert.equal(hop?.roleArn, w.roleArn('target', w.memberId));
  assert.deepEqual([hop?.sub, hop?.aud, hop?.jti, hop?.runId], [SUB, AUD, jti, 'run-audit']);
  assert.equal(hop?.userAgent, 'features-agent/1.0');
  const no = byRequest(denied);
  assert.deepEqual(
    [no?.decision, no?.reasonCode, no?.roleArn, no?.sourceIp, no?.userAgent],
    ['deny', 'AccessDenied', w.roleArn('web'), '127.0.0.1', 'features-agent/1.0'],
  );
  const recorded = JSON.stringify(events);
  for (const secret of [
    token,
    k.secretAccessKey,
    k.sessionToken ?? '',
    c.secretAccessKey,
    c.sessionToken ?? '',
  ]) {
    assert.ok(!recorded.includes(secret), 'no token or secret in the audit log');
  }
  // The session policy travels sealed in the session, with its digest.
  const opened = openSession(w.fx.cloud.keys, k.accessKeyId, k.sessionToken ?? '');
  assert.match(opened?.claims.policyDigest ?? '', /^[0-9a-f]{64}$/);
  assert.equal(opened?.claims.policies?.inline, policy);
});
