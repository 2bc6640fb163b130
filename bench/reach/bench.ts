// `gatepass reach -f` offline, in this process, on the flagship example and on a generated
// organization (accounts × roles × workspaces), against the anchor of one `gatepass simulate -f`
// walk (web identity, one chained AssumeRole) on the example, measured in the same run.
//   npx tsx bench/reach/bench.ts [accounts=50] [roles=500] [workspaces=200]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import type { ReachResult } from '../../src/cloud/reach/types.js';
import { removeTempDir } from '../../test/helpers/temp.js';
import { scratchDir } from '../lib/scratch.js';

const [accounts = 50, roles = 500, workspaces = 200] = process.argv.slice(2).map(Number);
const TEAMS = 25;
/** A setup-file account reference (`${account:NAME}`), built so no literal looks like a template. */
const ref = (name: string): string => ['$', '{account:', name, '}'].join('');
const ISSUER = 'https://issuer.example.com';
Object.assign(process.env, {
  GATEPASS_ISSUER_URL: ISSUER,
  GATEPASS_ISSUER_HOST: 'issuer.example.com',
  GATEPASS_ISSUER_THUMBPRINT: 'a'.repeat(40),
});

async function timed(args: string[]): Promise<{ ms: number; stdout: string; code: number }> {
  let stdout = '';
  const start = process.hrtime.bigint();
  const code = await runCli(['node', 'gatepass', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: () => undefined },
    env: { NO_COLOR: '1' },
  });
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, stdout, code };
}

/**
 * A hub with a plan and an apply role per team (trusting every workspace of the team's project,
 * StringLike), member accounts whose terraform-plan/-apply roles trust their team's hub roles, and
 * service roles nobody reaches, up to `roles` roles in all.
 */
function generated(): string {
  const members = accounts - 1;
  const hubRoles = TEAMS * 2;
  const perMember = Math.max(2, Math.floor((roles - hubRoles) / members));
  const out: string[] = [
    'accounts:',
    '  - name: hub',
    '    oidcGuardRail: false',
    `    oidcProviders: [{ url: "${ISSUER}", clientIds: [aws.workload.identity], thumbprints: ["${'a'.repeat(40)}"] }]`,
    '    roles:',
  ];
  for (let t = 0; t < TEAMS; t++)
    for (const phase of ['plan', 'apply'])
      out.push(
        `      - name: team-${t}-${phase}`,
        '        inlinePolicies:',
        `          chain: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::*:role/terraform-${phase}" }] }`,
        '        trustPolicy:',
        '          Version: "2012-10-17"',
        '          Statement:',
        `            - Effect: Allow`,
        `              Principal: { Federated: "arn:aws:iam::\${account:hub}:oidc-provider/issuer.example.com" }`,
        '              Action: sts:AssumeRoleWithWebIdentity',
        '              Condition:',
        '                StringEquals: { "issuer.example.com:aud": aws.workload.identity }',
        `                StringLike: { "issuer.example.com:sub": "organization:acme:project:team-${t}:workspace:*:run_phase:${phase}" }`,
      );
  let made = hubRoles;
  for (let m = 0; m < members; m++) {
    const team = m % TEAMS;
    out.push(`  - name: member-${m}`, '    roles:');
    const count = m === members - 1 ? Math.max(2, roles - made) : perMember;
    for (let r = 0; r < count; r++) {
      const phase = r === 0 ? 'plan' : r === 1 ? 'apply' : undefined;
      const principal = phase
        ? `{ AWS: "arn:aws:iam::\${account:hub}:role/team-${team}-${phase}" }`
        : '{ Service: ec2.amazonaws.com }';
      out.push(
        `      - name: ${phase ? `terraform-${phase}` : `service-${r}`}`,
        `        attachedPolicies: [${phase === 'apply' ? 'aws:IAMFullAccess' : 'aws:IAMReadOnlyAccess'}]`,
        `        trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: ${principal} }] }`,
      );
    }
    made += count;
  }
  return `${out.join('\n')}\n`;
}

const dir = scratchDir('gatepass-reach-bench-');
try {
  const file = join(dir, 'setup.yaml');
  writeFileSync(file, generated());
  const example = 'examples/hub-and-spoke/setup.yaml';
  process.stdout.write(`reach bench: Node ${process.version}\n`);
  // Warm-up: module loading and the first parse are not what is measured.
  await timed(['reach', '-f', example, '--json']);
  const anchor = await timed([
    'simulate',
    '-f',
    example,
    '--as',
    'acme/networking:plan',
    '--project',
    'Infra',
    '--role',
    `arn:aws:iam::${ref('hub')}:role/runs/tfc-plan`,
    '--chain',
    `arn:aws:iam::${ref('dev')}:role/terraform-plan`,
  ]);
  if (anchor.code !== 0) throw new Error('the anchor simulation must be allowed');
  const small = await timed(['reach', '-f', example, '--json']);
  const as = Array.from({ length: workspaces }, (_, i) => ['--as', `acme/team-${i % TEAMS}/ws-${i}`]).flat();
  const large = await timed(['reach', '-f', file, '--no-derive', ...as, '--json', '--fail-on', 'never']);
  const r = JSON.parse(large.stdout) as ReachResult;
  const edges = r.subjects.reduce((n, s) => n + s.edges.length, 0);
  process.stdout.write(
    [
      '',
      '| case | wall time | against the anchor |',
      '|---|---:|---:|',
      `| anchor: simulate -f on the example (web identity + 1 chain) | ${anchor.ms.toFixed(0)} ms | 1 |`,
      `| reach -f on the example (2 workspaces-phases, 6 roles) | ${small.ms.toFixed(0)} ms | ${(small.ms / anchor.ms).toFixed(1)}× |`,
      `| reach -f generated: ${accounts} accounts, ${r.roles.length} roles, ${workspaces} workspaces (${r.subjects.length} subjects with probes, ${edges} edges, ${r.findings.length} findings) | ${(large.ms / 1000).toFixed(1)} s | ${(large.ms / anchor.ms).toFixed(0)}× |`,
      '',
    ].join('\n'),
  );
} finally {
  removeTempDir(dir);
}
