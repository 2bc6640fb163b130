// Every management write on the record: each registered IAM action is called once through the real
// endpoint with SigV4; every write leaves exactly one `allow` audit event (caller, action, target
// ARN, request id, digests of what changed, never a secret) and every read none. A write that fails
// or is denied leaves no `allow` event; `gatepass audit --action` finds who changed a trust policy.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { writeEvent } from '../../src/cloud/audit/write-audit.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { cli } from '../explain/helpers.js';
import { signedIamCall } from '../helpers/audit.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;
let A: string;

const call = (keys: Keys, params: Record<string, string>) => signedIamCall(fx, keys, params);

const events = (requestId: string): Promise<AuditEvent[]> => fx.app.store.queryAudit({ requestId });
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const doc = (action: string, resource = '*'): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
  });
const trust = (principal: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  });

before(async () => {
  fx = await startCloud();
  A = fx.accountId;
});
after(() => fx?.stop());

/** Reads are the actions AWS classes as List, Read or simulation; everything else changes something. */
const isWrite = (action: string): boolean => !/^(Get|List|Simulate)/.test(action);

test('every IAM write action leaves exactly one allow event with caller, target ARN and digests; reads leave none', async () => {
  const provider = `arn:aws:iam::${A}:oidc-provider/wa.example.com`;
  const role = `arn:aws:iam::${A}:role/wa-role`;
  const user = `arn:aws:iam::${A}:user/wa-user`;
  const policy = `arn:aws:iam::${A}:policy/wa-policy`;
  const trustDoc = trust(`arn:aws:iam::${A}:root`);
  const newTrust = trust(`arn:aws:iam::${A}:user/someone-else`);
  const tag = { 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'net' };
  const P = { OpenIDConnectProviderArn: provider };
  const R = { RoleName: 'wa-role' };
  const U = { UserName: 'wa-user' };
  const PA = { PolicyArn: policy };
  const script: [string, Record<string, string>][] = [
    [
      'CreateOpenIDConnectProvider',
      {
        Url: 'https://wa.example.com',
        'ClientIDList.member.1': 'aud1',
        'ThumbprintList.member.1': 'a'.repeat(40),
      },
    ],
    ['GetOpenIDConnectProvider', P],
    ['ListOpenIDConnectProviders', {}],
    ['AddClientIDToOpenIDConnectProvider', { ...P, ClientID: 'aud2' }],
    ['RemoveClientIDFromOpenIDConnectProvider', { ...P, ClientID: 'aud2' }],
    ['UpdateOpenIDConnectProviderThumbprint', { ...P, 'ThumbprintList.member.1': 'b'.repeat(40) }],
    ['TagOpenIDConnectProvider', { ...P, ...tag }],
    ['ListOpenIDConnectProviderTags', P],
    ['UntagOpenIDConnectProvider', { ...P, 'TagKeys.member.1': 'team' }],
    ['CreateRole', { ...R, AssumeRolePolicyDocument: trustDoc }],
    ['GetRole', R],
    ['ListRoles', {}],
    ['UpdateRole', { ...R, MaxSessionDuration: '7200' }],
    ['UpdateRoleDescription', { ...R, Description: 'wa' }],
    ['UpdateAssumeRolePolicy', { ...R, PolicyDocument: newTrust }],
    ['CreatePolicy', { PolicyName: 'wa-policy', PolicyDocument: doc('s3:GetObject') }],
    ['GetPolicy', PA],
    ['ListPolicies', { Scope: 'Local' }],
    ['CreatePolicyVersion', { ...PA, PolicyDocument: doc('s3:PutObject') }],
    ['GetPolicyVersion', { ...PA, VersionId: 'v2' }],
    ['ListPolicyVersions', PA],
    ['SetDefaultPolicyVersion', { ...PA, VersionId: 'v2' }],
    ['DeletePolicyVersion', { ...PA, VersionId: 'v1' }],
    ['TagPolicy', { ...PA, ...tag }],
    ['ListPolicyTags', PA],
    ['UntagPolicy', { ...PA, 'TagKeys.member.1': 'team' }],
    ['PutRolePermissionsBoundary', { ...R, PermissionsBoundary: policy }],
    ['DeleteRolePermissionsBoundary', R],
    ['ListInstanceProfilesForRole', R],
    ['TagRole', { ...R, ...tag }],
    ['ListRoleTags', R],
    ['UntagRole', { ...R, 'TagKeys.member.1': 'team' }],
    ['PutRolePolicy', { ...R, PolicyName: 'inline', PolicyDocument: doc('s3:ListBucket') }],
    ['GetRolePolicy', { ...R, PolicyName: 'inline' }],
    ['ListRolePolicies', R],
    ['DeleteRolePolicy', { ...R, PolicyName: 'inline' }],
    ['AttachRolePolicy', { ...R, ...PA }],
    ['ListAttachedRolePolicies', R],
    ['ListEntitiesForPolicy', PA],
    ['DetachRolePolicy', { ...R, ...PA }],
    ['CreateUser', U],
    ['GetUser', U],
    ['ListUsers', {}],
    ['ListGroupsForUser', U],
    ['CreateAccessKey', U],
    ['ListAccessKeys', U],
    ['GetAccessKeyLastUsed', { AccessKeyId: '<key>' }],
    ['UpdateAccessKey', { ...U, AccessKeyId: '<key>', Status: 'Inactive' }],
    ['DeleteAccessKey', { ...U, AccessKeyId: '<key>' }],
    ['TagUser', { ...U, ...tag }],
    ['ListUserTags', U],
    ['UntagUser', { ...U, 'TagKeys.member.1': 'team' }],
    ['PutUserPolicy', { ...U, PolicyName: 'inline', PolicyDocument: doc('s3:ListBucket') }],
    ['GetUserPolicy', { ...U, PolicyName: 'inline' }],
    ['ListUserPolicies', U],
    ['DeleteUserPolicy', { ...U, PolicyName: 'inline' }],
    ['AttachUserPolicy', { ...U, ...PA }],
    ['ListAttachedUserPolicies', U],
    ['DetachUserPolicy', { ...U, ...PA }],
    ['SimulatePrincipalPolicy', { PolicySourceArn: user, 'ActionNames.member.1': 'iam:GetUser' }],
    [
      'SimulateCustomPolicy',
      { 'PolicyInputList.member.1': doc('s3:*'), 'ActionNames.member.1': 's3:GetObject' },
    ],
    ['GetAccountAuthorizationDetails', {}],
    ['DeleteUser', U],
    ['DeletePolicy', PA],
    ['DeleteRole', R],
    ['DeleteOpenIDConnectProvider', P],
  ];

  // The script covers every IAM action the endpoint serves: a new action must be added here, and so
  // declares whether it writes.
  const registered = fx.cloud.registry.actions.filter((a) => a.service === 'iam').map((a) => a.name);
  assert.deepEqual([...new Set(script.map(([a]) => a))].sort(), [...registered].sort());

  const adminArn = (await fx.app.store.get('accessKey', fx.admin.accessKeyId))?.userId;
  assert.ok(adminArn, 'the bootstrap administrator');
  let keyId = '';
  let secret = '';
  for (const [action, raw] of script) {
    const params = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === '<key>' ? keyId : v]));
    const r = await call(fx.admin, { Action: action, ...params });
    assert.equal(r.status, 200, `${action}: ${r.body}`);
    if (action === 'CreateAccessKey') {
      keyId = /<AccessKeyId>([^<]+)</.exec(r.body)?.[1] ?? '';
      secret = /<SecretAccessKey>([^<]+)</.exec(r.body)?.[1] ?? '';
      assert.ok(keyId && secret);
    }
    const recorded = await events(r.requestId);
    if (!isWrite(action)) {
      assert.deepEqual(recorded, [], `${action} reads: no event`);
      continue;
    }
    assert.equal(recorded.length, 1, `${action}: one event`);
    const e = recorded[0] as AuditEvent;
    const expected = /OpenIDConnectProvider/.test(action)
      ? provider
      : /Role/.test(action)
        ? role
        : /User|AccessKey/.test(action)
          ? user
          : policy;
    assert.equal(e.action, `iam:${action}`);
    assert.equal(e.decision, 'allow');
    assert.equal(e.requestId, r.requestId);
    assert.match(e.caller ?? '', new RegExp(`^arn:aws:iam::${A}:user/`));
    assert.equal(e.accountId, A);
    assert.equal(e.accessKeyId, fx.admin.accessKeyId);
    assert.equal(e.resource, expected, action);
    assert.match(String(e.detail?.parametersSha256), /^[0-9a-f]{64}$/);
    assert.equal(e.sourceIp, '127.0.0.1');
    const text = JSON.stringify(e);
    assert.ok(!text.includes(fx.admin.secretAccessKey), 'never the caller secret');
    if (secret) assert.ok(!text.includes(secret), `${action}: never the new key's secret`);
    if (action === 'UpdateAssumeRolePolicy') {
      assert.deepEqual(e.detail?.documentSha256, { PolicyDocument: sha256(newTrust) });
      assert.deepEqual(e.detail?.parameters, { RoleName: 'wa-role' });
    }
    if (action === 'AttachRolePolicy')
      assert.deepEqual(e.detail?.parameters, { PolicyArn: policy, RoleName: 'wa-role' });
  }
});

