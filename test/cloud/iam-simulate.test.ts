// The IAM policy simulator and live authorization agree on who owns what: AWS managed policies (and
// the other AWS-owned resources) are readable by every account and writable by none; a role, and a
// session of it named as CallerArn, can be the simulated caller; KMS keys need their key policy;
// GetCallerIdentity needs no permission. Real node on loopback, the AWS SDK for JavaScript v3.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeletePolicyCommand,
  DeleteRoleCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  ListRolesCommand,
  PutRolePolicyCommand,
  SimulateCustomPolicyCommand,
  SimulatePrincipalPolicyCommand,
  type SimulatePrincipalPolicyCommandInput,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { allow, policyDocument, rejectsCode } from '../helpers/aws.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;
let admin: IAMClient;
let account: string;

const user = () => `arn:aws:iam::${account}:user/sim-user`;
const role = () => `arn:aws:iam::${account}:role/deployer`;
const session = (name = 'run-42') => `arn:aws:sts::${account}:assumed-role/deployer/${name}`;

const doc = policyDocument;
const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';
const READS = [
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
  'iam:ListPolicyVersions',
  'iam:ListEntitiesForPolicy',
  'iam:ListPolicyTags',
  'iam:GenerateServiceLastAccessedDetails',
];
const WRITES = [
  'iam:CreatePolicyVersion',
  'iam:DeletePolicy',
  'iam:DeletePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:TagPolicy',
  'iam:UntagPolicy',
];

async function decisions(input: SimulatePrincipalPolicyCommandInput): Promise<[string, string][]> {
  const out = await admin.send(new SimulatePrincipalPolicyCommand(input));
  return (out.EvaluationResults ?? []).map((r) => [r.EvalActionName ?? '', r.EvalDecision ?? '']);
}
const decisionOf = async (input: SimulatePrincipalPolicyCommandInput) => (await decisions(input))[0]?.[1];
/** SimulateCustomPolicy's decisions for a policy that allows everything. */
async function customDecisions(actions: string[], resource: string): Promise<string[]> {
  const out = await admin.send(
    new SimulateCustomPolicyCommand({
      PolicyInputList: [doc([allow('*')])],
      ActionNames: actions,
      ResourceArns: [resource],
    }),
  );
  return (out.EvaluationResults ?? []).map((r) => r.EvalDecision ?? '');
}
/** Decisions for a user whose only policy allows everything. */
const allowedEverything = (actions: string[], resource: string) =>
  decisions({
    PolicySourceArn: user(),
    PolicyInputList: [doc([allow('*')])],
    ActionNames: actions,
    ResourceArns: [resource],
  });

before(async () => {
  fx = await startCloud();
  account = fx.accountId;
  admin = new IAMClient({ endpoint: fx.url, region: 'us-east-1', credentials: fx.admin, maxAttempts: 1 });
  await admin.send(new CreateUserCommand({ UserName: 'sim-user' }));
  await admin.send(
    new CreateRoleCommand({
      RoleName: 'deployer',
      AssumeRolePolicyDocument: doc([
        { Effect: 'Allow', Principal: { AWS: account }, Action: 'sts:AssumeRole' },
      ]),
    }),
  );
  await admin.send(
    new PutRolePolicyCommand({
      RoleName: 'deployer',
      PolicyName: 'reads',
      PolicyDocument: doc([allow(['s3:GetObject', 'iam:ListRoles'])]),
    }),
  );
});
after(() => fx.stop());

