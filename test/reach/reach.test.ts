// `gatepass reach` on the flagship example: the full workspace × phase × role table, written by
// hand, must match what the real STS code decides; a mutated setup (a prefix trust without its
// colon, member roles trusting the whole hub account, an orphan role) gives the right findings.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/cli/program.js';
import type { ReachResult } from '../../src/cloud/reach/types.js';

const ENV = {
  GATEPASS_ISSUER_URL: 'https://issuer.example.com',
  GATEPASS_ISSUER_HOST: 'issuer.example.com',
  GATEPASS_ISSUER_THUMBPRINT: 'a'.repeat(40),
};
const EXAMPLE = 'examples/hub-and-spoke/setup.yaml';

async function reach(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const saved = Object.keys(ENV).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, ENV);
  try {
    const code = await runCli(['node', 'gatepass', 'reach', ...args], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { NO_COLOR: '1' },
    });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

async function reachJson(args: string[]): Promise<{ code: number; result: ReachResult }> {
  const r = await reach([...args, '--json']);
  assert.ok(r.stdout.startsWith('{'), r.stderr);
  return { code: r.code, result: JSON.parse(r.stdout) as ReachResult };
}

/** `account-name:role-path+name` for a role ARN, so the expected table needs no account ids. */
function names(result: ReachResult): (arn: string) => string {
  const byId = new Map(result.roles.map((r) => [r.account, r.accountName ?? r.account]));
  return (arn) => {
    const m = /^arn:aws:iam::(\d{12}):role(\/.*)$/.exec(arn);
    assert.ok(m?.[1] && m[2], arn);
    return `${byId.get(m[1])}:${m[2].slice(1)}`;
  };
}

const ROLES = [
  'hub:runs/tfc-plan',
  'hub:runs/tfc-apply',
  'dev:terraform-plan',
  'dev:terraform-apply',
  'prod:terraform-plan',
  'prod:terraform-apply',
];

/** Every subject × role of a result: '-' (not reached), else `depth via allowing-sids`. */
function table(result: ReachResult, subjects: readonly string[]): Record<string, Record<string, string>> {
  const name = names(result);
  const out: Record<string, Record<string, string>> = {};
  for (const label of subjects) {
    const s = result.subjects.find((x) => x.subject === label);
    assert.ok(s, `subject ${label} analysed`);
    const row: Record<string, string> = {};
    for (const role of ROLES) {
      const edge = s.edges.find((e) => name(e.to) === role);
      row[role] = edge
        ? `${edge.depth} ${edge.depth === 1 ? 'web' : name(edge.from)} ${edge.allowedBy.map((a) => a.sid).join('+')} ${edge.maxSessionSeconds}`
        : '-';
    }
    out[label] = row;
  }
  return out;
}

test('reach on the flagship example matches the hand-written workspace × phase × role table, with no findings', async () => {
  const { code, result } = await reachJson(['-f', EXAMPLE]);
  assert.equal(code, 0);
  // The workspace comes from the trust policies' sub conditions; both phases are tried.
  assert.deepEqual(table(result, ['acme/Infra/networking:plan', 'acme/Infra/networking:apply']), {
    'acme/Infra/networking:plan': {
      'hub:runs/tfc-plan': '1 web RunPhasePlan 7200',
      'hub:runs/tfc-apply': '-',
      'dev:terraform-plan': '2 hub:runs/tfc-plan HubPlanOnly+ChainIntoMembers 3600',
      'dev:terraform-apply': '-',
      'prod:terraform-plan': '2 hub:runs/tfc-plan HubPlanOnly+ChainIntoMembers 3600',
      'prod:terraform-apply': '-',
    },
    'acme/Infra/networking:apply': {
      'hub:runs/tfc-plan': '-',
      'hub:runs/tfc-apply': '1 web RunPhaseApply 7200',
      'dev:terraform-plan': '-',
      'dev:terraform-apply': '2 hub:runs/tfc-apply HubApplyOnly+ChainIntoMembers 3600',
      'prod:terraform-plan': '-',
      'prod:terraform-apply': '2 hub:runs/tfc-apply HubApplyOnly+ChainIntoMembers 3600',
    },
  });
  assert.deepEqual(result.findings, []);
  // Every edge carries the decisions it took, so it can be explained like a request.
  const edge = result.subjects[0]?.edges[0];
  assert.equal(edge?.decisions[0]?.effect, 'Allow');
  assert.equal(edge?.decisions[0]?.action, 'sts:AssumeRoleWithWebIdentity');
  // What the reached roles may do, as the authorizer decides it for their sessions.
  const name = names(result);
  const may = (role: string) =>
    result.roles
      .find((r) => name(r.arn) === role)
      ?.actions.filter((a) => a.allowed)
      .map((a) => a.action);
  assert.deepEqual(may('hub:runs/tfc-plan'), ['sts:AssumeRole']);
  assert.ok(may('dev:terraform-apply')?.includes('iam:*'));
  assert.ok(!may('dev:terraform-plan')?.includes('iam:*'));
  assert.deepEqual(result.roles.find((r) => name(r.arn) === 'hub:runs/tfc-plan')?.scps, [
    'FullAWSAccess',
    'hub-chaining-only',
  ]);
});

