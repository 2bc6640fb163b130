// The IAM Query API against a running gatepass node with the AWS SDK for JavaScript v3: every action
// the Terraform AWS provider and aws-cli need, Marker/MaxItems pagination, AWS's limits and errors,
// and authorization of every call (allowed, denied by an identity policy, by a permissions boundary,
// by an SCP; the management account exempt), plus the OIDC guard rail switched per account.
import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AddClientIDToOpenIDConnectProviderCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteOpenIDConnectProviderCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccountAuthorizationDetailsCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListGroupsForUserCommand,
  ListInstanceProfilesForRoleCommand,
  ListOpenIDConnectProvidersCommand,
  ListOpenIDConnectProviderTagsCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  paginateListRoles,
  RemoveClientIDFromOpenIDConnectProviderCommand,
  SetDefaultPolicyVersionCommand,
  SimulateCustomPolicyCommand,
  SimulatePrincipalPolicyCommand,
  TagOpenIDConnectProviderCommand,
  TagRoleCommand,
  UntagOpenIDConnectProviderCommand,
  UntagRoleCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
  UpdateRoleCommand,
  UpdateRoleDescriptionCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { bootstrapAccounts } from '../../src/cloud/offline/bootstrap.js';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { allow, policyDocument, rejectsCode } from '../helpers/aws.js';
import { type CloudFixture, type Keys, readCredentialsFile, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;
let admin: IAMClient;
let mgmt: Keys;
let dev: Keys;
let devId: string;
let credentialsModeAfterAppend = 0;
const ISSUER = 'https://issuer.example.com/acme';
const HOST = 'issuer.example.com/acme';
const THUMB = 'a'.repeat(40);
const ORDER = ['user', 'role', 'policy'];

const iam = (credentials: Keys) =>
  new IAMClient({ endpoint: fx.url, region: 'us-east-1', credentials, maxAttempts: 1 });
const doc = policyDocument;
const providerArn = (account: string, host = HOST) => `arn:aws:iam::${account}:oidc-provider/${host}`;
const aws = (name: string) => `arn:aws:iam::aws:policy/${name}`;

function oidcTrust(account: string, sub?: string, op = 'StringEquals'): string {
  return doc([
    {
      Effect: 'Allow',
      Principal: { Federated: providerArn(account) },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: { [`${HOST}:aud`]: 'aws.workload.identity' },
        ...(sub !== undefined ? { [op]: { [`${HOST}:sub`]: sub } } : {}),
      },
    },
  ]);
}
const PINNED = 'organization:acme:project:Infra:workspace:net:run_phase:plan';
const plainTrust = (principal: string) =>
  doc([{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }]);

