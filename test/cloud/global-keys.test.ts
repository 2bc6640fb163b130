// The global condition keys AWS sets on every request, as policies see them over real HTTP with the
// JS SDK: aws:RequestedRegion (the signed region for STS, us-east-1 for IAM), aws:PrincipalOrgID and
// aws:PrincipalOrgPaths, aws:ResourceAccount, aws:ResourceOrgID and aws:ResourceOrgPaths,
// aws:ViaAWSService and aws:PrincipalIsAWSService (false); and sts:GetAccessKeyInfo.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetAccessKeyInfoCommand, STSClient } from '@aws-sdk/client-sts';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { rejectsCode } from '../helpers/aws.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;
let memberId: string;
let orgId: string;
let workloads: string;

const creds = (k: Keys) => ({
  accessKeyId: k.accessKeyId,
  secretAccessKey: k.secretAccessKey,
  ...(k.sessionToken ? { sessionToken: k.sessionToken } : {}),
});
const sts = (k: Keys, region = 'us-east-1') =>
  new STSClient({ endpoint: fx.url, region, maxAttempts: 1, credentials: creds(k) });
const iam = (k: Keys, region = 'us-east-1') =>
  new IAMClient({ endpoint: fx.url, region, maxAttempts: 1, credentials: creds(k) });

/** A setup-file placeholder for an account's id (`${account:<name>}`), not a template. */
const account = (name: string): string => `\${account:${name}}`;

/** A role in the member account the hub may assume when the trust policy's condition holds. */
const role = (name: string, condition: string) =>
  [
    `      - name: ${name}`,
    '        trustPolicy:',
    '          Version: "2012-10-17"',
    `          Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: { AWS: "arn:aws:iam::${account('hub')}:root" }, Condition: ${condition} }]`,
    '        attachedPolicies: [aws:AdministratorAccess]',
  ].join('\n');

before(async () => {
  fx = await startCloud();
  const spec = parseSetup(
    [
      'accounts:',
      '  - name: hub',
      `    id: "${fx.accountId}"`,
      '  - name: member',
      '    roles:',
      role(
        'in-org',
        `{ StringEquals: { "aws:ResourceAccount": "${account('member')}" }, StringLike: { "aws:ResourceOrgID": "o-*", "aws:PrincipalOrgID": "o-*" } }`,
      ),
      role('under-workloads', '{ "ForAnyValue:StringLike": { "aws:ResourceOrgPaths": "o-*/r-*/ou-*/" } }'),
      role('wrong-account', `{ StringEquals: { "aws:ResourceAccount": "${account('hub')}" } }`),
      role('direct-call', '{ Bool: { "aws:ViaAWSService": "false", "aws:PrincipalIsAWSService": "false" } }'),
      role('via-service', '{ Bool: { "aws:ViaAWSService": "true" } }'),
      'organization:',
      '  management: hub',
      '  units:',
      '    - name: workloads',
      '      accounts: [member]',
      '  policies:',
      '    - name: sts-in-us-east-1',
      '      type: scp',
      '      targets: [root]',
      '      document:',
      '        Version: "2012-10-17"',
      '        Statement: [{ Effect: Deny, Action: "*", Resource: "*", Condition: { StringNotEquals: { "aws:RequestedRegion": us-east-1 } } }]',
    ].join('\n'),
    'keys.yaml',
  );
  const applied = await applySetup(
    fx.app.store,
    spec,
    { random: cryptoRandom, clock: systemClock },
    { file: 'keys.yaml' },
  );
  memberId = applied.accounts.find((a) => a.name === 'member')?.id ?? '';
  const [org] = await fx.app.store.list('awsOrganization');
  orgId = org?.id ?? '';
  workloads = (await fx.app.store.list('organizationalUnit')).find((u) => u.name === 'workloads')?.id ?? '';
  await fx.cloud.sync();
});

after(() => fx?.stop());

async function memberSession(roleName = 'in-org'): Promise<Keys> {
  const r = await sts(fx.admin).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${memberId}:role/${roleName}`, RoleSessionName: 'keys' }),
  );
  const c = r.Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

test('aws:ResourceAccount, aws:ResourceOrgID and aws:PrincipalOrgID hold in a trust policy; a wrong account fails it', async () => {
  assert.match(orgId, /^o-/);
  await memberSession('in-org');
  await rejectsCode(memberSession('wrong-account'), 'AccessDenied', 403);
});

test('aws:ViaAWSService and aws:PrincipalIsAWSService are false on a signed call, as AWS sets them (a Bool condition without IfExists matches)', async () => {
  await memberSession('direct-call');
  await rejectsCode(memberSession('via-service'), 'AccessDenied', 403);
});

test('aws:ResourceOrgPaths is the resource account path o-…/r-…/ou-…/ (a role under an OU matches)', async () => {
  assert.match(workloads, /^ou-/);
  await memberSession('under-workloads');
});

test('aws:RequestedRegion is the region STS was signed for: a region-lock SCP denies eu-west-1, allows us-east-1', async () => {
  const member = await memberSession();
  const own = await sts(member, 'us-east-1').send(
    new GetAccessKeyInfoCommand({ AccessKeyId: member.accessKeyId }),
  );
  assert.equal(own.Account, memberId);
  await rejectsCode(
    sts(member, 'eu-west-1').send(new GetAccessKeyInfoCommand({ AccessKeyId: member.accessKeyId })),
    'AccessDenied',
    403,
  );
});

test("IAM's aws:RequestedRegion is us-east-1 whatever region the call is signed for", async () => {
  const member = await memberSession();
  const roles = await iam(member, 'eu-west-1').send(new ListRolesCommand({}));
  assert.ok((roles.Roles ?? []).some((r) => r.RoleName === 'in-org'));
});

test('sts:GetAccessKeyInfo names the account of a long-term key, and refuses to guess an unknown one', async () => {
  const r = await sts(fx.admin).send(new GetAccessKeyInfoCommand({ AccessKeyId: fx.admin.accessKeyId }));
  assert.equal(r.Account, fx.accountId);
  await rejectsCode(
    sts(fx.admin).send(new GetAccessKeyInfoCommand({ AccessKeyId: 'AKIAZZZZZZZZZZZZZZZZ' })),
    'InvalidParameterValue',
    400,
  );
});
