// `gatepass simulate -f` on the flagship example as it is: its accounts have no pinned ids, so ARNs
// name them as ${account:NAME}, resolved in the offline store; bad references say what exists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../../src/cli/program.js';

const ENV_KEYS = ['GATEPASS_ISSUER_URL', 'GATEPASS_ISSUER_HOST', 'GATEPASS_ISSUER_THUMBPRINT'] as const;

async function simulate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'gatepass', 'simulate', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { NO_COLOR: '1' },
  });
  return { code, stdout, stderr };
}

async function withIssuerEnv(fn: () => Promise<void>): Promise<void> {
  const saved = ENV_KEYS.map((k) => process.env[k]);
  process.env.GATEPASS_ISSUER_URL = 'https://issuer.example.com';
  process.env.GATEPASS_ISSUER_HOST = 'issuer.example.com';
  process.env.GATEPASS_ISSUER_THUMBPRINT = 'a'.repeat(40);
  try {
    await fn();
  } finally {
    ENV_KEYS.forEach((k, i) => {
      const v = saved[i];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    });
  }
}

const FILE = [
  '-f',
  'examples/hub-and-spoke/setup.yaml',
  '--as',
  'acme/networking:plan',
  '--project',
  'Infra',
];
// biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file account reference syntax.
const HUB_PLAN = 'arn:aws:iam::${account:hub}:role/runs/tfc-plan';
// biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file account reference syntax.
const DEV_PLAN = 'arn:aws:iam::${account:dev}:role/terraform-plan';

test('simulate -f walks the flagship example with account references in its ARNs: plan chains into dev, cannot write there', async () => {
  await withIssuerEnv(async () => {
    const r = await simulate([
      ...FILE,
      '--role',
      HUB_PLAN,
      '--chain',
      DEV_PLAN,
      '--action',
      'iam:CreatePolicy',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const hub = /AssumeRoleWithWebIdentity into arn:aws:iam::(\d{12}):role\/runs\/tfc-plan: ALLOWED/.exec(
      r.stdout,
    );
    const dev = /AssumeRole into arn:aws:iam::(\d{12}):role\/terraform-plan: ALLOWED/.exec(r.stdout);
    assert.ok(hub && dev, r.stdout);
    assert.notEqual(hub[1], dev[1], 'hub and dev are different accounts');
    assert.match(r.stdout, /iam:CreatePolicy on \S+: DENIED/);
    assert.doesNotMatch(r.stdout, /\$\{account/);
  });
});

test('simulate refuses an unknown account reference, a role ARN without an account id, and references online', async () => {
  await withIssuerEnv(async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file account reference syntax.
    const unknown = await simulate([...FILE, '--role', 'arn:aws:iam::${account:nope}:role/x']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /--role: no account named nope in the setup file \(accounts: management, hub, dev, prod\)/,
    );

    const bad = await simulate([...FILE, '--role', 'arn:aws:iam::hub:role/runs/tfc-plan']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--role: expected arn:aws:iam::<12-digit account>:role\/<name>/);

    const online = await simulate([
      '--as',
      'acme/networking:plan',
      '--role',
      HUB_PLAN,
      '--server',
      'http://127.0.0.1:9',
    ]);
    assert.equal(online.code, 2);
    assert.match(online.stderr, /is resolved only offline \(-f setup\.yaml\)/);
  });
});

test('a setup file with the same problem many times (a YAML anchor) reports it once', async () => {
  const saved = ENV_KEYS.map((k) => process.env[k]);
  for (const k of ENV_KEYS) delete process.env[k];
  try {
    const r = await simulate([...FILE, '--role', HUB_PLAN]);
    assert.equal(r.code, 2);
    const lines = r.stderr.split('\n').filter((l) => l.includes('GATEPASS_ISSUER_HOST is not set'));
    assert.equal(lines.length, 1, r.stderr);
  } finally {
    ENV_KEYS.forEach((k, i) => {
      const v = saved[i];
      if (v !== undefined) process.env[k] = v;
    });
  }
});

test('simulate --as takes ORG/PROJECT/WORKSPACE:PHASE as reach --as names workspaces: the project goes into the token', async () => {
  await withIssuerEnv(async () => {
    const base = ['-f', 'examples/hub-and-spoke/setup.yaml', '--role', HUB_PLAN];
    const named = await simulate([...base, '--as', 'acme/Infra/networking:plan']);
    assert.equal(named.code, 0, named.stdout + named.stderr);
    // The hub's trust pins project Infra: the default project is another workspace's token.
    const other = await simulate([...base, '--as', 'acme/Other/networking:plan']);
    assert.equal(other.code, 1);
    assert.match(other.stdout, /AssumeRoleWithWebIdentity into \S+: DENIED/);
    const bad = await simulate([...base, '--as', 'acme/a/b/c:plan']);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--as: expected ORG\/WORKSPACE:plan or ORG\/WORKSPACE:apply \(ORG\/PROJECT\/WORKSPACE:… names the project\)/,
    );
  });
});
