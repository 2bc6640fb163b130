// Terraform 1.11 with the AWS provider 5.100 builds the multi-account pattern of
// examples/multi-account from scratch against a gatepass node (organization, two OUs, a hub and two
// member accounts, the hub's SCP, OIDC provider and roles, the member roles), re-plans with no
// changes, imports every organizations resource with no drift, and destroys it all. Between apply
// and destroy, runs' sessions behave as the pattern promises.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateUserCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type Credentials,
  STSClient,
} from '@aws-sdk/client-sts';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { rejectsCode } from '../helpers/aws.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';
import { cloudVars, type Terraform, terraformIn } from '../helpers/terraform.js';

let fx: CloudFixture;
let work: string;
let terraform: Terraform;
const vars = () => cloudVars(fx);

before(async () => {
  fx = await startCloud();
  work = mkdtempSync(join(tmpdir(), 'gatepass-tf-orgs-'));
  cpSync('examples/multi-account', join(work, 'tf'), { recursive: true });
  terraform = terraformIn(join(work, 'tf'), work, join(fx.dataDir, CREDENTIALS_FILE));
});

after(async () => {
  await fx?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function planShowsNoChanges(when: string): Promise<void> {
  const plan = await terraform(['plan', '-detailed-exitcode', ...vars()]);
  assert.equal(plan.status, 0, `${when}:\n${plan.out}`);
}

test('examples/multi-account: apply from scratch, no drift, import with no drift, destroy', async () => {
  const init = await terraform(['init', '-input=false', '-no-color']);
  assert.equal(init.status, 0, init.out);
  const apply = await terraform(['apply', '-auto-approve', ...vars()]);
  assert.equal(apply.status, 0, apply.out);
  await planShowsNoChanges('second plan');

  const out = JSON.parse((await terraform(['output', '-json'])).out) as Record<string, { value: unknown }>;
  const accounts = out.accounts?.value as { hub: string; network: string; app: string };
  const units = out.units?.value as { platform: string; workloads: string };
  const orgId = String(out.organization_id?.value);
  const rootId = String(out.root_id?.value);
  const scpId = String(out.scp_id?.value);
  assert.match(orgId, /^o-[a-z0-9]{10}$/);
  assert.deepEqual(out.workloads_tags?.value, { tier: 'workloads' });
  assert.equal(out.member_accounts_seen?.value, 3);
  // The same records `gatepass apply` writes: accounts sit under their OUs, the SCP on platform.
  const store = fx.app.store;
  assert.equal((await store.get('account', accounts.hub))?.parentId, units.platform);
  assert.equal((await store.get('account', accounts.network))?.parentId, units.workloads);
  assert.deepEqual((await store.get('orgPolicy', scpId))?.targets, [units.platform]);

  await runSessionsBehave(accounts, String((out.hub_roles?.value as { plan?: string } | undefined)?.plan));

  // Import: forget every organizations resource, import each by the id AWS documents, plan again.
  const imports: [string, string][] = [
    ['aws_organizations_organization.this', orgId],
    ['aws_organizations_organizational_unit.platform', units.platform],
    ['aws_organizations_organizational_unit.workloads', units.workloads],
    ['aws_organizations_account.hub', accounts.hub],
    ['aws_organizations_account.network', accounts.network],
    ['aws_organizations_account.app', accounts.app],
    ['aws_organizations_policy.hub_chaining_only', scpId],
    ['aws_organizations_policy_attachment.hub_chaining_only', `${units.platform}:${scpId}`],
  ];
  // Provider configurations cannot wait for an import: the accounts' ids are pinned (a variable).
  const pinned = [...vars(), '-var', `account_ids=${JSON.stringify(accounts)}`];
  const rm = await terraform(['state', 'rm', ...imports.map(([address]) => address)]);
  assert.equal(rm.status, 0, rm.out);
  for (const [address, id] of imports) {
    const imported = await terraform(['import', ...pinned, address, id]);
    assert.equal(imported.status, 0, `import ${address}:\n${imported.out}`);
  }
  const after = await terraform(['plan', '-detailed-exitcode', ...pinned]);
  assert.equal(after.status, 0, `plan after import:\n${after.out}`);
  assert.equal(rootId.startsWith('r-'), true);

  const destroy = await terraform(['destroy', '-auto-approve', ...vars()]);
  assert.equal(destroy.status, 0, destroy.out);
  assert.equal(await store.count('awsOrganization'), 0);
  assert.equal(await store.count('organizationalUnit'), 0);
  assert.equal(await store.count('orgPolicy'), 0);
});

const ORG_SUB = 'organization:acme:project:Infra:workspace:networking:run_phase';

/**
 * What a run gets from the pattern: the plan phase's hub session chains into a member's plan role,
 * which reads but cannot write; the apply phase's chain can write; the hub itself is kept to role
 * chaining by the SCP Terraform attached.
 */
async function runSessionsBehave(accounts: { hub: string; network: string }, hubPlanRole: string) {
  const client = (creds?: Credentials) => ({
    endpoint: fx.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: creds?.AccessKeyId ?? 'unused',
      secretAccessKey: creds?.SecretAccessKey ?? 'unused',
      ...(creds?.SessionToken ? { sessionToken: creds.SessionToken } : {}),
    },
  });
  const enter = async (phase: 'plan' | 'apply') => {
    const token = await fx.idp.sign(
      fx.idp.claims({ sub: `${ORG_SUB}:${phase}`, terraform_run_id: 'run-orgs' }),
    );
    const hub = await new STSClient(client()).send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: `arn:aws:iam::${accounts.hub}:role/tfc-${phase}`,
        RoleSessionName: `run-${phase}`,
        WebIdentityToken: token,
      }),
    );
    const member = await new STSClient(client(hub.Credentials)).send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accounts.network}:role/${phase}`,
        RoleSessionName: `run-${phase}`,
      }),
    );
    return { hub: hub.Credentials, member: member.Credentials };
  };
  const plan = await enter('plan');
  assert.equal(hubPlanRole, `arn:aws:iam::${accounts.hub}:role/tfc-plan`);
  const planIam = new IAMClient(client(plan.member));
  assert.ok(((await planIam.send(new ListRolesCommand({}))).Roles ?? []).length > 0);
  await rejectsCode(planIam.send(new CreateUserCommand({ UserName: 'from-plan' })), 'AccessDenied', 403);
  const apply = await enter('apply');
  await new IAMClient(client(apply.member)).send(new CreateUserCommand({ UserName: 'from-apply' }));
  // The hub's own sessions may chain, nothing else: the SCP denies even reading IAM there.
  await rejectsCode(new IAMClient(client(plan.hub)).send(new ListRolesCommand({})), 'AccessDenied', 403);
}
