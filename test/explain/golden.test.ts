// Golden outputs of `gatepass simulate -f` (offline, no server) and `gatepass lint` on the trust
// cases of spec-notes §8.4 and on chains denied by an SCP and by the caller's identity policy.
// GATEPASS_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, golden, normalise } from './helpers.js';

const dir = new URL('../vectors/explain/', import.meta.url).pathname;
const setup = join(dir, 'setup.yaml');

interface Case {
  name: string;
  args: string[];
  exit: number;
}

const { cases } = JSON.parse(await readFile(join(dir, 'simulate/cases.json'), 'utf8')) as { cases: Case[] };

for (const c of cases) {
  test(`simulate golden ${c.name}: exit ${c.exit}, output as recorded`, async () => {
    const r = await cli(['simulate', '-f', setup, ...c.args]);
    assert.equal(r.code, c.exit, r.stderr);
    await golden(join(dir, 'simulate', `${c.name}.txt`), normalise(r.stdout));
  });
}

test('simulate --output json carries every step with its decisions and hints', async () => {
  const r = await cli([
    'simulate',
    '-f',
    setup,
    '--as',
    'acme/net:plan',
    '--role',
    'arn:aws:iam::111111111111:role/net-apply',
    '--output',
    'json',
  ]);
  assert.equal(r.code, 1);
  const result = JSON.parse(r.stdout) as {
    allowed: boolean;
    steps: { allowed: boolean; error?: { code: string }; decisions: { layer: string }[]; hints: string[] }[];
  };
  assert.equal(result.allowed, false);
  const [step] = result.steps;
  assert.equal(step?.error?.code, 'AccessDenied');
  assert.equal(step?.decisions[0]?.layer, 'resource');
  assert.match(step?.hints[0] ?? '', /use the plan role \(arn:aws:iam::111111111111:role\/net-plan\)/);
});

test('simulate --web-identity-token-file reads a token file offline, says the signature is not checked, never prints it', async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gatepass-explain-'));
  try {
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const token = `${part({ alg: 'RS256', kid: 'k' })}.${part({
      iss: 'https://app.terraform.io',
      aud: 'aws.workload.identity',
      sub: 'organization:acme:project:Default Project:workspace:net:run_phase:plan',
      iat: now,
      exp: now + 600,
    })}.c2lnbmF0dXJl`;
    const file = join(scratch, 'token');
    await writeFile(file, token);
    const r = await cli([
      'simulate',
      '-f',
      setup,
      '--web-identity-token-file',
      file,
      '--role',
      'arn:aws:iam::111111111111:role/net-plan',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /signature is not checked/);
    assert.match(r.stdout, /result: every step is allowed/);
    assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token));
    // The old spelling, --token FILE, still works and says what it is called now.
    const old = await cli([
      'simulate',
      '-f',
      setup,
      '--token',
      file,
      '--role',
      'arn:aws:iam::111111111111:role/net-plan',
    ]);
    assert.equal(old.code, 0, old.stderr);
    assert.match(old.stderr, /--token FILE is now --web-identity-token-file FILE/);
    assert.equal(old.stdout, r.stdout);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

test('simulate refuses a bad invocation with a usage error naming the flag', async () => {
  const both = await cli(['simulate', '-f', setup, '--role', 'arn:aws:iam::111111111111:role/x']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--web-identity-token-file FILE or --as/);
  const as = await cli([
    'simulate',
    '-f',
    setup,
    '--as',
    'acme/net',
    '--role',
    'arn:aws:iam::111111111111:role/x',
  ]);
  assert.equal(as.code, 2);
  assert.match(as.stderr, /--as: expected ORG\/WORKSPACE:plan/);
});

test('lint golden on the setup file: positions in YAML and in JSON text, exit 1 on errors', async () => {
  const r = await cli(['lint', setup]);
  assert.equal(r.code, 1);
  await golden(join(dir, 'lint', 'setup.txt'), r.stdout.replaceAll(dir, '<vectors>/'));
});

test('lint golden on a policy document; --fail-on decides the exit code', async () => {
  const file = join(dir, 'lint', 'policy.json');
  const r = await cli(['lint', file]);
  assert.equal(r.code, 1);
  await golden(join(dir, 'lint', 'policy.txt'), r.stdout.replaceAll(dir, '<vectors>/'));
  const json = await cli(['lint', file, '--json']);
  const findings = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { rule: string; line: number });
  assert.ok(findings.some((f) => f.rule === 'no-sub-condition' && f.line === 4));
});

