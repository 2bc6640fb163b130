// One model: a setup file and the Organizations API write the same records. The allow-list SCP
// strategy through a setup file (FullAWSAccess kept off), API changes that a later dry run shows as
// differences, and what the API owns (tags) surviving a file that does not speak of it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CreateUserCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup, SetupError } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { rejectsCode } from '../helpers/aws.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';
import { organizationsCall } from '../helpers/organizations.js';

let fx: CloudFixture;
let memberId: string;

const SETUP = (hub: string) =>
  [
    'accounts:',
    '  - name: hub',
    `    id: "${hub}"`,
    '  - name: member',
    '    roles:',
    '      - name: admin',
    '        trustPolicy:',
    '          Version: "2012-10-17"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file placeholder syntax, not a template.
    '          Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: { AWS: "arn:aws:iam::${account:hub}:root" } }]',
    '        attachedPolicies: [aws:AdministratorAccess]',
    'organization:',
    '  management: hub',
    '  units:',
    '    - name: workloads',
    '      accounts: [member]',
    '  policies:',
    '    - name: allow-iam-reads',
    '      type: scp',
    '      targets: [member]',
    '      document:',
    '        Version: "2012-10-17"',
    '        Statement: [{ Effect: Allow, Action: ["iam:Get*", "iam:List*", "sts:*"], Resource: "*" }]',
    '  detachFullAwsAccess: [member]',
  ].join('\n');

const apply = (dryRun = false) =>
  applySetup(
    fx.app.store,
    parseSetup(SETUP(fx.accountId), 'org.yaml'),
    { random: cryptoRandom, clock: systemClock },
    { file: 'org.yaml', dryRun },
  );

/** One signed JSON 1.1 call to this node's Organizations API. */
const organizations = (operation: string, body: Record<string, unknown>, keys: Keys = fx.admin) =>
  organizationsCall(fx.url, keys, operation, body);

before(async () => {
  fx = await startCloud();
  const applied = await apply();
  memberId = applied.accounts.find((a) => a.name === 'member')?.id ?? '';
  await fx.cloud.sync();
});

after(() => fx?.stop());