/** A user in the hub with the given policies and one access key. */
async function userWith(
  name: string,
  setup: { attached?: string[]; inline?: Record<string, unknown>[]; boundary?: string },
): Promise<IAMClient> {
  await admin.send(
    new CreateUserCommand({
      UserName: name,
      ...(setup.boundary ? { PermissionsBoundary: setup.boundary } : {}),
    }),
  );
  for (const arn of setup.attached ?? [])
    await admin.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: arn }));
  if (setup.inline)
    await admin.send(
      new PutUserPolicyCommand({ UserName: name, PolicyName: 'inline', PolicyDocument: doc(setup.inline) }),
    );
  const key = (await admin.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
  assert.ok(key?.AccessKeyId && key.SecretAccessKey);
  return iam({ accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
}

before(async () => {
  fx = await startCloud();
  admin = iam(fx.admin);
  // An organization: the hub at the root, a management account, and a member account `dev` whose
  // OU's SCP denies creating managed policies, with the OIDC guard rail switched off. The same SCP
  // is attached to the management account, where AWS ignores it.
  const setup = [
    'organization:',
    '  management: mgmt',
    '  units: [{ name: workloads, accounts: [dev] }]',
    '  policies:',
    '    - name: no-policy-writes',
    '      type: scp',
    '      targets: [ou:workloads, mgmt]',
    '      document: { Version: "2012-10-17", Statement: [{ Effect: Deny, Action: [iam:CreatePolicy, iam:DeletePolicy], Resource: "*" }] }',
    'accounts:',
    '  - name: hub',
    `    id: "${fx.accountId}"`,
    '  - name: mgmt',
    '  - name: dev',
    '    oidcGuardRail: false',
  ].join('\n');
  const applied = await applySetup(
    fx.app.store,
    parseSetup(setup, 'org.yaml'),
    { random: cryptoRandom, clock: systemClock },
    { file: 'org.yaml' },
  );
  devId = applied.accounts.find((a) => a.name === 'dev')?.id ?? '';
  const file = join(fx.dataDir, CREDENTIALS_FILE);
  chmodSync(file, 0o644); // loosened by hand: appending new secrets must tighten it again
  await bootstrapAccounts(fx.app.store, fx.cloud.iamDeps, { credentialsFile: file });
  credentialsModeAfterAppend = statSync(file).mode & 0o777;
  await fx.cloud.sync();
  const profiles = readCredentialsFile(file);
  mgmt = profiles['gatepass-mgmt'] as Keys;
  dev = profiles['gatepass-dev'] as Keys;
  assert.ok(mgmt && dev, 'bootstrap administrators for the new accounts');
});

after(() => fx?.stop());

test('appending bootstrap administrators to a loosened credentials file leaves it 0600', () => {
  assert.equal(credentialsModeAfterAppend.toString(8), '600');
});

describe('OIDC providers', () => {
  test('create, read, change client ids, thumbprints and tags, list, delete', async () => {
    const created = await admin.send(
      new CreateOpenIDConnectProviderCommand({
        Url: ISSUER,
        ClientIDList: ['aws.workload.identity', 'aws.workload.identity'],
        ThumbprintList: [THUMB.toUpperCase()],
        Tags: [{ Key: 'team', Value: 'platform' }],
      }),
    );
    const arn = providerArn(fx.accountId);
    assert.equal(created.OpenIDConnectProviderArn, arn);
    let got = await admin.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    assert.equal(got.Url, HOST);
    assert.deepEqual(got.ClientIDList, ['aws.workload.identity']);
    assert.deepEqual(got.ThumbprintList, [THUMB]);
    assert.ok(got.CreateDate instanceof Date);

    await admin.send(
      new AddClientIDToOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: arn,
        ClientID: 'sts.amazonaws.com',
      }),
    );
    await admin.send(
      new RemoveClientIDFromOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: arn,
        ClientID: 'aws.workload.identity',
      }),
    );
    await admin.send(
      new UpdateOpenIDConnectProviderThumbprintCommand({
        OpenIDConnectProviderArn: arn,
        ThumbprintList: ['b'.repeat(40), 'c'.repeat(40)],
      }),
    );
    await admin.send(
      new TagOpenIDConnectProviderCommand({
        OpenIDConnectProviderArn: arn,
        Tags: [
          { Key: 'team', Value: 'security' },
          { Key: 'env', Value: 'prod' },
          { Key: 'tier', Value: '1' },
        ],
      }),
    );
    await admin.send(
      new UntagOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn, TagKeys: ['tier'] }),
    );
    got = await admin.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    assert.deepEqual(got.ClientIDList, ['sts.amazonaws.com']);
    assert.deepEqual(got.ThumbprintList, ['b'.repeat(40), 'c'.repeat(40)]);
    const page1 = await admin.send(
      new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: arn, MaxItems: 1 }),
    );
    assert.deepEqual(page1.Tags, [{ Key: 'env', Value: 'prod' }]);
    assert.equal(page1.IsTruncated, true);
    const page2 = await admin.send(
      new ListOpenIDConnectProviderTagsCommand({ OpenIDConnectProviderArn: arn, Marker: page1.Marker }),
    );
    assert.deepEqual(page2.Tags, [{ Key: 'team', Value: 'security' }]);
    assert.equal(page2.IsTruncated, false);

    const listed = await admin.send(new ListOpenIDConnectProvidersCommand({}));
    assert.deepEqual(listed.OpenIDConnectProviderList, [{ Arn: arn }]);
    await admin.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    await rejectsCode(
      admin.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })),
      'NoSuchEntity',
      404,
    );
  });

  test('bad input and duplicates get AWS errors and change nothing', async () => {
    const hub = providerArn(fx.accountId, 'dup.example.com');
    await admin.send(
      new CreateOpenIDConnectProviderCommand({ Url: 'https://dup.example.com', ThumbprintList: [THUMB] }),
    );
    await rejectsCode(
      admin.send(
        new CreateOpenIDConnectProviderCommand({ Url: 'https://dup.example.com', ThumbprintList: [THUMB] }),
      ),
      'EntityAlreadyExists',
      409,
    );
    await rejectsCode(
      admin.send(
        new CreateOpenIDConnectProviderCommand({ Url: 'http://plain.example.com', ThumbprintList: [THUMB] }),
      ),
      'InvalidInput',
      400,
      /https/,
    );
    await rejectsCode(
      admin.send(
        new CreateOpenIDConnectProviderCommand({
          Url: 'https://six.example.com',
          ThumbprintList: Array(6).fill(THUMB),
        }),
      ),
      'ValidationError',
      400,
    );
    await rejectsCode(
      admin.send(
        new CreateOpenIDConnectProviderCommand({ Url: 'https://short.example.com', ThumbprintList: ['abc'] }),
      ),
      'ValidationError',
      400,
    );
    // Another account's provider is not visible.
    await rejectsCode(
      iam(dev).send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: hub })),
      'NoSuchEntity',
      404,
    );
    const arns = (await admin.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList;
    assert.deepEqual(arns, [{ Arn: hub }]);
    await admin.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: hub }));
  });

  test('limits: 100 client ids per provider and 100 providers per account give LimitExceeded', async () => {
    const client = iam(mgmt);
    const ids = Array.from({ length: 100 }, (_, i) => `client-${i}`);
    const first = await client.send(
      new CreateOpenIDConnectProviderCommand({
        Url: 'https://p0.example.com',
        ClientIDList: ids,
        ThumbprintList: [THUMB],
      }),
    );
    await rejectsCode(
      client.send(
        new AddClientIDToOpenIDConnectProviderCommand({
          OpenIDConnectProviderArn: first.OpenIDConnectProviderArn,
          ClientID: 'one-more',
        }),
      ),
      'LimitExceeded',
      409,
    );
    for (let i = 1; i < 100; i++) {
      await client.send(
        new CreateOpenIDConnectProviderCommand({ Url: `https://p${i}.example.com`, ThumbprintList: [THUMB] }),
      );
    }
    await rejectsCode(
      client.send(
        new CreateOpenIDConnectProviderCommand({ Url: 'https://p100.example.com', ThumbprintList: [THUMB] }),
      ),
      'LimitExceeded',
      409,
      /OpenIdConnectProvidersPerAccount: 100/,
    );
    const listed = await client.send(new ListOpenIDConnectProvidersCommand({}));
    assert.equal(listed.OpenIDConnectProviderList?.length, 100);
  });
});

