// `gatepass demo` through the real CLI in a temp directory: the whole flow (node on SQLite with
// HTTPS, hub-and-spoke setup, workspace, plan and apply through the agent, with Terraform when this
// machine has it and its AWS provider), the narrated outcomes, and what the store holds afterwards.
// Then a rerun on the same directory (the JS SDK variant), and the failures a user can hit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../bench/lib/anchors.js';
import { chooseTerraform } from '../../src/cli/demo/terraform.js';
import { openStore } from '../../src/store/open.js';

const root = new URL('../..', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');
const MIRROR = '/opt/tf-plugins';

/** Terraform flags for this machine: its mirror when Terraform can use it, else the JS SDK. */
const terraformFlags = (): string[] =>
  'use' in chooseTerraform(process.env, { mirror: MIRROR })
    ? ['--terraform-mirror', MIRROR]
    : ['--no-terraform'];

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'gatepass-demo-test-'));
});
after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function demo(args: string[]): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('GATEPASS_')) delete env[key];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), main, 'demo', ...args],
      { cwd: scratch, env, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const secretsOf = (dir: string): string[] => {
  const secrets = [readFileSync(join(dir, 'admin-token'), 'utf8').trim()];
  secrets.push(readFileSync(join(dir, 'demo', 'agent-token'), 'utf8').trim());
  for (const m of readFileSync(join(dir, 'aws-credentials'), 'utf8').matchAll(
    /aws_secret_access_key = (\S+)/g,
  ))
    secrets.push(m[1] ?? '');
  return secrets.filter((s) => s !== '');
};

let dataDir: string;
let port: number;
const withTerraform = terraformFlags()[0] === '--terraform-mirror';

/** What the store of a data directory holds once the demo is over, read directly. */
async function storeFacts(dir: string) {
  const store = await openStore({ dataDir: dir });
  try {
    const dev = (await store.list('account')).find((a) => a.name === 'dev');
    const policies = (await store.list('managedPolicy')).filter((p) => p.accountId === dev?.id);
    const runs = await store.list('run');
    const revoked = await store.list('revocation');
    return {
      devPolicies: policies.map((p) => p.arn),
      expectedPolicy: `arn:aws:iam::${dev?.id}:policy/networking/network-readers`,
      runs: runs.map((r) => r.status),
      allRunsRevoked: runs.every((r) => revoked.some((x) => x.scope === 'run' && x.runId === r.id)),
      agentTokens: (await store.list('agentToken')).length,
    };
  } finally {
    await store.close();
  }
}

test('gatepass demo on a fresh directory: claims, an identity per account, a write denied in plan and allowed in apply, the run rejected afterwards', async () => {
  dataDir = join(scratch, 'state');
  port = await freePort();
  const r = await demo(['--data-dir', dataDir, '--port', String(port), '--no-terraform']);
  const all = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.code, 0, all);
  for (const n of [1, 2, 3, 4, 5, 6]) assert.match(r.stdout, new RegExp(`^\\[${n}/6\\] `, 'm'));
  assert.match(r.stdout, /sub\s+organization:acme:project:Infra:workspace:networking:run_phase:plan$/m);
  assert.match(r.stdout, /sub\s+organization:acme:project:Infra:workspace:networking:run_phase:apply$/m);
  assert.match(
    r.stdout,
    /the plan token, as the issuer recorded it \(the agent exchanged it; the command never held it\)/,
  );
  for (const [account, role] of [
    ['hub', 'tfc-plan'],
    ['dev', 'terraform-plan'],
    ['prod', 'terraform-plan'],
    ['hub', 'tfc-apply'],
    ['dev', 'terraform-apply'],
    ['prod', 'terraform-apply'],
  ]) {
    assert.match(r.stdout, new RegExp(`✓ ${account} +\\d{12}  arn:aws:sts::\\d{12}:assumed-role/${role}/`));
  }
  const denied =
    /✓ write denied in the plan phase: iam:CreatePolicy \S+ in dev → AccessDenied \(request ([0-9a-f-]{36})\)/.exec(
      r.stdout,
    );
  assert.ok(denied, 'the denied write is narrated with its request id');
  assert.ok(
    r.stdout.includes(`npx gatepass explain ${denied[1]}`),
    'the closing lines say how to explain it',
  );
  assert.match(
    r.stdout,
    /✓ write allowed in the apply phase: iam:CreatePolicy \S+ in dev → arn:aws:iam::\d{12}:policy\//,
  );
  assert.match(r.stdout, /✓ JS SDK plan: 1 to add/);
  assert.match(r.stdout, /✓ JS SDK apply: created arn:aws:iam::\d{12}:policy\/networking\/network-readers/);
  assert.match(r.stdout, /run run-\S+ revoked at the STS/);
  assert.match(r.stdout, /→ InvalidClientTokenId: the run was revoked/);
  assert.match(r.stdout, /What to try next:/);
  assert.ok(
    r.stdout.includes(`gatepass serve --data-dir state --tls-auto-host 127.0.0.1 --port ${port}`),
    'the closing lines say how to serve the same data directory',
  );
  for (const secret of secretsOf(dataDir)) assert.ok(!all.includes(secret), 'a secret reached the output');
  assert.equal(existsSync(join(dataDir, 'demo', 'run-session.json')), false, 'the kept session is deleted');

  const facts = await storeFacts(dataDir);
  assert.deepEqual(
    facts.devPolicies,
    [facts.expectedPolicy],
    'the example policy made, the probe policy deleted',
  );
  assert.deepEqual(facts.runs, ['succeeded']);
  assert.ok(facts.allRunsRevoked);
});