async function memberIam(): Promise<IAMClient> {
  const sts = new STSClient({ endpoint: fx.url, region: 'us-east-1', maxAttempts: 1, credentials: fx.admin });
  const c = (
    await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${memberId}:role/admin`, RoleSessionName: 'setup' }),
    )
  ).Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
  return new IAMClient({
    endpoint: fx.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    },
  });
}

test('a setup file detaches FullAWSAccess: only what its own SCP allows is allowed in the account', async () => {
  const full = await fx.app.store.get('orgPolicy', 'p-FullAWSAccess');
  assert.equal(full?.targets.includes(memberId), false);
  const listed = await organizations('ListPoliciesForTarget', {
    TargetId: memberId,
    Filter: 'SERVICE_CONTROL_POLICY',
  });
  assert.deepEqual(
    (listed.json.Policies as { Name: string }[]).map((p) => p.Name),
    ['allow-iam-reads'],
  );
  const iam = await memberIam();
  await iam.send(new ListRolesCommand({}));
  await rejectsCode(iam.send(new CreateUserCommand({ UserName: 'not-allowed' })), 'AccessDenied', 403);
});

test('a setup file that would leave a target with no SCP is refused before anything is written', () => {
  assert.throws(
    () =>
      parseSetup(SETUP(fx.accountId).replace('      targets: [member]', '      targets: [root]'), 'org.yaml'),
    (e: unknown) => e instanceof SetupError && /member would have no SCP left/.test(e.lines().join('\n')),
  );
});

test('API changes (an attachment, a policy rewritten, an account moved) show as differences in a dry run; what the API owns (tags, an extra OU, its own SCP) is kept', async () => {
  const clean = await apply(true);
  assert.equal(clean.changes.filter((c) => c.op !== 'unchanged').length, 0, JSON.stringify(clean.changes));

  assert.equal(
    (await organizations('AttachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: memberId })).status,
    200,
  );
  assert.equal(
    (await organizations('TagResource', { ResourceId: memberId, Tags: [{ Key: 'cost', Value: 'x' }] }))
      .status,
    200,
  );
  const [root] = (await organizations('ListRoots', {})).json.Roots as { Id: string }[];
  assert.equal(
    (await organizations('CreateOrganizationalUnit', { ParentId: root?.Id, Name: 'extra' })).status,
    200,
  );
  // FullAWSAccess attached through the API holds on the next request: the allow-list is lifted.
  const iam = await memberIam();
  await iam.send(new CreateUserCommand({ UserName: 'allowed-now' }));
  // The file's own SCP rewritten, the member moved out of its OU, and an SCP the file does not know.
  const policies = (await organizations('ListPolicies', { Filter: 'SERVICE_CONTROL_POLICY' })).json
    .Policies as { Id: string; Name: string }[];
  const fileScp = policies.find((p) => p.Name === 'allow-iam-reads')?.Id;
  const wider = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
  });
  assert.equal((await organizations('UpdatePolicy', { PolicyId: fileScp, Content: wider })).status, 200);
  const [workloads] = (await organizations('ListParents', { ChildId: memberId })).json.Parents as {
    Id: string;
  }[];
  assert.equal(
    (
      await organizations('MoveAccount', {
        AccountId: memberId,
        SourceParentId: workloads?.Id,
        DestinationParentId: root?.Id,
      })
    ).status,
    200,
  );
  const apiOnly = await organizations('CreatePolicy', {
    Name: 'api-only',
    Description: 'not in the file',
    Type: 'SERVICE_CONTROL_POLICY',
    Content: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'ec2:*', Resource: '*' }],
    }),
  });
  assert.equal(apiOnly.status, 200);

  const dry = await apply(true);
  const changed = dry.changes.filter((c) => c.op !== 'unchanged');
  assert.deepEqual(
    changed.map((c) => [c.op, c.name, c.fields]),
    [
      ['update', 'FullAWSAccess', ['targets']],
      ['update', 'scp/allow-iam-reads', ['content']],
      ['update', 'member', ['parentId']],
    ],
  );
  // A dry run changes nothing; the real apply puts the file's allow-list back and keeps the tag.
  assert.equal((await fx.app.store.get('orgPolicy', 'p-FullAWSAccess'))?.targets.includes(memberId), true);
  await apply();
  await fx.cloud.sync();
  assert.equal((await fx.app.store.get('orgPolicy', 'p-FullAWSAccess'))?.targets.includes(memberId), false);
  assert.deepEqual((await fx.app.store.get('account', memberId))?.tags, [{ Key: 'cost', Value: 'x' }]);
  assert.ok((await fx.app.store.list('organizationalUnit')).some((u) => u.name === 'extra'));
  assert.equal((await fx.app.store.get('account', memberId))?.parentId, workloads?.Id);
  assert.equal(
    (await fx.app.store.list('orgPolicy')).some((p) => p.name === 'api-only'),
    true,
  );
  await rejectsCode(iam.send(new CreateUserCommand({ UserName: 'denied-again' })), 'AccessDenied', 403);
});

test('an Organizations write is on the record as every management write is: one allow event with caller, target ARN and digests of the body; reads and refused writes leave none', async () => {
  const content = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Action: 'ec2:*', Resource: '*' }],
  });
  const created = await organizations('CreatePolicy', {
    Name: 'audited-deny-ec2',
    Description: 'x',
    Type: 'SERVICE_CONTROL_POLICY',
    Content: content,
  });
  assert.equal(created.status, 200, JSON.stringify(created.json));
  const [event, ...more] = await fx.app.store.queryAudit({ requestId: created.requestId });
  assert.equal(more.length, 0);
  assert.equal(event?.action, 'organizations:CreatePolicy');
  assert.equal(event?.decision, 'allow');
  assert.equal(event?.caller, `arn:aws:iam::${fx.accountId}:user/gatepass-admin`);
  assert.equal(event?.accessKeyId, fx.admin.accessKeyId);
  assert.equal(event?.resource, '*');
  const detail = event?.detail as {
    documentSha256?: Record<string, string>;
    parameters?: Record<string, string>;
  };
  assert.deepEqual(detail.documentSha256, { Content: createHash('sha256').update(content).digest('hex') });
  assert.equal(detail.parameters?.Name, 'audited-deny-ec2');

  const read = await organizations('ListPolicies', { Filter: 'SERVICE_CONTROL_POLICY' });
  assert.equal(read.status, 200);
  assert.deepEqual(await fx.app.store.queryAudit({ requestId: read.requestId }), []);

  const refused = await organizations('CreatePolicy', {
    Name: 'audited-deny-ec2',
    Description: 'x',
    Type: 'SERVICE_CONTROL_POLICY',
    Content: content,
  });
  assert.equal(refused.json.__type, 'DuplicatePolicyException');
  const after = await fx.app.store.queryAudit({ requestId: refused.requestId });
  assert.equal(
    after.some((e) => e.decision === 'allow'),
    false,
  );
});