describe('AWS-owned resources', () => {
  test('reading an AWS managed policy needs only the caller identity Allow, in the simulator as live', async () => {
    const got = await allowedEverything(READS, ADMIN_POLICY);
    assert.deepEqual(
      got,
      READS.map((a) => [a, 'allowed']),
    );
    assert.deepEqual(
      await customDecisions(READS, ADMIN_POLICY),
      READS.map(() => 'allowed'),
    );
    // The administrator reads it live, as every account can.
    const live = await admin.send(new GetPolicyCommand({ PolicyArn: ADMIN_POLICY }));
    assert.equal(live.Policy?.Arn, ADMIN_POLICY);
    const version = await admin.send(
      new GetPolicyVersionCommand({ PolicyArn: ADMIN_POLICY, VersionId: live.Policy?.DefaultVersionId }),
    );
    assert.ok(version.PolicyVersion?.Document);
  });

  test('no account changes an AWS managed policy: implicitDeny simulated, AccessDenied live even for an administrator', async () => {
    const got = await allowedEverything(WRITES, ADMIN_POLICY);
    assert.deepEqual(
      got,
      WRITES.map((a) => [a, 'implicitDeny']),
    );
    assert.deepEqual(
      await customDecisions(WRITES, ADMIN_POLICY),
      WRITES.map(() => 'implicitDeny'),
    );
    await rejectsCode(
      admin.send(new DeletePolicyCommand({ PolicyArn: ADMIN_POLICY })),
      'AccessDenied',
      403,
      /iam:DeletePolicy on resource: arn:aws:iam::aws:policy\/AdministratorAccess because no resource-based policy allows/,
    );
    await rejectsCode(
      admin.send(
        new CreatePolicyVersionCommand({ PolicyArn: ADMIN_POLICY, PolicyDocument: doc([allow('s3:*')]) }),
      ),
      'AccessDenied',
      403,
    );
    // Nothing changed: the policy is still there, at its one version.
    const still = await admin.send(new GetPolicyCommand({ PolicyArn: ADMIN_POLICY }));
    assert.equal(still.Policy?.DefaultVersionId, 'v1');
  });

  test("Identity Center's /aws-reserved/ roles and the alias/aws/ KMS aliases are read, never changed", async () => {
    const reserved = `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789`;
    const alias = `arn:aws:kms:us-east-1:${account}:alias/aws/s3`;
    const own = `arn:aws:kms:us-east-1:${account}:alias/mine`;
    assert.deepEqual(await allowedEverything(['iam:GetRole', 'iam:ListRoleTags'], reserved), [
      ['iam:GetRole', 'allowed'],
      ['iam:ListRoleTags', 'allowed'],
    ]);
    assert.deepEqual(
      await allowedEverything(['iam:DeleteRole', 'iam:PutRolePolicy', 'iam:PassRole'], reserved),
      [
        ['iam:DeleteRole', 'implicitDeny'],
        ['iam:PutRolePolicy', 'implicitDeny'],
        ['iam:PassRole', 'implicitDeny'],
      ],
    );
    assert.deepEqual(await allowedEverything(['kms:DeleteAlias', 'kms:UpdateAlias'], alias), [
      ['kms:DeleteAlias', 'implicitDeny'],
      ['kms:UpdateAlias', 'implicitDeny'],
    ]);
    assert.deepEqual(await allowedEverything(['kms:DeleteAlias'], own), [['kms:DeleteAlias', 'allowed']]);
  });

  test('a customer managed policy of another account stays that account resource', async () => {
    const foreign = 'arn:aws:iam::999999999999:policy/theirs';
    assert.equal(
      await decisionOf({
        PolicySourceArn: user(),
        PolicyInputList: [doc([allow('*')])],
        ActionNames: ['iam:GetPolicy'],
        ResourceArns: [foreign],
      }),
      'implicitDeny',
    );
  });
});