test('lint golden on permission and resource policies: the traps of any policy, placed on their lines', async () => {
  const traps = await cli(['lint', join(dir, 'lint', 'traps.json')]);
  assert.equal(traps.code, 1);
  const bucket = await cli(['lint', join(dir, 'lint', 'bucket-policy.json')]);
  assert.equal(bucket.code, 0, bucket.stdout);
  await golden(join(dir, 'lint', 'traps.txt'), (traps.stdout + bucket.stdout).replaceAll(dir, '<vectors>/'));
});

test('lint reads every document of a setup file: inline, managed and organization policies too', async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gatepass-lint-'));
  try {
    const file = join(scratch, 'setup.yaml');
    await writeFile(
      file,
      [
        'accounts:',
        '  - name: hub',
        '    id: "111111111111"',
        '    policies:',
        '      - name: reports',
        '        document:',
        '          Version: "2012-10-17"',
        '          Statement:',
        '            - Effect: Allow',
        '              Action: "s3:GetObject, s3:PutObject"',
        '              Resource: "*"',
        '    roles:',
        '      - name: ci',
        '        trustPolicy: |',
        '          {"Version": "2012-10-17", "Statement": [',
        '            {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "sts:AssumeRole,sts:TagSession"}]}',
        '        inlinePolicies:',
        '          list:',
        '            Version: "2012-10-17"',
        '            Statement:',
        '              - Effect: Allow',
        '                Action: iam:ListUsers',
        '                Resource: arn:aws:iam::111111111111:user/*',
      ].join('\n'),
    );
    const r = await cli(['lint', file]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.replaceAll(scratch, '').trim().split('\n');
    assert.deepEqual(
      lines.slice(0, -1).map((l) => l.replace(/: .*\(/, ' (')),
      [
        '/setup.yaml:10 (hub/policy/reports, statement #0)',
        '/setup.yaml:16 (hub/role/ci, statement #0)',
        '/setup.yaml:22 (hub/role/ci inline list, statement #0)',
      ],
    );
    assert.match(lines[0] ?? '', /error action-with-comma: "s3:GetObject, s3:PutObject"/);
    assert.match(lines[1] ?? '', /"sts:AssumeRole", "sts:TagSession"/);
    assert.match(lines[2] ?? '', /warning wildcard-only-action-on-arn: iam:ListUsers/);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

test('lint passes a pinned trust policy and fails warnings only with --fail-on warning', async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gatepass-lint-'));
  try {
    const file = join(scratch, 'trust.json');
    const statement = (sub: string) => ({
      Effect: 'Allow',
      Principal: { Federated: 'arn:aws:iam::111111111111:oidc-provider/app.terraform.io' },
      Action: ['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity'],
      Condition: { StringLike: { 'app.terraform.io:sub': sub } },
    });
    await writeFile(
      file,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [statement('organization:acme:project:*:workspace:net:run_phase:plan')],
      }),
    );
    const ok = await cli(['lint', file]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /0 errors, 1 warnings/);
    assert.equal((await cli(['lint', file, '--fail-on', 'warning'])).code, 1);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

test("lint warns of a run's role in the organization's management account, which SCPs (and the deny list) never reach", async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gatepass-lint-'));
  try {
    const file = join(scratch, 'setup.json');
    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::\${account:hub}:oidc-provider/app.terraform.io` },
          Action: ['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity'],
          Condition: {
            StringEquals: {
              'app.terraform.io:aud': 'aws.workload.identity',
              'app.terraform.io:sub': 'organization:acme:project:Infra:workspace:net:run_phase:plan',
            },
          },
        },
      ],
    };
    const setup = (management: string) =>
      JSON.stringify({
        accounts: [
          {
            name: 'hub',
            oidcProviders: [{ url: 'https://app.terraform.io' }],
            roles: [{ name: 'plan', trustPolicy: trust }],
          },
          { name: 'root-account' },
        ],
        organization: { management },
      });
    await writeFile(file, setup('hub'));
    const warned = await cli(['lint', file]);
    assert.match(
      warned.stdout,
      /warning hub-in-management-account: .*move the hub roles to a member account/,
    );
    // The same organization in a store (as the API or apply builds it): lint --account says it too.
    const dataDir = join(scratch, 'data');
    const applied = await cli(['apply', '-f', file, '--data-dir', dataDir, '--json']);
    assert.equal(applied.code, 0, applied.stderr);
    const hubId = /"name":\s*"hub",\s*"id":\s*"(\d{12})"|"id":\s*"(\d{12})",\s*"name":\s*"hub"/.exec(
      applied.stdout,
    );
    const id = hubId?.[1] ?? hubId?.[2] ?? '';
    assert.match(id, /^\d{12}$/, applied.stdout);
    assert.match(
      (await cli(['lint', '--account', id, '--data-dir', dataDir])).stdout,
      /warning hub-in-management-account: .*move the hub roles to a member account/,
    );
    await writeFile(file, setup('root-account'));
    assert.doesNotMatch((await cli(['lint', file])).stdout, /hub-in-management-account/);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

test("lint refuses a gatepass issuer's web-identity trust without sts:SetSourceIdentity and names the fix; HCP Terraform's (no source identity claim) is not flagged", async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gatepass-lint-'));
  try {
    const file = join(scratch, 'trust.json');
    const trust = (action: string | string[], host = 'gatepass.example.com') =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::111111111111:oidc-provider/${host}` },
            Action: action,
            Condition: {
              StringEquals: {
                [`${host}:aud`]: 'aws.workload.identity',
                [`${host}:sub`]: 'organization:acme:project:Infra:workspace:net:run_phase:plan',
              },
            },
          },
        ],
      });
    await writeFile(file, trust('sts:AssumeRoleWithWebIdentity'));
    const refused = await cli(['lint', file]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout,
      /trust.json:1: error web-identity-without-set-source-identity: .*add "sts:SetSourceIdentity" to this Action/,
    );
    // In another statement of the same trust it counts too; so does sts:*.
    await writeFile(file, trust(['sts:AssumeRoleWithWebIdentity', 'sts:*']));
    assert.equal((await cli(['lint', file])).code, 0);
    await writeFile(file, trust('sts:AssumeRoleWithWebIdentity', 'app.terraform.io'));
    assert.doesNotMatch((await cli(['lint', file])).stdout, /web-identity-without-set-source-identity/);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});

test('lint places findings of a policy whose Statement is one object (no array) on its lines', async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'gatepass-lint-'));
  try {
    const file = join(scratch, 'single.json');
    await writeFile(
      file,
      [
        '{',
        '  "Version": "2012-10-17",',
        '  "Statement": {',
        '    "Effect": "Allow",',
        '    "Principal": { "Federated": "arn:aws:iam::111111111111:oidc-provider/app.terraform.io" },',
        '    "Action": "sts:AssumeRoleWithWebIdentity",',
        '    "Condition": { "StringLike": { "app.terraform.io:sub": "organization:*" } }',
        '  }',
        '}',
      ].join('\n'),
    );
    const r = await cli(['lint', file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /single\.json:7: error sub-any-organization: /);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