test('the hub SCP shows as a limit: a hub role given administrator rights may still only chain', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatepass-reach-'));
  try {
    const text = (await readFile(EXAMPLE, 'utf8')).replace(
      'attachedPolicies: [chain-plan]',
      'attachedPolicies: [chain-plan, aws:AdministratorAccess]',
    );
    const file = join(dir, 'setup.yaml');
    await writeFile(file, text);
    const { result } = await reachJson(['-f', file]);
    const name = names(result);
    const plan = result.roles.find((r) => name(r.arn) === 'hub:runs/tfc-plan');
    const star = plan?.actions.find((a) => a.action === '*');
    assert.equal(star?.allowed, false);
    assert.equal(star?.deniedBy, 'scp');
    assert.match(star?.deniedByPolicy ?? '', /hub-chaining-only/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The example with the apply trust on `organization:acme*`, member plan roles trusting the whole hub account, and an orphan role. */
// The setup file's own ${env:…} and ${account:…} references, written as they appear in it.
const REF = (kind: string, name: string): string => ['$', '{', kind, ':', name, '}'].join('');
const HOST = REF('env', 'GATEPASS_ISSUER_HOST');
const HUB = REF('account', 'hub');

async function mutated(dir: string): Promise<string> {
  let text = await readFile(EXAMPLE, 'utf8');
  const applySub = `"${HOST}:sub": "organization:acme:project:Infra:workspace:networking:run_phase:apply"`;
  assert.ok(text.includes(applySub));
  text = text.replace(
    `                StringEquals:
                  "${HOST}:aud": aws.workload.identity
                  ${applySub}`,
    `                StringEquals:
                  "${HOST}:aud": aws.workload.identity
                StringLike:
                  "${HOST}:sub": "organization:acme*"`,
  );
  assert.ok(text.includes('organization:acme*'), 'the apply trust was rewritten');
  const hubPlan = `Principal: { AWS: "arn:aws:iam::${HUB}:role/runs/tfc-plan" }`;
  assert.ok(text.includes(hubPlan));
  text = text.replace(hubPlan, `Principal: { AWS: "arn:aws:iam::${HUB}:root" }`);
  text = text.replace(
    '  - <<: *member\n    name: prod',
    `  - <<: *member
    name: prod
  - name: sandbox
    roles:
      - name: orphan
        trustPolicy:
          Version: "2012-10-17"
          Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: { Service: ec2.amazonaws.com } }]
      - name: terraform-apply
        description: Pins the web identity subject the chained session carries
        trustPolicy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: sts:AssumeRole
              Principal: { AWS: "arn:aws:iam::${HUB}:role/runs/tfc-apply" }
              Condition: { StringEquals: { "${HOST}:sub": "organization:acme:project:Infra:workspace:networking:run_phase:apply" } }`,
  );
  // The guard rail would refuse the prefix trust: the account opts out, as a careless one might.
  text = text.replace('  - name: hub\n', '  - name: hub\n    oidcGuardRail: false\n');
  assert.ok(text.includes('oidcGuardRail: false'));
  const file = join(dir, 'setup.yaml');
  await writeFile(file, text);
  return file;
}

test('a mutated example: prefix trust, whole-account trusts and an orphan role give the right findings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatepass-reach-'));
  try {
    const file = await mutated(dir);
    // A second workspace of the organization, named on the command line.
    const { code, result } = await reachJson(['-f', file, '--as', 'acme/Infra/dns']);
    assert.equal(code, 1, 'critical findings fail the default --fail-on high');
    const name = names(result);
    const found = result.findings.map((f) => `${f.severity} ${f.rule} ${name(f.role)}`).sort();
    assert.deepEqual(found, [
      'critical trust-admits-other-organization hub:runs/tfc-apply',
      'high cross-workspace dev:terraform-apply',
      'high cross-workspace hub:runs/tfc-apply',
      'high cross-workspace prod:terraform-apply',
      'high plan-reaches-apply-role dev:terraform-apply',
      'high plan-reaches-apply-role hub:runs/tfc-apply',
      'high plan-reaches-apply-role prod:terraform-apply',
      'high trust-admits-any-workspace hub:runs/tfc-apply',
      'high trust-admits-whole-account dev:terraform-plan',
      'high trust-admits-whole-account prod:terraform-plan',
      'info unreachable-role sandbox:orphan',
      'medium trust-admits-any-phase hub:runs/tfc-apply',
    ]);
    const other = result.findings.find((f) => f.rule === 'trust-admits-other-organization');
    assert.match(other?.message ?? '', /StringLike .*:sub = organization:acme\*/);
    // Every workspace and phase now reaches the apply roles; the plan chain is unchanged.
    const table = (label: string) =>
      result.subjects
        .find((s) => s.subject === label)
        ?.roles.map(name)
        .sort();
    assert.deepEqual(table('acme/Infra/dns:plan'), [
      'dev:terraform-apply',
      'hub:runs/tfc-apply',
      'prod:terraform-apply',
    ]);
    // Sessions of the same hub role differ only by the subject they carry; a trust that reads it
    // tells them apart (the chained hop is not reused from another subject).
    assert.ok(table('acme/Infra/networking:apply')?.includes('sandbox:terraform-apply'));
    assert.ok(!table('acme/Infra/dns:apply')?.includes('sandbox:terraform-apply'));
    assert.ok(!table('acme/Infra/networking:plan')?.includes('sandbox:terraform-apply'));
    assert.deepEqual(table('acme/Infra/networking:plan'), [
      'dev:terraform-apply',
      'dev:terraform-plan',
      'hub:runs/tfc-apply',
      'hub:runs/tfc-plan',
      'prod:terraform-apply',
      'prod:terraform-plan',
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reach --subject tries a foreign subject; --fail-on sets the exit; the table names findings worst first', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatepass-reach-'));
  try {
    const file = await mutated(dir);
    const evil = 'organization:acme-evil:project:x:workspace:y:run_phase:plan';
    const { result } = await reachJson([
      '-f',
      file,
      '--no-derive',
      '--subject',
      evil,
      '--subject',
      'repo:acme/infra:ref:main',
    ]);
    const name = names(result);
    assert.deepEqual(
      result.subjects
        .find((s) => s.sub === evil)
        ?.roles.map(name)
        .sort(),
      ['dev:terraform-apply', 'hub:runs/tfc-apply', 'prod:terraform-apply'],
    );
    assert.deepEqual(result.subjects.find((s) => s.sub === 'repo:acme/infra:ref:main')?.roles, []);
    assert.equal((await reach(['-f', file, '--fail-on', 'never'])).code, 0);
    const text = await reach(['-f', file, '--fail-on', 'critical']);
    assert.equal(text.code, 1);
    const lines = text.stdout.split('\n');
    const first = lines.findIndex((l) => /^SEVERITY +RULE +ROLE +FINDING$/.test(l)) + 1;
    assert.ok(first > 0, text.stdout);
    assert.match(lines[first] ?? '', /^CRITICAL +trust-admits-other-organization /);
    assert.match(lines.at(-2) ?? '', /^INFO +unreachable-role +\S+role\/orphan /);
    assert.equal(
      (await reach(['-f', EXAMPLE, '--fail-on', 'info'])).code,
      0,
      'the example has no finding at all',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reach refuses bad input with a clear error and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['-f', EXAMPLE, '--depth', '0'], /--depth: from 1 to 10/],
    [['-f', EXAMPLE, '--fail-on', 'severe'], /--fail-on: one of info, low, medium, high, critical or never/],
    [['-f', EXAMPLE, '--as', 'acme/*'], /--as acme\/\*: expected ORG\/WORKSPACE or ORG\/PROJECT\/WORKSPACE/],
    [['-f', EXAMPLE, '--subject', 'abc'], /--subject abc: a token subject has 6 to 255 characters/],
    [
      ['-f', EXAMPLE, '--issuer', 'https://app.terraform.io'],
      /--issuer https:\/\/app.terraform.io: no OIDC provider of the setup has this URL/,
    ],
    [['-f', 'no/such/setup.yaml'], /cannot read setup file no\/such\/setup.yaml/],
    [['-f', EXAMPLE, '--no-derive'], /no subject to try: name workspaces with --as/],
    [['-f', EXAMPLE, '--output', 'xml'], /--output: text or json/],
  ];
  for (const [args, message] of cases) {
    const r = await reach(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});