describe('roles', () => {
  test('create, read, update, tag, boundary, list with pagination, delete', async () => {
    const boundary = await admin.send(
      new CreatePolicyCommand({ PolicyName: 'role-boundary', PolicyDocument: doc([allow('iam:Get*')]) }),
    );
    const created = await admin.send(
      new CreateRoleCommand({
        RoleName: 'deployer',
        Path: '/runs/',
        AssumeRolePolicyDocument: plainTrust(`arn:aws:iam::${fx.accountId}:root`),
        Description: 'first',
        MaxSessionDuration: 7200,
        PermissionsBoundary: boundary.Policy?.Arn,
        Tags: [{ Key: 'phase', Value: 'apply' }],
      }),
    );
    assert.match(created.Role?.RoleId ?? '', /^AROA[A-Z2-7]{17}$/);
    assert.equal(created.Role?.Arn, `arn:aws:iam::${fx.accountId}:role/runs/deployer`);

    await admin.send(new UpdateRoleCommand({ RoleName: 'deployer', MaxSessionDuration: 43200 }));
    const described = await admin.send(
      new UpdateRoleDescriptionCommand({ RoleName: 'deployer', Description: 'second' }),
    );
    assert.equal(described.Role?.Description, 'second');
    await admin.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'deployer',
        PolicyDocument: plainTrust(`arn:aws:iam::${devId}:root`),
      }),
    );
    await admin.send(new TagRoleCommand({ RoleName: 'deployer', Tags: [{ Key: 'owner', Value: 'ops' }] }));
    await admin.send(new UntagRoleCommand({ RoleName: 'deployer', TagKeys: ['phase'] }));
    assert.deepEqual((await admin.send(new ListRoleTagsCommand({ RoleName: 'deployer' }))).Tags, [
      { Key: 'owner', Value: 'ops' },
    ]);
    await admin.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'deployer' }));
    let role = (await admin.send(new GetRoleCommand({ RoleName: 'DEPLOYER' }))).Role;
    assert.equal(role?.PermissionsBoundary, undefined);
    await admin.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: 'deployer',
        PermissionsBoundary: boundary.Policy?.Arn,
      }),
    );
    role = (await admin.send(new GetRoleCommand({ RoleName: 'deployer' }))).Role;
    assert.equal(role?.Description, 'second');
    assert.equal(role?.MaxSessionDuration, 43200);
    assert.equal(role?.PermissionsBoundary?.PermissionsBoundaryArn, boundary.Policy?.Arn);
    assert.match(decodeURIComponent(role?.AssumeRolePolicyDocument ?? ''), new RegExp(`${devId}:root`));
    assert.deepEqual(
      (await admin.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'deployer' }))).InstanceProfiles,
      [],
    );
    await rejectsCode(
      admin.send(
        new PutRolePermissionsBoundaryCommand({
          RoleName: 'deployer',
          PermissionsBoundary: `arn:aws:iam::${fx.accountId}:policy/missing`,
        }),
      ),
      'NoSuchEntity',
      404,
    );

    for (const n of ['r-a', 'r-b', 'r-c', 'r-d']) {
      await admin.send(
        new CreateRoleCommand({
          RoleName: n,
          Path: '/paged/',
          AssumeRolePolicyDocument: plainTrust(fx.accountId),
        }),
      );
    }
    const first = await admin.send(new ListRolesCommand({ PathPrefix: '/paged/', MaxItems: 3 }));
    assert.deepEqual(
      first.Roles?.map((r) => r.RoleName),
      ['r-a', 'r-b', 'r-c'],
    );
    assert.equal(first.IsTruncated, true);
    const rest = await admin.send(
      new ListRolesCommand({ PathPrefix: '/paged/', MaxItems: 3, Marker: first.Marker }),
    );
    assert.deepEqual(
      rest.Roles?.map((r) => r.RoleName),
      ['r-d'],
    );
    assert.equal(rest.IsTruncated, false);
    // The SDK's own paginator follows the markers.
    const names: string[] = [];
    for await (const page of paginateListRoles({ client: admin, pageSize: 2 }, { PathPrefix: '/paged/' }))
      names.push(...(page.Roles ?? []).map((r) => r.RoleName ?? ''));
    assert.deepEqual(names, ['r-a', 'r-b', 'r-c', 'r-d']);
    await rejectsCode(admin.send(new ListRolesCommand({ MaxItems: 0 })), 'ValidationError', 400);

    for (const n of ['r-a', 'r-b', 'r-c', 'r-d', 'deployer'])
      await admin.send(new DeleteRoleCommand({ RoleName: n }));
    await rejectsCode(admin.send(new GetRoleCommand({ RoleName: 'deployer' })), 'NoSuchEntity', 404);
  });

  test('AWS errors: duplicates, bad durations, oversized and malformed trust policies, delete conflicts', async () => {
    const trust = plainTrust(fx.accountId);
    await admin.send(new CreateRoleCommand({ RoleName: 'dup', AssumeRolePolicyDocument: trust }));
    await rejectsCode(
      admin.send(new CreateRoleCommand({ RoleName: 'DUP', AssumeRolePolicyDocument: trust })),
      'EntityAlreadyExists',
      409,
    );
    await rejectsCode(
      admin.send(
        new CreateRoleCommand({
          RoleName: 'short',
          AssumeRolePolicyDocument: trust,
          MaxSessionDuration: 900,
        }),
      ),
      'ValidationError',
      400,
    );
    await rejectsCode(
      admin.send(new CreateRoleCommand({ RoleName: 'bad name!', AssumeRolePolicyDocument: trust })),
      'ValidationError',
      400,
    );
    await rejectsCode(
      admin.send(
        new CreateRoleCommand({ RoleName: 'malformed', AssumeRolePolicyDocument: '{"Version":"2012-10-17"' }),
      ),
      'MalformedPolicyDocument',
      400,
    );
    // 2048 characters (whitespace excluded) is the default trust policy quota.
    const big = doc(
      Array.from({ length: 40 }, (_, i) => ({
        Sid: `S${i}`,
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${fx.accountId}:root` },
        Action: 'sts:AssumeRole',
      })),
    );
    assert.ok(big.length > 2048);
    await rejectsCode(
      admin.send(new CreateRoleCommand({ RoleName: 'big', AssumeRolePolicyDocument: big })),
      'LimitExceeded',
      409,
    );
    await admin.send(
      new PutRolePolicyCommand({ RoleName: 'dup', PolicyName: 'p', PolicyDocument: doc([allow('s3:*')]) }),
    );
    await rejectsCode(admin.send(new DeleteRoleCommand({ RoleName: 'dup' })), 'DeleteConflict', 409);
    await admin.send(new DeleteRolePolicyCommand({ RoleName: 'dup', PolicyName: 'p' }));
    await admin.send(new DeleteRoleCommand({ RoleName: 'dup' }));
    const left = (await admin.send(new ListRolesCommand({}))).Roles?.map((r) => r.RoleName);
    assert.ok(!left?.some((n) => ['dup', 'short', 'malformed', 'big', 'bad name!'].includes(n ?? '')));
  });

  test('inline role policies: put, get (URL-encoded as AWS), list, delete', async () => {
    await admin.send(
      new CreateRoleCommand({ RoleName: 'inline', AssumeRolePolicyDocument: plainTrust(fx.accountId) }),
    );
    const policy = doc([allow(['s3:GetObject'], 'arn:aws:s3:::bucket/*')]);
    await admin.send(
      new PutRolePolicyCommand({ RoleName: 'inline', PolicyName: 'b', PolicyDocument: policy }),
    );
    await admin.send(
      new PutRolePolicyCommand({ RoleName: 'inline', PolicyName: 'a', PolicyDocument: policy }),
    );
    const got = await admin.send(new GetRolePolicyCommand({ RoleName: 'inline', PolicyName: 'b' }));
    assert.equal(decodeURIComponent(got.PolicyDocument ?? ''), policy);
    const page = await admin.send(new ListRolePoliciesCommand({ RoleName: 'inline', MaxItems: 1 }));
    assert.deepEqual(page.PolicyNames, ['a']);
    assert.equal(page.IsTruncated, true);
    await admin.send(new DeleteRolePolicyCommand({ RoleName: 'inline', PolicyName: 'a' }));
    await admin.send(new DeleteRolePolicyCommand({ RoleName: 'inline', PolicyName: 'b' }));
    await rejectsCode(
      admin.send(new GetRolePolicyCommand({ RoleName: 'inline', PolicyName: 'b' })),
      'NoSuchEntity',
      404,
    );
    await rejectsCode(
      admin.send(
        new PutRolePolicyCommand({
          RoleName: 'inline',
          PolicyName: 'x',
          PolicyDocument: '{"Statement":[{}]}',
        }),
      ),
      'MalformedPolicyDocument',
      400,
    );
    await admin.send(new DeleteRoleCommand({ RoleName: 'inline' }));
  });
});

describe('managed policies', () => {
  test('versions (at most 5), default version, attachments (at most 10 per role), entities, delete rules', async () => {
    const v1 = doc([allow('iam:GetRole')]);
    const created = await admin.send(
      new CreatePolicyCommand({
        PolicyName: 'managed',
        Path: '/team/',
        PolicyDocument: v1,
        Description: 'd',
      }),
    );
    const arn = created.Policy?.Arn ?? '';
    assert.equal(arn, `arn:aws:iam::${fx.accountId}:policy/team/managed`);
    assert.match(created.Policy?.PolicyId ?? '', /^ANPA[A-Z2-7]{17}$/);
    assert.equal(created.Policy?.DefaultVersionId, 'v1');
    await rejectsCode(
      admin.send(new CreatePolicyCommand({ PolicyName: 'managed', Path: '/team/', PolicyDocument: v1 })),
      'EntityAlreadyExists',
      409,
    );
    for (let i = 2; i <= 5; i++) {
      const v = await admin.send(
        new CreatePolicyVersionCommand({
          PolicyArn: arn,
          PolicyDocument: doc([allow(`iam:Get${i}`)]),
          SetAsDefault: i === 3,
        }),
      );
      assert.equal(v.PolicyVersion?.VersionId, `v${i}`);
    }
    await rejectsCode(
      admin.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: v1 })),
      'LimitExceeded',
      409,
    );
    assert.equal((await admin.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId, 'v3');
    await admin.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }));
    const v5 = await admin.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }));
    assert.equal(v5.PolicyVersion?.IsDefaultVersion, true);
    assert.equal(decodeURIComponent(v5.PolicyVersion?.Document ?? ''), doc([allow('iam:Get5')]));
    await rejectsCode(
      admin.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' })),
      'DeleteConflict',
      409,
    );
    await admin.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' }));
    const versions = await admin.send(new ListPolicyVersionsCommand({ PolicyArn: arn, MaxItems: 2 }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.VersionId),
      ['v5', 'v4'],
    );
    assert.equal(versions.IsTruncated, true);
    const more = await admin.send(new ListPolicyVersionsCommand({ PolicyArn: arn, Marker: versions.Marker }));
    assert.deepEqual(
      more.Versions?.map((v) => v.VersionId),
      ['v3', 'v1'],
    );
    await rejectsCode(
      admin.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v2' })),
      'NoSuchEntity',
      404,
    );

    const local = await admin.send(new ListPoliciesCommand({ Scope: 'Local', PathPrefix: '/team/' }));
    assert.deepEqual(
      local.Policies?.map((p) => p.Arn),
      [arn],
    );
    const awsPage = await admin.send(new ListPoliciesCommand({ Scope: 'AWS', MaxItems: 2 }));
    assert.equal(awsPage.Policies?.length, 2);
    assert.equal(awsPage.IsTruncated, true);

    await admin.send(
      new CreateRoleCommand({ RoleName: 'holder', AssumeRolePolicyDocument: plainTrust(fx.accountId) }),
    );
    await admin.send(new CreateUserCommand({ UserName: 'holder-user' }));
    await admin.send(new AttachRolePolicyCommand({ RoleName: 'holder', PolicyArn: arn }));
    await admin.send(new AttachUserPolicyCommand({ UserName: 'holder-user', PolicyArn: arn }));
    const attached = await admin.send(
      new ListAttachedRolePoliciesCommand({ RoleName: 'holder', PathPrefix: '/team/' }),
    );
    assert.deepEqual(attached.AttachedPolicies, [{ PolicyName: 'managed', PolicyArn: arn }]);
    assert.deepEqual(
      (await admin.send(new ListAttachedRolePoliciesCommand({ RoleName: 'holder', PathPrefix: '/other/' })))
        .AttachedPolicies,
      [],
    );
    const entities = await admin.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
    assert.deepEqual(
      entities.PolicyRoles?.map((r) => r.RoleName),
      ['holder'],
    );
    assert.deepEqual(
      entities.PolicyUsers?.map((u) => u.UserName),
      ['holder-user'],
    );
    const rolesOnly = await admin.send(
      new ListEntitiesForPolicyCommand({ PolicyArn: arn, EntityFilter: 'Role' }),
    );
    assert.deepEqual(rolesOnly.PolicyUsers, []);
    assert.equal(rolesOnly.PolicyRoles?.length, 1);
    const firstEntity = await admin.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn, MaxItems: 1 }));
    assert.deepEqual(
      firstEntity.PolicyUsers?.map((u) => u.UserName),
      ['holder-user'],
    );
    assert.deepEqual(firstEntity.PolicyRoles, []);
    assert.equal(firstEntity.IsTruncated, true);
    const nextEntity = await admin.send(
      new ListEntitiesForPolicyCommand({ PolicyArn: arn, MaxItems: 1, Marker: firstEntity.Marker }),
    );
    assert.deepEqual(
      nextEntity.PolicyRoles?.map((r) => r.RoleName),
      ['holder'],
    );
    assert.equal(nextEntity.IsTruncated, false);
    assert.equal((await admin.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.AttachmentCount, 2);
    await rejectsCode(admin.send(new DeletePolicyCommand({ PolicyArn: arn })), 'DeleteConflict', 409);

    // Ten managed policies per role: the eleventh is LimitExceeded.
    const more10: string[] = [];
    for (let i = 0; i < 10; i++) {
      const p = await admin.send(
        new CreatePolicyCommand({ PolicyName: `lim-${i}`, PolicyDocument: doc([allow('s3:List*')]) }),
      );
      more10.push(p.Policy?.Arn ?? '');
    }
    for (const a of more10.slice(0, 9))
      await admin.send(new AttachRolePolicyCommand({ RoleName: 'holder', PolicyArn: a }));
    await rejectsCode(
      admin.send(new AttachRolePolicyCommand({ RoleName: 'holder', PolicyArn: more10[9] })),
      'LimitExceeded',
      409,
      /PoliciesPerRole: 10/,
    );
    for (const a of [arn, ...more10.slice(0, 9)])
      await admin.send(new DetachRolePolicyCommand({ RoleName: 'holder', PolicyArn: a }));
    for (const a of more10) await admin.send(new DeletePolicyCommand({ PolicyArn: a }));
    await rejectsCode(
      admin.send(new DetachRolePolicyCommand({ RoleName: 'holder', PolicyArn: arn })),
      'NoSuchEntity',
      404,
    );
    await admin.send(new DetachUserPolicyCommand({ UserName: 'holder-user', PolicyArn: arn }));
    // Non-default versions must go first.
    await rejectsCode(admin.send(new DeletePolicyCommand({ PolicyArn: arn })), 'DeleteConflict', 409);
    for (const v of ['v1', 'v3', 'v4'])
      await admin.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v }));
    await admin.send(new DeletePolicyCommand({ PolicyArn: arn }));
    await rejectsCode(admin.send(new GetPolicyCommand({ PolicyArn: arn })), 'NoSuchEntity', 404);
    await admin.send(new DeleteRoleCommand({ RoleName: 'holder' }));
    await admin.send(new DeleteUserCommand({ UserName: 'holder-user' }));
  });
});

describe('users and access keys', () => {
  test('create, keys (at most 2), deactivate, inline and attached policies, delete conflicts', async () => {
    const created = await admin.send(
      new CreateUserCommand({ UserName: 'ci', Path: '/bots/', Tags: [{ Key: 'k', Value: 'v' }] }),
    );
    assert.match(created.User?.UserId ?? '', /^AIDA[A-Z2-7]{17}$/);
    assert.equal(created.User?.Arn, `arn:aws:iam::${fx.accountId}:user/bots/ci`);
    assert.equal((await admin.send(new GetUserCommand({ UserName: 'ci' }))).User?.Path, '/bots/');
    assert.deepEqual(
      (await admin.send(new ListUsersCommand({ PathPrefix: '/bots/' }))).Users?.map((u) => u.UserName),
      ['ci'],
    );
    await rejectsCode(admin.send(new CreateUserCommand({ UserName: 'CI' })), 'EntityAlreadyExists', 409);
    assert.deepEqual((await admin.send(new ListGroupsForUserCommand({ UserName: 'ci' }))).Groups, []);

    const k1 = (await admin.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey;
    const k2 = (await admin.send(new CreateAccessKeyCommand({ UserName: 'ci' }))).AccessKey;
    assert.match(k1?.AccessKeyId ?? '', /^AKIA[A-Z2-7]{16}$/);
    assert.equal(k1?.Status, 'Active');
    await rejectsCode(admin.send(new CreateAccessKeyCommand({ UserName: 'ci' })), 'LimitExceeded', 409);
    const keys = await admin.send(new ListAccessKeysCommand({ UserName: 'ci' }));
    assert.deepEqual(
      keys.AccessKeyMetadata?.map((k) => k.AccessKeyId).sort(),
      [k1?.AccessKeyId, k2?.AccessKeyId].sort(),
    );
    assert.ok(!JSON.stringify(keys).includes(k1?.SecretAccessKey ?? 'x'), 'secrets are shown only once');

    // The key works, then stops working when made inactive.
    const creds = { accessKeyId: k1?.AccessKeyId ?? '', secretAccessKey: k1?.SecretAccessKey ?? '' };
    const sts = new STSClient({ endpoint: fx.url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
    assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, created.User?.Arn);
    await admin.send(
      new UpdateAccessKeyCommand({ UserName: 'ci', AccessKeyId: k1?.AccessKeyId, Status: 'Inactive' }),
    );
    await fx.cloud.sync();
    await rejectsCode(sts.send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403);

    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'ci',
        PolicyName: 'read',
        PolicyDocument: doc([allow('iam:Get*')]),
      }),
    );
    assert.equal(
      decodeURIComponent(
        (await admin.send(new GetUserPolicyCommand({ UserName: 'ci', PolicyName: 'read' }))).PolicyDocument ??
          '',
      ),
      doc([allow('iam:Get*')]),
    );
    assert.deepEqual((await admin.send(new ListUserPoliciesCommand({ UserName: 'ci' }))).PolicyNames, [
      'read',
    ]);
    await admin.send(new AttachUserPolicyCommand({ UserName: 'ci', PolicyArn: aws('IAMReadOnlyAccess') }));
    assert.deepEqual(
      (await admin.send(new ListAttachedUserPoliciesCommand({ UserName: 'ci' }))).AttachedPolicies,
      [{ PolicyName: 'IAMReadOnlyAccess', PolicyArn: aws('IAMReadOnlyAccess') }],
    );
    await rejectsCode(
      admin.send(
        new PutUserPolicyCommand({
          UserName: 'ci',
          PolicyName: 'trust',
          PolicyDocument: plainTrust(fx.accountId),
        }),
      ),
      'MalformedPolicyDocument',
      400,
    );

    const details = await admin.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['User'] }));
    const ci = details.UserDetailList?.find((u) => u.UserName === 'ci');
    assert.deepEqual(
      ci?.UserPolicyList?.map((p) => p.PolicyName),
      ['read'],
    );
    assert.deepEqual(
      ci?.AttachedManagedPolicies?.map((p) => p.PolicyName),
      ['IAMReadOnlyAccess'],
    );
    assert.deepEqual(details.RoleDetailList, []);
    // One listing paged by one marker: users, then roles, then policies (AWS managed ones only when used).
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await admin.send(
        new GetAccountAuthorizationDetailsCommand({ MaxItems: 1, ...(marker ? { Marker: marker } : {}) }),
      );
      const items = [
        ...(page.UserDetailList ?? []).map((u) => `user:${u.UserName}`),
        ...(page.RoleDetailList ?? []).map((r) => `role:${r.RoleName}`),
        ...(page.Policies ?? []).map((p) => `policy:${p.PolicyName}`),
      ];
      assert.ok(items.length <= 1);
      seen.push(...items);
      marker = page.IsTruncated ? page.Marker : undefined;
    } while (marker);
    assert.ok(seen.includes('user:ci') && seen.includes('user:gatepass-admin'));
    assert.deepEqual(
      seen.map((x) => x.split(':')[0]),
      [...seen.map((x) => x.split(':')[0])].sort((a, b) => ORDER.indexOf(a ?? '') - ORDER.indexOf(b ?? '')),
      'users, then roles, then policies',
    );
    assert.ok(seen.includes('policy:IAMReadOnlyAccess') && seen.includes('policy:AdministratorAccess'));
    assert.ok(!seen.includes('policy:IAMFullAccess'), 'unused AWS managed policies are not listed');

    await rejectsCode(admin.send(new DeleteUserCommand({ UserName: 'ci' })), 'DeleteConflict', 409);
    await admin.send(new DeleteUserPolicyCommand({ UserName: 'ci', PolicyName: 'read' }));
    await admin.send(new DetachUserPolicyCommand({ UserName: 'ci', PolicyArn: aws('IAMReadOnlyAccess') }));
    for (const k of [k1, k2])
      await admin.send(new DeleteAccessKeyCommand({ UserName: 'ci', AccessKeyId: k?.AccessKeyId }));
    await rejectsCode(
      admin.send(new DeleteAccessKeyCommand({ UserName: 'ci', AccessKeyId: k1?.AccessKeyId })),
      'NoSuchEntity',
      404,
    );
    await admin.send(new DeleteUserCommand({ UserName: 'ci' }));
    await rejectsCode(admin.send(new GetUserCommand({ UserName: 'ci' })), 'NoSuchEntity', 404);
  });
});

describe('authorization of every call', () => {
  test('a manager may write; a read-only caller reads but gets AccessDenied 403 on writes', async () => {
    const manager = await userWith('manager', { attached: [aws('IAMFullAccess')] });
    const reader = await userWith('reader', { attached: [aws('IAMReadOnlyAccess')] });
    await manager.send(
      new CreateRoleCommand({ RoleName: 'by-manager', AssumeRolePolicyDocument: plainTrust(fx.accountId) }),
    );
    assert.equal(
      (await reader.send(new GetRoleCommand({ RoleName: 'by-manager' }))).Role?.RoleName,
      'by-manager',
    );
    await reader.send(new ListRolesCommand({}));
    await rejectsCode(
      reader.send(
        new CreateRoleCommand({ RoleName: 'by-reader', AssumeRolePolicyDocument: plainTrust(fx.accountId) }),
      ),
      'AccessDenied',
      403,
      /user\/reader is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::\d{12}:role\/by-reader because no identity-based policy allows/,
    );
    await rejectsCode(
      reader.send(
        new PutRolePolicyCommand({
          RoleName: 'by-manager',
          PolicyName: 'x',
          PolicyDocument: doc([allow('*')]),
        }),
      ),
      'AccessDenied',
      403,
    );
    await rejectsCode(reader.send(new DeleteRoleCommand({ RoleName: 'by-manager' })), 'AccessDenied', 403);
    await rejectsCode(
      reader.send(new CreatePolicyCommand({ PolicyName: 'x', PolicyDocument: doc([allow('*')]) })),
      'AccessDenied',
      403,
    );
    // Nothing the denied calls tried is there.
    assert.deepEqual(
      (await reader.send(new ListRolePoliciesCommand({ RoleName: 'by-manager' }))).PolicyNames,
      [],
    );
    await manager.send(new DeleteRoleCommand({ RoleName: 'by-manager' }));
  });

  test('role sessions: an apply role that may manage roles can; a read-only plan role gets AccessDenied', async () => {
    const adminArn = `arn:aws:iam::${fx.accountId}:user/gatepass-admin`;
    const sts = new STSClient({
      endpoint: fx.url,
      region: 'us-east-1',
      credentials: fx.admin,
      maxAttempts: 1,
    });
    const session = async (role: string, policy: string): Promise<IAMClient> => {
      await admin.send(
        new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: plainTrust(adminArn) }),
      );
      await admin.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: aws(policy) }));
      const c = (
        await sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${fx.accountId}:role/${role}`,
            RoleSessionName: 'run',
          }),
        )
      ).Credentials;
      return iam({
        accessKeyId: c?.AccessKeyId ?? '',
        secretAccessKey: c?.SecretAccessKey ?? '',
        sessionToken: c?.SessionToken ?? '',
      });
    };
    const apply = await session('apply-role', 'IAMFullAccess');
    const plan = await session('plan-role', 'IAMReadOnlyAccess');
    await apply.send(
      new CreateRoleCommand({
        RoleName: 'made-by-apply',
        AssumeRolePolicyDocument: plainTrust(fx.accountId),
      }),
    );
    assert.equal(
      (await plan.send(new GetRoleCommand({ RoleName: 'made-by-apply' }))).Role?.RoleName,
      'made-by-apply',
    );
    await rejectsCode(
      plan.send(new DeleteRoleCommand({ RoleName: 'made-by-apply' })),
      'AccessDenied',
      403,
      /assumed-role\/plan-role\/run is not authorized to perform: iam:DeleteRole/,
    );
    await apply.send(new DeleteRoleCommand({ RoleName: 'made-by-apply' }));
    for (const [role, policy] of [
      ['apply-role', 'IAMFullAccess'],
      ['plan-role', 'IAMReadOnlyAccess'],
    ] as const) {
      await admin.send(new DetachRolePolicyCommand({ RoleName: role, PolicyArn: aws(policy) }));
      await admin.send(new DeleteRoleCommand({ RoleName: role }));
    }
  });

  test('resource ARNs count: a policy scoped to /runs/ roles manages only those', async () => {
    const scoped = await userWith('scoped', {
      inline: [
        allow(
          ['iam:CreateRole', 'iam:GetRole', 'iam:DeleteRole'],
          `arn:aws:iam::${fx.accountId}:role/runs/*`,
        ),
      ],
    });
    await scoped.send(
      new CreateRoleCommand({
        RoleName: 'in-scope',
        Path: '/runs/',
        AssumeRolePolicyDocument: plainTrust(fx.accountId),
      }),
    );
    await rejectsCode(
      scoped.send(
        new CreateRoleCommand({
          RoleName: 'out-of-scope',
          AssumeRolePolicyDocument: plainTrust(fx.accountId),
        }),
      ),
      'AccessDenied',
      403,
    );
    await scoped.send(new DeleteRoleCommand({ RoleName: 'in-scope' }));
  });

  test('an explicit deny in an identity policy wins over an allow', async () => {
    const denied = await userWith('denied', {
      attached: [aws('IAMFullAccess')],
      inline: [{ Effect: 'Deny', Action: 'iam:CreateRole', Resource: '*' }],
    });
    await denied.send(new ListRolesCommand({}));
    await rejectsCode(
      denied.send(
        new CreateRoleCommand({ RoleName: 'x', AssumeRolePolicyDocument: plainTrust(fx.accountId) }),
      ),
      'AccessDenied',
      403,
      /with an explicit deny in an identity-based policy/,
    );
  });

  test('a permissions boundary caps what the identity policies allow', async () => {
    const boundary = await admin.send(
      new CreatePolicyCommand({
        PolicyName: 'read-boundary',
        PolicyDocument: doc([allow(['iam:Get*', 'iam:List*'])]),
      }),
    );
    const bounded = await userWith('bounded', {
      attached: [aws('IAMFullAccess')],
      boundary: boundary.Policy?.Arn ?? '',
    });
    await bounded.send(new ListUsersCommand({}));
    const usage = (await admin.send(new GetPolicyCommand({ PolicyArn: boundary.Policy?.Arn }))).Policy;
    assert.deepEqual([usage?.AttachmentCount, usage?.PermissionsBoundaryUsageCount], [0, 1]);
    await rejectsCode(
      bounded.send(
        new CreateRoleCommand({ RoleName: 'x', AssumeRolePolicyDocument: plainTrust(fx.accountId) }),
      ),
      'AccessDenied',
      403,
      /because no permissions boundary allows the iam:CreateRole action/,
    );
  });

  test('an SCP on the member account denies even its administrator; the management account is exempt', async () => {
    const member = iam(dev);
    await member.send(new ListRolesCommand({}));
    await rejectsCode(
      member.send(new CreatePolicyCommand({ PolicyName: 'x', PolicyDocument: doc([allow('s3:*')]) })),
      'AccessDenied',
      403,
      /with an explicit deny in a service control policy/,
    );
    const management = iam(mgmt);
    const exempt = await management.send(
      new CreatePolicyCommand({ PolicyName: 'exempt', PolicyDocument: doc([allow('s3:*')]) }),
    );
    await management.send(new DeletePolicyCommand({ PolicyArn: exempt.Policy?.Arn }));
  });

  test('the simulator explains the same decisions, including trust policies for sts:AssumeRole', async () => {
    const reader = `arn:aws:iam::${fx.accountId}:user/reader`;
    const sim = await admin.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: reader,
        ActionNames: ['iam:GetRole', 'iam:CreateRole'],
      }),
    );
    assert.deepEqual(
      sim.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalDecision]),
      [
        ['iam:GetRole', 'allowed'],
        ['iam:CreateRole', 'implicitDeny'],
      ],
    );
    const custom = await admin.send(
      new SimulateCustomPolicyCommand({
        PolicyInputList: [doc([allow('iam:*'), { Effect: 'Deny', Action: 'iam:DeleteRole', Resource: '*' }])],
        ActionNames: ['iam:CreateRole', 'iam:DeleteRole'],
      }),
    );
    assert.deepEqual(
      custom.EvaluationResults?.map((r) => r.EvalDecision),
      ['allowed', 'explicitDeny'],
    );
    // A role trusting only `reader`: the trust policy decides sts:AssumeRole.
    await admin.send(
      new CreateRoleCommand({ RoleName: 'trusts-reader', AssumeRolePolicyDocument: plainTrust(reader) }),
    );
    const target = `arn:aws:iam::${fx.accountId}:role/trusts-reader`;
    const assume = async (source: string) =>
      (
        await admin.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: source,
            ActionNames: ['sts:AssumeRole'],
            ResourceArns: [target],
            PolicyInputList: [doc([allow('sts:AssumeRole')])],
          }),
        )
      ).EvaluationResults?.[0]?.EvalDecision;
    assert.equal(await assume(reader), 'allowed');
    assert.notEqual(await assume(`arn:aws:iam::${fx.accountId}:user/manager`), 'allowed');
    await admin.send(new DeleteRoleCommand({ RoleName: 'trusts-reader' }));
  });
});

