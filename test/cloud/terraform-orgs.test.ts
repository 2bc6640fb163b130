// Terraform 1.11 with the AWS provider 5.100 builds the multi-account pattern of
// examples/multi-account from scratch against a gatepass node (organization, two OUs, a hub and two
// member accounts, the hub's SCP, OIDC provider and roles, the member roles), re-plans with no
// changes, imports every organizations resource with no drift, and destroys it all. Between apply
// and destroy, `gatepass run` plan and apply phases behave as the pattern promises.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { adminApi, workspaceWithAgentToken } from '../helpers/admin-api.js';
import { runChild } from '../helpers/child.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';
import { cloudVars, type Terraform, terraformIn } from '../helpers/terraform.js';

let fx: CloudFixture;
let work: string;
let terraform: Terraform;
const vars = () => cloudVars(fx);

before(async () => {
  // HTTPS with the node's own issuer: `gatepass run` mints the runs' tokens there.
  fx = await startCloud({ tls: true });
  work = mkdtempSync(join(tmpdir(), 'gatepass-tf-orgs-'));
  cpSync('examples/multi-account', join(work, 'tf'), { recursive: true });
  terraform = terraformIn(join(work, 'tf'), work, join(fx.dataDir, CREDENTIALS_FILE), fx.caFile);
});

after(async () => {
  await fx?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function planShowsNoChanges(when: string): Promise<void> {
  const plan = await terraform(['plan', '-detailed-exitcode', ...vars()]);
  assert.equal(plan.status, 0, `${when}:\n${plan.out}`);
}

test('examples/multi-account: apply from scratch, no drift; gatepass run: the plan phase cannot write in a member, the apply phase can, the SCP blocks the hub; import with no drift, destroy', async (t) => {
  const started = performance.now();
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

  const hubRoles = out.hub_roles?.value as Record<string, string>;
  assert.equal(hubRoles.plan, `arn:aws:iam::${accounts.hub}:role/tfc-plan`);
  const runs = performance.now();
  await runPhasesBehave(accounts, hubRoles);
  const runsMs = performance.now() - runs;

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
  // Measured, not asserted: what the two `gatepass run` phases add to this test.
  t.diagnostic(
    `gatepass run plan + apply: ${(runsMs / 1000).toFixed(1)} s of ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
});

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

/**
 * The command each phase runs: aws-cli v2 through the `network` alias's file (the hub session chained
 * into the member's role of the phase) reads and writes IAM in the member, and through the default
 * file (the hub role's own session) writes IAM in the hub. One line a step: `<step> ok`, or
 * `<step> refused: <aws-cli's error>`.
 */
const PROBE = `
net=$(python3 -c 'import json,os; print(json.loads(os.environ["TF_VAR_tfc_aws_dynamic_credentials"])["aliases"]["network"]["shared_config_file"])')
hub=$AWS_CONFIG_FILE
probe() {
  name=$1; file=$2; shift 2
  if out=$(AWS_CONFIG_FILE=$file /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_IAM" --output json "$@" 2>&1)
  then echo "$name ok"; else echo "$name refused: $(printf '%s' "$out" | tr '\\n' ' ')"; fi
}
probe network-read "$net" iam list-roles
probe network-write "$net" iam create-user --user-name "from-$GATEPASS_RUN_PHASE"
probe hub-write "$hub" iam create-user --user-name "hub-$GATEPASS_RUN_PHASE"
`;

/**
 * `gatepass run acme/networking` plan, then apply of the same run, against what Terraform built: the
 * workspace enters the hub's tfc-plan / tfc-apply role and chains into the network account's role of
 * the phase. The plan role reads but cannot write there, the apply role writes, and the hub's own
 * sessions are stopped by the SCP Terraform attached (an explicit deny, whatever their policies).
 */
async function runPhasesBehave(accounts: { hub: string; network: string }, hubRoles: Record<string, string>) {
  const caFile = fx.caFile ?? '';
  const api = await adminApi(fx.url, fx.dataDir, readFileSync(caFile, 'utf8'));
  const agentToken = await workspaceWithAgentToken(api, 'acme', 'networking', {
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_PROVIDER_AUTH_network: 'true',
    TFC_DEFAULT_AWS_PLAN_ROLE_ARN: String(hubRoles.plan),
    TFC_DEFAULT_AWS_APPLY_ROLE_ARN: String(hubRoles.apply),
    GATEPASS_AWS_PLAN_CHAIN_ROLE_ARN_network: `arn:aws:iam::${accounts.network}:role/plan`,
    GATEPASS_AWS_APPLY_CHAIN_ROLE_ARN_network: `arn:aws:iam::${accounts.network}:role/apply`,
    GATEPASS_AWS_ALLOWED_ACCOUNT_IDS_network: accounts.network,
    GATEPASS_AWS_STS_ENDPOINT: fx.url,
  });
  const run = async (phase: 'plan' | 'apply', runId?: string) => {
    const r = await runChild(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        main,
        'run',
        'acme/networking',
        '--phase',
        phase,
        ...(runId ? ['--run', runId] : []),
        '--',
        'sh',
        '-c',
        PROBE,
      ],
      {
        cwd: work,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          TMPDIR: work,
          NO_COLOR: '1',
          GATEPASS_URL: fx.url,
          GATEPASS_AGENT_TOKEN: agentToken,
          GATEPASS_CA_FILE: caFile,
        },
      },
    );
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out);
    assert.ok(!out.includes(agentToken), 'the agent token never reaches the output');
    const step = (name: string) =>
      new RegExp(`^${name} (.*)$`, 'm').exec(r.stdout)?.[1] ?? `missing:\n${out}`;
    return { out, step, runId: /run (run-\w+) \w+ phase started/.exec(out)?.[1] ?? '' };
  };
  const scpDeny = /^refused: .*\(AccessDenied\).*with an explicit deny in a service control policy/;
  const plan = await run('plan');
  assert.equal(plan.step('network-read'), 'ok');
  assert.match(
    plan.step('network-write'),
    /^refused: .*\(AccessDenied\).*because no identity-based policy allows the iam:CreateUser action/,
  );
  assert.match(plan.step('hub-write'), scpDeny);
  assert.match(plan.runId, /^run-/);

  const apply = await run('apply', plan.runId);
  assert.equal(apply.step('network-read'), 'ok');
  assert.equal(apply.step('network-write'), 'ok');
  assert.match(apply.step('hub-write'), scpDeny);
  assert.match(apply.out, new RegExp(`run ${plan.runId} apply succeeded`));

  const users = (await fx.app.store.list('user'))
    .map((u) => u.arn)
    .filter((a) => /:user\/(from|hub)-/.test(a));
  assert.deepEqual(users, [`arn:aws:iam::${accounts.network}:user/from-apply`]);
}
