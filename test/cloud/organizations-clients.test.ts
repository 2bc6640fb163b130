// AWS Organizations driven by unmodified clients over real HTTP: boto3 (Debian's and pyenv's) runs
// every operation and AWS's errors for bad input (organizations_flow.py); aws-cli v2 builds and
// takes down an organization the way a platform team scripts it. A member account is refused,
// an SCP written through the API is enforced on the next request, and refused writes change nothing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { runChild } from '../helpers/child.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;

before(async () => {
  fx = await startCloud();
});
after(async () => {
  await fx.stop();
});

function pyenvBin(name: string): string {
  const out = spawnSync('pyenv', ['which', name], { encoding: 'utf8' });
  assert.equal(out.status, 0, `pyenv has no ${name}: ${out.stderr}`);
  return out.stdout.trim();
}

/** Each refusal as [code, HTTP status, Reason] — AWS's exception names and its 400s. */
const EXPECTED_ERRORS: Record<string, [string, number, string]> = {
  describeBeforeCreate: ['AWSOrganizationsNotInUseException', 400, ''],
  createTwice: ['AlreadyInOrganizationException', 400, ''],
  enableTwice: ['PolicyTypeAlreadyEnabledException', 400, ''],
  enableTagPolicy: ['PolicyTypeNotAvailableForOrganizationException', 400, ''],
  duplicateOu: ['DuplicateOrganizationalUnitException', 400, ''],
  ouMissingParent: ['ParentNotFoundException', 400, ''],
  unknownCreateRequest: ['CreateAccountStatusNotFoundException', 400, ''],
  moveFromWrongParent: ['AccountNotFoundException', 400, ''],
  moveToMissingParent: ['DestinationParentNotFoundException', 400, ''],
  describeMissingAccount: ['AccountNotFoundException', 400, ''],
  badNextToken: ['InvalidInputException', 400, 'INVALID_NEXT_TOKEN'],
  badAccountIdPattern: ['InvalidInputException', 400, 'INVALID_PATTERN'],
  oversizePolicy: ['ConstraintViolationException', 400, 'POLICY_CONTENT_LIMIT_EXCEEDED'],
  malformedPolicy: ['MalformedPolicyDocumentException', 400, ''],
  oversizeUpdate: ['ConstraintViolationException', 400, 'POLICY_CONTENT_LIMIT_EXCEEDED'],
  malformedUpdate: ['MalformedPolicyDocumentException', 400, ''],
  duplicatePolicy: ['DuplicatePolicyException', 400, ''],
  tagPolicyType: ['PolicyTypeNotAvailableForOrganizationException', 400, ''],
  memberListRolesUnderScp: ['AccessDenied', 403, ''],
  duplicateAttachment: ['DuplicatePolicyAttachmentException', 400, ''],
  attachMissingTarget: ['TargetNotFoundException', 400, ''],
  updateAwsManaged: ['InvalidInputException', 400, 'IMMUTABLE_POLICY'],
  detachNotAttached: ['PolicyNotAttachedException', 400, ''],
  detachRcpFullAccess: ['InvalidInputException', 400, 'NON_DETACHABLE_POLICY'],
  detachLastScp: ['ConstraintViolationException', 400, 'MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED'],
  deletePolicyInUse: ['PolicyInUseException', 400, ''],
  deleteOuNotEmpty: ['OrganizationalUnitNotEmptyException', 400, ''],
  memberListAccounts: ['AccessDeniedException', 400, ''],
  memberCreatePolicy: ['AccessDeniedException', 400, ''],
  memberDetachPolicy: ['AccessDeniedException', 400, ''],
  memberDeleteOu: ['AccessDeniedException', 400, ''],
  systemTag: ['InvalidInputException', 400, 'INVALID_SYSTEM_TAGS_PARAMETER'],
  registerTwice: ['AccountAlreadyRegisteredException', 400, ''],
  registerManagement: [
    'ConstraintViolationException',
    400,
    'CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR',
  ],
  deleteOrgNotEmpty: ['OrganizationNotEmptyException', 400, ''],
  closeTwice: ['AccountAlreadyClosedException', 400, ''],
  closeManagement: ['ConstraintViolationException', 400, 'CANNOT_CLOSE_MANAGEMENT_ACCOUNT'],
  removeManagement: ['MasterCannotLeaveOrganizationException', 400, ''],
  disableTwice: ['PolicyTypeNotEnabledException', 400, ''],
  describeAfterDelete: ['AWSOrganizationsNotInUseException', 400, ''],
};

/** The refusals after which the whole organization is read back and must be as it was. */
const UNCHANGED_AFTER = [
  'oversizePolicy',
  'malformedPolicy',
  'oversizeUpdate',
  'malformedUpdate',
  'duplicateAttachment',
  'detachNotAttached',
  'detachLastScp',
  'deletePolicyInUse',
  'deleteOuNotEmpty',
  'memberCreatePolicy',
  'memberDetachPolicy',
  'memberDeleteOu',
];