describe('bad input', () => {
  test('malformed parameters get a 4xx AWS error, never a 5xx, and change nothing', async () => {
    const before = (await admin.send(new GetAccountAuthorizationDetailsCommand({}))).$metadata;
    assert.equal(before.httpStatusCode, 200);
    const snapshot = async () =>
      JSON.stringify(await fx.app.store.list('role')) +
      JSON.stringify(await fx.app.store.list('managedPolicy'));
    const was = await snapshot();
    const trust = plainTrust(fx.accountId);
    const cases: [string, () => Promise<unknown>, string][] = [
      ['garbage marker', () => admin.send(new ListRolesCommand({ Marker: '%%%not-a-marker%%%' })), 'none'],
      [
        'unknown entity filter',
        () =>
          admin.send(
            new ListEntitiesForPolicyCommand({
              PolicyArn: aws('IAMFullAccess'),
              EntityFilter: 'Bogus' as never,
            }),
          ),
        'ValidationError',
      ],
      [
        'bad version id',
        () => admin.send(new GetPolicyVersionCommand({ PolicyArn: aws('IAMFullAccess'), VersionId: 'x' })),
        'ValidationError',
      ],
      [
        'policy ARN of nothing',
        () =>
          admin.send(new AttachRolePolicyCommand({ RoleName: 'r', PolicyArn: 'arn:aws:iam::aws:policy' })),
        'NoSuchEntity',
      ],
      [
        'not an ARN',
        () => admin.send(new GetPolicyCommand({ PolicyArn: 'not-an-arn-at-all-really' })),
        'NoSuchEntity',
      ],
      [
        'boundary that does not exist',
        () =>
          admin.send(
            new CreateRoleCommand({
              RoleName: 'b',
              AssumeRolePolicyDocument: trust,
              PermissionsBoundary: `arn:aws:iam::${fx.accountId}:policy/none`,
            }),
          ),
        'NoSuchEntity',
      ],
      [
        '51 tags',
        () =>
          admin.send(
            new CreateRoleCommand({
              RoleName: 't',
              AssumeRolePolicyDocument: trust,
              Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
            }),
          ),
        'ValidationError',
      ],
      [
        'duplicate tag keys',
        () =>
          admin.send(
            new CreateRoleCommand({
              RoleName: 't',
              AssumeRolePolicyDocument: trust,
              Tags: [
                { Key: 'a', Value: '1' },
                { Key: 'A', Value: '2' },
              ],
            }),
          ),
        'InvalidInput',
      ],
      [
        'oversized managed policy',
        () =>
          admin.send(
            new CreatePolicyCommand({
              PolicyName: 'big',
              PolicyDocument: doc(
                Array.from({ length: 200 }, (_, i) =>
                  allow(`s3:GetObject${i}`, `arn:aws:s3:::bucket-${i}/*`),
                ),
              ),
            }),
          ),
        'LimitExceeded',
      ],
      [
        'a trust policy as an identity policy',
        () => admin.send(new CreatePolicyCommand({ PolicyName: 'trust', PolicyDocument: trust })),
        'MalformedPolicyDocument',
      ],
      [
        'an identity policy as a trust policy',
        () =>
          admin.send(
            new CreateRoleCommand({ RoleName: 'id', AssumeRolePolicyDocument: doc([allow('s3:*')]) }),
          ),
        'MalformedPolicyDocument',
      ],
      [
        'path without slashes',
        () =>
          admin.send(new CreateRoleCommand({ RoleName: 'p', Path: 'runs', AssumeRolePolicyDocument: trust })),
        'ValidationError',
      ],
      [
        'provider URL with a query',
        () =>
          admin.send(
            new CreateOpenIDConnectProviderCommand({
              Url: 'https://x.example.com/?a=b',
              ThumbprintList: [THUMB],
            }),
          ),
        'InvalidInput',
      ],
      [
        'unknown user for keys',
        () => admin.send(new CreateAccessKeyCommand({ UserName: 'nobody' })),
        'NoSuchEntity',
      ],
      [
        'bad key status',
        () =>
          admin.send(
            new UpdateAccessKeyCommand({
              UserName: 'gatepass-admin',
              AccessKeyId: 'AKIAAAAAAAAAAAAAAAAA',
              Status: 'Paused' as never,
            }),
          ),
        'ValidationError',
      ],
    ];
    for (const [name, call, code] of cases) {
      const pending = call();
      if (code === 'none') {
        // An unknown marker is past every name: an empty last page, as a stale marker would give.
        const page = (await pending) as { Roles?: unknown[]; IsTruncated?: boolean };
        assert.equal(page.IsTruncated, false, name);
        continue;
      }
      await assert.rejects(pending, (err: unknown) => {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode ?? 0;
        assert.ok(status >= 400 && status < 500, `${name}: status ${status}`);
        assert.ok(
          e.name === code || e.name === `${code}Exception`,
          `${name}: expected ${code}, got ${e.name}`,
        );
        return true;
      });
    }
    assert.equal(await snapshot(), was, 'nothing changed');
  });
});