describe('a role and its sessions as the simulated caller', () => {
  test("a role source is decided by the role's own policies", async () => {
    assert.deepEqual(
      await decisions({ PolicySourceArn: role(), ActionNames: ['iam:ListRoles', 'iam:DeleteRole'] }),
      [
        ['iam:ListRoles', 'allowed'],
        ['iam:DeleteRole', 'implicitDeny'],
      ],
    );
    // The simulator's answer is the live one for a session of the role.
    const sts = new STSClient({
      endpoint: fx.url,
      region: 'us-east-1',
      credentials: fx.admin,
      maxAttempts: 1,
    });
    const creds = (await sts.send(new AssumeRoleCommand({ RoleArn: role(), RoleSessionName: 'live' })))
      .Credentials;
    assert.ok(creds?.AccessKeyId && creds.SecretAccessKey && creds.SessionToken);
    const asRole = new IAMClient({
      endpoint: fx.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: creds.AccessKeyId,
        secretAccessKey: creds.SecretAccessKey,
        sessionToken: creds.SessionToken,
      },
    });
    assert.ok((await asRole.send(new ListRolesCommand({}))).Roles?.some((r) => r.Arn === role()));
    await rejectsCode(asRole.send(new DeleteRoleCommand({ RoleName: 'deployer' })), 'AccessDenied', 403);
  });

  test('a resource policy naming the session grants past the boundary; one naming the role does not', async () => {
    const object = 'arn:aws:s3:::bucket/key';
    const granting = (principal: string) =>
      doc([{ Effect: 'Allow', Principal: { AWS: principal }, Action: 's3:PutObject', Resource: object }]);
    const put = (caller: string | undefined, principal: string) =>
      decisionOf({
        PolicySourceArn: role(),
        ...(caller ? { CallerArn: caller } : {}),
        ActionNames: ['s3:PutObject'],
        ResourceArns: [object],
        ResourcePolicy: granting(principal),
        PermissionsBoundaryPolicyInputList: [doc([allow('s3:GetObject')])],
      });
    // The boundary has no s3:PutObject: only a grant naming the session itself gets past it.
    assert.equal(await put(session(), session()), 'allowed');
    assert.equal(await put(session(), role()), 'implicitDeny');
    assert.equal(await put(session('other'), session()), 'implicitDeny');
    assert.equal(await put(undefined, role()), 'implicitDeny');
  });

  test('a Deny with NotPrincipal spares the role it names, unless the role has a permissions boundary', async () => {
    const object = 'arn:aws:s3:::bucket/key';
    const policy = doc([
      {
        Effect: 'Deny',
        NotPrincipal: { AWS: [role(), session(), account] },
        Action: 's3:GetObject',
        Resource: object,
      },
    ]);
    const get = (caller: string | undefined, boundary: boolean) =>
      decisionOf({
        PolicySourceArn: role(),
        ...(caller ? { CallerArn: caller } : {}),
        ActionNames: ['s3:GetObject'],
        ResourceArns: [object],
        ResourcePolicy: policy,
        ...(boundary ? { PermissionsBoundaryPolicyInputList: [doc([allow('*')])] } : {}),
      });
    assert.equal(await get(undefined, false), 'allowed');
    assert.equal(await get(session(), false), 'allowed');
    assert.equal(await get(undefined, true), 'explicitDeny');
    assert.equal(await get(session(), true), 'explicitDeny');
  });

  test('an Allow with NotPrincipal grants nothing, in the same account or across', async () => {
    const object = 'arn:aws:s3:::bucket/key';
    const put = (owner: string) =>
      decisionOf({
        PolicySourceArn: role(),
        CallerArn: session(),
        ActionNames: ['s3:PutObject'],
        ResourceArns: [object],
        ResourceOwner: owner,
        ResourcePolicy: doc([
          { Effect: 'Allow', NotPrincipal: { AWS: '999999999999' }, Action: 's3:*', Resource: object },
        ]),
        PolicyInputList: [doc([allow('s3:PutObject')])],
      });
    // Same account: the identity Allow alone decides; another account's bucket stays closed.
    assert.equal(await put(account), 'allowed');
    assert.equal(await put('888888888888'), 'implicitDeny');
  });

  test('a session caller presents its own global keys', async () => {
    const id = await decisionOf({
      PolicySourceArn: role(),
      CallerArn: session('run-42'),
      PolicyInputList: [
        doc([
          {
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Resource: '*',
            Condition: {
              StringEquals: { 'aws:PrincipalType': 'AssumedRole', 'aws:PrincipalArn': role() },
              StringLike: { 'aws:userid': '*:run-42' },
            },
          },
        ]),
      ],
      ActionNames: ['sqs:SendMessage'],
    });
    assert.equal(id, 'allowed');
  });

  test('a CallerArn that is neither a user nor a session of the source role is InvalidInput', async () => {
    const bad: [string, string][] = [
      [role(), `arn:aws:sts::${account}:assumed-role/someone-else/run-42`],
      [role(), `arn:aws:sts::${account}:assumed-role/deployer/x`],
      [user(), session()],
      [role(), `arn:aws:iam::${account}:role/deployer2`],
    ];
    for (const [source, caller] of bad)
      await rejectsCode(
        admin.send(
          new SimulatePrincipalPolicyCommand({
            PolicySourceArn: source,
            CallerArn: caller,
            ActionNames: ['s3:GetObject'],
          }),
        ),
        'InvalidInput',
        400,
      );
  });

  test("a user CallerArn is simulated with the source role's policies, as AWS documents", async () => {
    const bob = `arn:aws:iam::${account}:user/bob`;
    const object = 'arn:aws:s3:::bucket/key';
    const named = (principal: string) =>
      decisionOf({
        PolicySourceArn: role(),
        CallerArn: bob,
        ActionNames: ['s3:GetObject'],
        ResourceArns: [object],
        ResourcePolicy: doc([
          { Effect: 'Deny', Principal: { AWS: principal }, Action: 's3:*', Resource: object },
        ]),
      });
    assert.equal(await named(bob), 'explicitDeny');
    assert.equal(await named(role()), 'allowed');
  });
});