for (const [label, python] of [
  ['Debian python3-boto3', '/usr/bin/python3'],
  ['pyenv boto3', 'pyenv'],
] as const) {
  test(`${label} drives every Organizations operation with AWS's shapes and errors (bad input changes nothing), and takes the organization down`, async () => {
    const bin = python === 'pyenv' ? pyenvBin('python3') : python;
    const tag = python === 'pyenv' ? 'pyenv' : 'debian';
    const r = await runChild(bin, ['test/cloud/clients/organizations_flow.py'], {
      env: { PATH: process.env.PATH ?? '', HOME: fx.dataDir, AWS_CONFIG_FILE: '/dev/null' },
      input: JSON.stringify({
        endpoint: fx.url,
        accessKeyId: fx.admin.accessKeyId,
        secretAccessKey: fx.admin.secretAccessKey,
        tag,
      }),
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(fx.admin.secretAccessKey.replace(/[+/]/g, '.')));
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out.errors, EXPECTED_ERRORS);
    // Each bad input of the issue (and a member account's writes) read back the whole organization.
    assert.deepEqual(out.unchangedChecked, UNCHANGED_AFTER);
    assert.deepEqual(out.changedBy, []);
    assert.equal(out.masterAccountId, fx.accountId);
    assert.equal(out.describeId, out.orgId);
    assert.deepEqual(out.rootPolicyTypesBefore, []);
    assert.deepEqual(out.rootPolicyTypes, ['RESOURCE_CONTROL_POLICY', 'SERVICE_CONTROL_POLICY']);
    assert.equal(out.renamedOu, 'experiments');
    assert.equal(out.createState, 'SUCCEEDED');
    assert.deepEqual(out.duplicateEmail, ['FAILED', 'EMAIL_ALREADY_EXISTS']);
    assert.equal(out.listCreateStatuses, 3);
    assert.equal(out.accountPages, 3);
    assert.equal((out.accounts as string[]).length, 3);
    assert.equal((out.accountsInOu as string[]).length, 1);
    assert.equal((out.childOus as string[]).length, 2);
    assert.equal((out.parentOfMember as { Type: string }).Type, 'ORGANIZATIONAL_UNIT');
    assert.deepEqual(out.ousUnderRoot, ['experiments', 'workloads']);
    assert.equal(out.describeAccount, `member-a-${tag}@example.com`);
    assert.equal(out.scpArnPrefix, `arn:aws:organizations::${fx.accountId}`);
    assert.equal(out.policiesUnchanged, true);
    assert.equal(out.memberListRolesBefore, true);
    assert.deepEqual(out.policiesForOu, ['FullAWSAccess', 'no-list-roles']);
    assert.equal((out.targetsOfScp as string[]).length, 1);
    assert.equal(out.describePolicy, 'iam:ListRoles');
    assert.equal(out.updatedDescription, 'deny listing roles');
    assert.equal(out.memberDescribe, out.orgId);
    assert.deepEqual(out.ouTags, [
      ['env', 'ou'],
      ['team', 'platform'],
    ]);
    assert.deepEqual(out.ouTagsAfterUntag, ['env']);
    assert.deepEqual(out.serviceAccess, ['sso.amazonaws.com']);
    assert.equal((out.delegated as string[]).length, 1);
    assert.equal(out.memberListRolesAfterDetach, true);
    assert.equal(out.closedStatus, 'SUSPENDED');
    // Taken down: no organization, no OU, no customer policy left behind.
    assert.equal(await fx.app.store.count('awsOrganization'), 0);
    assert.equal(await fx.app.store.count('organizationalUnit'), 0);
    assert.equal(await fx.app.store.count('orgPolicy'), 0);
  });
}

/** Run Debian's aws-cli v2 with keys only in the environment: exit status, JSON answer, stderr. */
async function awsCli(
  args: string[],
  keys: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = fx.admin,
): Promise<{ status: number; json: Record<string, unknown>; stderr: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: fx.dataDir,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
  };
  const r = await runChild('/usr/bin/aws', ['--endpoint-url', fx.url, '--output', 'json', ...args], { env });
  const json = r.status === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : {};
  return { status: r.status, json, stderr: r.stderr };
}

async function ok(args: string[]): Promise<Record<string, unknown>> {
  const r = await awsCli(args);
  assert.equal(r.status, 0, `aws ${args.join(' ')}: ${r.stderr}`);
  return r.json;
}

async function refusedWith(args: string[], code: RegExp, keys?: Parameters<typeof awsCli>[1]): Promise<void> {
  const r = await awsCli(args, keys);
  assert.notEqual(r.status, 0, `aws ${args.join(' ')} should fail`);
  assert.match(r.stderr, code);
}

