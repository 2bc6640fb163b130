// Terraform with the AWS provider (from the machine's filesystem mirror) against a running gatepass
// node: the hub-and-spoke example applies, a second plan shows no changes, destroy leaves nothing.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bootstrapAccounts } from '../../src/cloud/offline/bootstrap.js';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';
import { cloudVars, type Terraform, terraformIn } from '../helpers/terraform.js';

let fx: CloudFixture;
let work: string;
let terraform: Terraform;

const vars = () => cloudVars(fx);

before(async () => {
  fx = await startCloud();
  work = mkdtempSync(join(tmpdir(), 'gatepass-tf-'));
  cpSync('examples/hub-and-spoke/terraform', join(work, 'tf'), { recursive: true });
  terraform = terraformIn(join(work, 'tf'), work, join(fx.dataDir, CREDENTIALS_FILE));
  const text = readFileSync('examples/hub-and-spoke/accounts.yaml', 'utf8').replace(
    '  - name: hub\n',
    `  - name: hub\n    id: "${fx.accountId}"\n`,
  );
  await applySetup(
    fx.app.store,
    parseSetup(text, 'accounts.yaml'),
    { random: cryptoRandom, clock: systemClock },
    { file: 'accounts.yaml' },
  );
  await bootstrapAccounts(fx.app.store, fx.cloud.iamDeps, {
    credentialsFile: join(fx.dataDir, CREDENTIALS_FILE),
  });
  await fx.cloud.sync();
});

after(async () => {
  await fx?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('terraform init, apply, plan with no changes, destroy: the hub-and-spoke example leaves nothing behind', async () => {
  const init = await terraform(['init', '-input=false', '-no-color']);
  assert.equal(init.status, 0, init.out);

  const apply = await terraform(['apply', '-auto-approve', ...vars()]);
  assert.equal(apply.status, 0, apply.out);
  const roles = (await fx.app.store.list('role')).map((r) => r.arn).sort();
  assert.equal(roles.length, 6, roles.join('\n'));
  assert.ok(roles.some((r) => r.endsWith(':role/runs/tfc-plan')));
  assert.equal((await fx.app.store.list('oidcProvider')).length, 1);

  // -detailed-exitcode: 0 = no changes, 2 = changes (drift), 1 = error.
  const plan = await terraform(['plan', '-detailed-exitcode', ...vars()]);
  assert.equal(plan.status, 0, plan.out);

  const destroy = await terraform(['destroy', '-auto-approve', ...vars()]);
  assert.equal(destroy.status, 0, destroy.out);
  assert.deepEqual(await fx.app.store.list('role'), []);
  assert.deepEqual(await fx.app.store.list('oidcProvider'), []);
  const customer = (await fx.app.store.list('managedPolicy')).filter((p) => p.accountId !== 'aws');
  assert.deepEqual(customer, []);
});
