// Terraform's AWS provider against a running gatepass node, resource by resource: every IAM resource
// and data source the issue lists is created, read back through the data sources, shows no drift on
// a second plan, is imported into an empty state with no drift either, and is destroyed.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';
import { cloudVars, type Terraform, terraformIn } from '../helpers/terraform.js';

let fx: CloudFixture;
let work: string;
let terraform: Terraform;

const vars = () => cloudVars(fx);

/** `terraform plan -detailed-exitcode`: 0 = no changes, 2 = changes (drift), 1 = error. */
async function planShowsNoChanges(when: string): Promise<void> {
  const plan = await terraform(['plan', '-detailed-exitcode', ...vars()]);
  assert.equal(plan.status, 0, `${when}:\n${plan.out}`);
}

before(async () => {
  fx = await startCloud();
  work = mkdtempSync(join(tmpdir(), 'gatepass-tf-iam-'));
  cpSync('test/cloud/terraform-iam', join(work, 'tf'), { recursive: true });
  terraform = terraformIn(join(work, 'tf'), work, join(fx.dataDir, CREDENTIALS_FILE));
});

after(async () => {
  await fx?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('every IAM resource and data source: apply, read back, no drift, import with no drift, destroy', async () => {
  const init = await terraform(['init', '-input=false', '-no-color']);
  assert.equal(init.status, 0, init.out);
  const apply = await terraform(['apply', '-auto-approve', ...vars()]);
  assert.equal(apply.status, 0, apply.out);

  const out = JSON.parse((await terraform(['output', '-json'])).out) as Record<string, { value: unknown }>;
  const role = out.role?.value as Record<string, unknown>;
  const account = fx.accountId;
  assert.equal(role.arn, `arn:aws:iam::${account}:role/runs/tf-plan`);
  assert.match(String(role.unique_id), /^AROA/);
  assert.equal(role.max_session_duration, 7200);
  assert.equal(role.permissions_boundary, `arn:aws:iam::${account}:policy/runs/runs-boundary`);
  assert.deepEqual(role.tags, { phase: 'plan' });
  const policy = out.policy?.value as Record<string, unknown>;
  assert.equal(policy.name, 'read-iam');
  assert.equal(policy.path, '/');
  assert.match(String(policy.policy), /iam:Get\*/);
  assert.equal(policy.aws_name, 'IAMReadOnlyAccess');
  const provider = out.provider?.value as Record<string, unknown>;
  assert.deepEqual([...(provider.by_arn_clients as string[])].sort(), [
    'aws.workload.identity',
    'sts.amazonaws.com',
  ]);
  assert.deepEqual(provider.by_arn_thumbs, [fx.pki.caThumbprint]);
  assert.equal(
    provider.by_url_arn,
    `arn:aws:iam::${account}:oidc-provider/${fx.idp.issuer.replace('https://', '')}`,
  );
  assert.deepEqual(provider.tags, { purpose: 'runs' });

  // The access key Terraform created is a working credential for its user.
  const sts = new STSClient({
    endpoint: fx.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: String(out.access_key_id?.value),
      secretAccessKey: String(out.access_key_secret?.value),
    },
  });
  assert.equal(
    (await sts.send(new GetCallerIdentityCommand({}))).Arn,
    `arn:aws:iam::${account}:user/bots/ci-bootstrap`,
  );

  await planShowsNoChanges('second plan after apply');

  // Import: forget every resource, import each by the id AWS documents for it, and plan again.
  const imports: [string, string][] = [
    [
      'aws_iam_openid_connect_provider.runs',
      `arn:aws:iam::${account}:oidc-provider/${fx.idp.issuer.replace('https://', '')}`,
    ],
    ['aws_iam_policy.boundary', `arn:aws:iam::${account}:policy/runs/runs-boundary`],
    ['aws_iam_policy.read', `arn:aws:iam::${account}:policy/read-iam`],
    ['aws_iam_role.plan', 'tf-plan'],
    ['aws_iam_role_policy.chain', 'tf-plan:chain'],
    ['aws_iam_role_policy_attachment.read', `tf-plan/arn:aws:iam::${account}:policy/read-iam`],
    ['aws_iam_user.ci', 'ci-bootstrap'],
    ['aws_iam_access_key.ci', String(out.access_key_id?.value)],
  ];
  const rm = await terraform(['state', 'rm', ...imports.map(([address]) => address)]);
  assert.equal(rm.status, 0, rm.out);
  for (const [address, id] of imports) {
    const imported = await terraform(['import', ...vars(), address, id]);
    assert.equal(imported.status, 0, `import ${address}:\n${imported.out}`);
  }
  // An imported access key has no secret in state (AWS never returns it again); nothing else differs.
  const plan = await terraform(['plan', '-detailed-exitcode', ...vars()]);
  assert.ok(plan.status === 0, `plan after import:\n${plan.out}`);

  const destroy = await terraform(['destroy', '-auto-approve', ...vars()]);
  assert.equal(destroy.status, 0, destroy.out);
  assert.deepEqual(await fx.app.store.list('role'), []);
  assert.deepEqual(await fx.app.store.list('oidcProvider'), []);
  assert.deepEqual(
    (await fx.app.store.list('managedPolicy')).filter((p) => p.accountId !== 'aws'),
    [],
  );
  assert.deepEqual(
    (await fx.app.store.list('user')).map((u) => u.name),
    ['gatepass-admin'],
  );
  assert.equal(await fx.app.store.count('accessKey'), 1, 'only the bootstrap administrator key is left');
});