test('aws-cli v2 builds an organization, is refused bad input with nothing changed, and takes it down', async () => {
  const o = 'organizations';
  await ok([o, 'create-organization', '--feature-set', 'ALL']);
  const roots = (await ok([o, 'list-roots'])).Roots as { Id: string }[];
  const root = roots[0]?.Id ?? '';
  await ok([o, 'enable-policy-type', '--root-id', root, '--policy-type', 'SERVICE_CONTROL_POLICY']);
  const ou = (
    (await ok([o, 'create-organizational-unit', '--parent-id', root, '--name', 'workloads']))
      .OrganizationalUnit as { Id: string }
  ).Id;
  const status = (await ok([o, 'create-account', '--email', 'cli@example.com', '--account-name', 'cli']))
    .CreateAccountStatus as { Id: string; AccountId: string };
  const described = (
    await ok([o, 'describe-create-account-status', '--create-account-request-id', status.Id])
  ).CreateAccountStatus as { State: string };
  assert.equal(described.State, 'SUCCEEDED');
  const member = status.AccountId;
  await ok([
    o,
    'move-account',
    '--account-id',
    member,
    '--source-parent-id',
    root,
    '--destination-parent-id',
    ou,
  ]);
  const doc = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Action: 'iam:CreateUser', Resource: '*' }],
  });
  const policy = (
    (
      await ok([
        o,
        'create-policy',
        '--name',
        'no-users',
        '--description',
        'd',
        '--type',
        'SERVICE_CONTROL_POLICY',
        '--content',
        doc,
      ])
    ).Policy as { PolicySummary: { Id: string } }
  ).PolicySummary.Id;
  await ok([o, 'attach-policy', '--policy-id', policy, '--target-id', ou]);
  // Everything the refused calls below could touch, read back: policies, their content and targets,
  // and the tree under the root.
  const snapshot = async () => ({
    policies: await ok([o, 'list-policies', '--filter', 'SERVICE_CONTROL_POLICY']),
    content: await ok([o, 'describe-policy', '--policy-id', policy]),
    targets: await ok([o, 'list-targets-for-policy', '--policy-id', policy]),
    full: await ok([o, 'list-targets-for-policy', '--policy-id', 'p-FullAWSAccess']),
    units: await ok([o, 'list-organizational-units-for-parent', '--parent-id', root]),
    children: await ok([o, 'list-children', '--parent-id', ou, '--child-type', 'ACCOUNT']),
  });
  const before = await snapshot();

  await refusedWith(
    [o, 'attach-policy', '--policy-id', policy, '--target-id', ou],
    /DuplicatePolicyAttachmentException/,
  );
  await refusedWith(
    [o, 'detach-policy', '--policy-id', policy, '--target-id', root],
    /PolicyNotAttachedException/,
  );
  await refusedWith(
    [o, 'delete-organizational-unit', '--organizational-unit-id', ou],
    /OrganizationalUnitNotEmptyException/,
  );
  const huge = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'x'.repeat(5200), Effect: 'Deny', Action: '*', Resource: '*' }],
  });
  await refusedWith(
    [
      o,
      'create-policy',
      '--name',
      'huge',
      '--description',
      '',
      '--type',
      'SERVICE_CONTROL_POLICY',
      '--content',
      huge,
    ],
    /ConstraintViolationException/,
  );
  await refusedWith(
    [o, 'update-policy', '--policy-id', policy, '--content', '{"Version":"2012-10-17","Statement":"nope"}'],
    /MalformedPolicyDocumentException/,
  );
  const assumed = await ok([
    'sts',
    'assume-role',
    '--role-arn',
    `arn:aws:iam::${member}:role/OrganizationAccountAccessRole`,
    '--role-session-name',
    'cli-member',
  ]);
  const c = assumed.Credentials as { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
  const memberKeys = {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
  };
  await refusedWith(
    [o, 'detach-policy', '--policy-id', policy, '--target-id', ou],
    /AccessDeniedException/,
    memberKeys,
  );
  // The SCP written through the API holds in the member account at once.
  await refusedWith(['iam', 'create-user', '--user-name', 'x'], /AccessDenied/, memberKeys);
  assert.deepEqual(await snapshot(), before);

  await ok([o, 'detach-policy', '--policy-id', policy, '--target-id', ou]);
  await ok([o, 'delete-policy', '--policy-id', policy]);
  await ok([
    o,
    'move-account',
    '--account-id',
    member,
    '--source-parent-id',
    ou,
    '--destination-parent-id',
    root,
  ]);
  await ok([o, 'delete-organizational-unit', '--organizational-unit-id', ou]);
  await ok([o, 'remove-account-from-organization', '--account-id', member]);
  await ok([o, 'delete-organization']);
  await refusedWith([o, 'describe-organization'], /AWSOrganizationsNotInUseException/);
});