test('gatepass demo again on the same directory reuses everything; with Terraform (when here) it adopts the policy the JS SDK made', async () => {
  assert.ok(dataDir, 'runs after the first test');
  const r = await demo(['--data-dir', dataDir, '--port', String(port), ...terraformFlags()]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /✓ 0 of \d+ entities changed/);
  assert.match(r.stdout, /✓ everything was already there/);
  assert.match(r.stdout, /✓ write denied in the plan phase/);
  assert.match(r.stdout, /✓ write allowed in the apply phase/);
  assert.match(r.stdout, /→ InvalidClientTokenId: the run was revoked/);
  if (withTerraform) {
    assert.match(r.stdout, /✓ terraform import: Import successful!/);
    assert.match(r.stdout, /✓ terraform plan: No changes\./);
    assert.match(r.stdout, /✓ terraform apply: Apply complete! Resources: 0 added, 0 changed, 0 destroyed\./);
  } else {
    assert.match(r.stdout, /✓ JS SDK plan: no changes/);
  }
  const facts = await storeFacts(dataDir);
  assert.deepEqual(facts.devPolicies, [facts.expectedPolicy]);
  assert.deepEqual(facts.runs, ['succeeded', 'succeeded']);
  assert.ok(facts.allRunsRevoked);
  assert.equal(facts.agentTokens, 1, 'the saved agent token is reused');
});

test('gatepass demo with Terraform on a fresh directory: terraform plans one policy and applies it with the apply phase only', {
  skip: withTerraform ? false : 'terraform or its AWS provider mirror is not on this machine',
}, async () => {
  const dir = join(scratch, 'terraform');
  const r = await demo(['--data-dir', dir, '--port', String(await freePort()), ...terraformFlags()]);
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /✓ write denied in the plan phase/);
  assert.match(r.stdout, /✓ terraform plan: Plan: 1 to add, 0 to change, 0 to destroy\./);
  assert.match(r.stdout, /✓ write allowed in the apply phase/);
  assert.match(r.stdout, /✓ terraform apply: Apply complete! Resources: 1 added, 0 changed, 0 destroyed\./);
  assert.match(r.stdout, /→ InvalidClientTokenId: the run was revoked/);
  const facts = await storeFacts(dir);
  assert.deepEqual(facts.devPolicies, [facts.expectedPolicy]);
  assert.ok(facts.allRunsRevoked);
});

test('gatepass demo on a busy port fails with exit 1 and says what to do; a bad --port is a usage error', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const address = busy.address();
    const taken = address !== null && typeof address === 'object' ? address.port : 0;
    const r = await demo(['--data-dir', join(scratch, 'busy'), '--port', String(taken), '--no-terraform']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`error: port ${taken} on 127.0.0.1 is in use`));
    assert.match(r.stderr, /pass --port/);
  } finally {
    await new Promise((resolve) => busy.close(resolve));
  }
  const bad = await demo(['--data-dir', join(scratch, 'bad'), '--port', 'http']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--port: expected an integer from 1 to 65535/);
  assert.equal(existsSync(join(scratch, 'bad')), false, 'a usage error creates nothing');
});