test('a write that fails or is denied leaves no allow event', async () => {
  const created = await call(fx.admin, {
    Action: 'CreateRole',
    RoleName: 'twice',
    AssumeRolePolicyDocument: trust(`arn:aws:iam::${A}:root`),
  });
  assert.equal(created.status, 200);
  const again = await call(fx.admin, {
    Action: 'CreateRole',
    RoleName: 'twice',
    AssumeRolePolicyDocument: trust(`arn:aws:iam::${A}:root`),
  });
  assert.equal(again.status, 409);
  assert.deepEqual(await events(again.requestId), []);

  // A user who may only read: the write is denied, and recorded as a denial only.
  await call(fx.admin, { Action: 'CreateUser', UserName: 'reader' });
  await call(fx.admin, {
    Action: 'AttachUserPolicy',
    UserName: 'reader',
    PolicyArn: 'arn:aws:iam::aws:policy/IAMReadOnlyAccess',
  });
  const key = await call(fx.admin, { Action: 'CreateAccessKey', UserName: 'reader' });
  const reader: Keys = {
    accessKeyId: /<AccessKeyId>([^<]+)</.exec(key.body)?.[1] ?? '',
    secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(key.body)?.[1] ?? '',
  };
  const denied = await call(reader, {
    Action: 'UpdateAssumeRolePolicy',
    RoleName: 'twice',
    PolicyDocument: trust(`arn:aws:iam::${A}:user/reader`),
  });
  assert.equal(denied.status, 403);
  await fx.cloud.flushAudit();
  assert.deepEqual(
    (await events(denied.requestId)).map((e) => e.decision),
    ['deny'],
  );
});