describe('resources with rules of their own', () => {
  const key = () => `arn:aws:kms:us-east-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const kms = (resourcePolicy?: string, identity = [doc([allow('kms:Decrypt')])]) =>
    decisionOf({
      PolicySourceArn: user(),
      PolicyInputList: identity,
      ActionNames: ['kms:Decrypt'],
      ResourceArns: [key()],
      ...(resourcePolicy ? { ResourcePolicy: resourcePolicy } : {}),
    });
  const keyPolicy = (principal: string) =>
    doc([{ Effect: 'Allow', Principal: { AWS: principal }, Action: 'kms:*', Resource: '*' }]);

  test('a KMS key opens only where its key policy allows the caller or its account', async () => {
    assert.equal(await kms(), 'implicitDeny');
    assert.equal(await kms(keyPolicy(`arn:aws:iam::${account}:user/other`)), 'implicitDeny');
    assert.equal(await kms(keyPolicy(`arn:aws:iam::${account}:root`)), 'allowed');
    assert.equal(await kms(keyPolicy(user()), [doc([allow('s3:GetObject')])]), 'allowed');
  });

  test('sts:GetCallerIdentity needs no permission, even under an explicit Deny', async () => {
    assert.equal(
      await decisionOf({
        PolicySourceArn: user(),
        PolicyInputList: [doc([{ Effect: 'Deny', Action: '*', Resource: '*' }])],
        ActionNames: ['sts:GetCallerIdentity'],
      }),
      'allowed',
    );
  });

  test('a resource policy given for a role the store does not hold is decided as its trust policy', async () => {
    const target = `arn:aws:iam::${account}:role/not-stored`;
    const assume = (principal: string) =>
      decisionOf({
        PolicySourceArn: user(),
        PolicyInputList: [doc([allow('sts:AssumeRole')])],
        ActionNames: ['sts:AssumeRole'],
        ResourceArns: [target],
        ResourcePolicy: doc([
          { Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole', Resource: target },
        ]),
      });
    assert.equal(await assume(`arn:aws:iam::${account}:user/other`), 'implicitDeny');
    assert.equal(await assume(user()), 'allowed');
  });

  test('ResourceOwner is taken as an account ID or an account ARN, and anything else is InvalidInput', async () => {
    const object = 'arn:aws:s3:::bucket/key';
    const owned = (owner: string) =>
      decisionOf({
        PolicySourceArn: user(),
        PolicyInputList: [doc([allow('s3:GetObject')])],
        ActionNames: ['s3:GetObject'],
        ResourceArns: [object],
        ResourceOwner: owner,
      });
    assert.equal(await owned(account), 'allowed');
    assert.equal(await owned(`arn:aws:iam::${account}:root`), 'allowed');
    // Another account's bucket with no bucket policy: the identity Allow is not enough.
    assert.equal(await owned('999999999999'), 'implicitDeny');
    assert.equal(await owned('arn:aws:iam::999999999999:root'), 'implicitDeny');
    await rejectsCode(owned('not-an-account'), 'InvalidInput', 400);
  });
});