describe('the OIDC guard rail', () => {
  before(async () => {
    for (const client of [admin, iam(dev)]) {
      await client.send(
        new CreateOpenIDConnectProviderCommand({
          Url: ISSUER,
          ClientIDList: ['aws.workload.identity'],
          ThumbprintList: [THUMB],
        }),
      );
    }
  });

  test('CreateRole refuses a trust without a sub condition or with a sub that does not pin the organization', async () => {
    for (const [trust, why] of [
      [oidcTrust(fx.accountId), /guard rail: statement #0: no condition pins issuer.example.com\/acme:sub/],
      [
        oidcTrust(fx.accountId, 'organization:acme*', 'StringLike'),
        /guard rail: .*:sub is not anchored on "organization:<org>:"/,
      ],
      [oidcTrust(fx.accountId, '*', 'StringLike'), /guard rail: .*:sub is not anchored/],
    ] as const) {
      await rejectsCode(
        admin.send(new CreateRoleCommand({ RoleName: 'loose', AssumeRolePolicyDocument: trust })),
        'MalformedPolicyDocument',
        400,
        why,
      );
    }
    await rejectsCode(admin.send(new GetRoleCommand({ RoleName: 'loose' })), 'NoSuchEntity', 404);
    await admin.send(
      new CreateRoleCommand({
        RoleName: 'pinned',
        AssumeRolePolicyDocument: oidcTrust(fx.accountId, PINNED),
      }),
    );
    await admin.send(
      new CreateRoleCommand({
        RoleName: 'pinned-like',
        AssumeRolePolicyDocument: oidcTrust(fx.accountId, 'organization:acme:project:*', 'StringLike'),
      }),
    );
  });

  test('UpdateAssumeRolePolicy refuses the same and keeps the old trust policy', async () => {
    await rejectsCode(
      admin.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: 'pinned', PolicyDocument: oidcTrust(fx.accountId) }),
      ),
      'MalformedPolicyDocument',
      400,
      /guard rail/,
    );
    const role = (await admin.send(new GetRoleCommand({ RoleName: 'pinned' }))).Role;
    assert.match(decodeURIComponent(role?.AssumeRolePolicyDocument ?? ''), /run_phase:plan/);
  });

  test('an account with the guard rail switched off accepts what AWS accepts', async () => {
    await iam(dev).send(
      new CreateRoleCommand({ RoleName: 'loose', AssumeRolePolicyDocument: oidcTrust(devId) }),
    );
  });
});