test('gatepass audit --action iam:UpdateAssumeRolePolicy names who changed a trust policy and the target; explain shows the change', async () => {
  const changed = await call(fx.admin, {
    Action: 'UpdateAssumeRolePolicy',
    RoleName: 'twice',
    PolicyDocument: trust(`arn:aws:iam::${A}:user/audited`),
  });
  assert.equal(changed.status, 200);
  const json = await cli([
    'audit',
    '--action',
    'iam:UpdateAssumeRolePolicy',
    '--data-dir',
    fx.dataDir,
    '--json',
  ]);
  assert.equal(json.code, 0, json.stderr);
  const found = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent)
    .find((e) => e.requestId === changed.requestId);
  assert.equal(found?.resource, `arn:aws:iam::${A}:role/twice`);
  assert.match(found?.caller ?? '', /:user\//);
  const table = await cli(['audit', '--action', 'iam:UpdateAssumeRolePolicy', '--data-dir', fx.dataDir]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\bTARGET\b/);
  assert.ok(table.stdout.includes(`arn:aws:iam::${A}:role/twice`));
  assert.ok(table.stdout.includes(changed.requestId));
  const why = await cli(['explain', changed.requestId, '--data-dir', fx.dataDir]);
  assert.equal(why.code, 0, why.stderr);
  assert.match(why.stdout, /iam:UpdateAssumeRolePolicy ALLOWED/);
  assert.ok(why.stdout.includes(`resource: arn:aws:iam::${A}:role/twice`), why.stdout);
  assert.match(why.stdout, /documentSha256: \{"PolicyDocument":"[0-9a-f]{64}"\}/);
});

test('the write event digests the parameters canonically and leaves out plumbing and secrets', () => {
  const caller = {
    kind: 'user' as const,
    accountId: '123456789012',
    userId: 'AIDAEXAMPLE',
    userName: 'u',
    arn: 'arn:aws:iam::123456789012:user/u',
    accessKeyId: 'AKIAEXAMPLE',
  };
  const base = { action: 'iam:X', requestId: 'r', caller, target: 'arn:t', meta: { now: 1 } };
  const a = writeEvent({
    ...base,
    input: new Map([
      ['Action', 'X'],
      ['Version', '2010-05-08'],
      ['RoleName', 'r'],
      ['Password', 'hunter2'],
      ['X-Amz-Signature', 'sig'],
    ]),
  });
  const b = writeEvent({ ...base, input: { RoleName: 'r' } });
  assert.equal(
    a.detail?.parametersSha256,
    b.detail?.parametersSha256,
    'plumbing and secrets are not digested',
  );
  assert.ok(!JSON.stringify(a).includes('hunter2'));
  const c = writeEvent({ ...base, input: { Content: { b: 1, a: [2] }, Name: 'n' } });
  const d = writeEvent({ ...base, input: { Name: 'n', Content: { a: [2], b: 1 } } });
  assert.deepEqual(c.detail, d.detail, 'JSON input digests independently of key order');
  assert.match(
    String((c.detail?.documentSha256 as Record<string, string> | undefined)?.Content),
    /^[0-9a-f]{64}$/,
  );
});
