import type { Command } from 'commander';
import { analyzeReach, DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT } from '../../cloud/reach/analyze.js';
import { reachTables } from '../../cloud/reach/render.js';
import { type MintClaims, subjectsFor, workspacesFromTrusts } from '../../cloud/reach/subjects.js';
import {
  type ReachResult,
  SEVERITIES,
  type Severity,
  severityRank,
  type WorkspaceRef,
} from '../../cloud/reach/types.js';
import { DEFAULT_AUDIENCE, phaseClaims } from '../../issuer/claims.js';
import { systemClock } from '../../runtime/clock.js';
import type { RunPhase } from '../../store/records/platform.js';
import {
  type ClientFlags,
  createClient,
  outputOf,
  parseIntFlag,
  withClientOptions,
} from '../lib/issuer-client.js';
import { EXIT, QuietExit, UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';
import { openSetupSandbox } from './setup-sandbox.js';

interface ReachFlags extends ClientFlags {
  file?: string;
  as: string[];
  subject: string[];
  derive: boolean;
  project: string;
  issuer: string[];
  audience?: string;
  depth?: string;
  failOn: string;
  output: string;
  json?: boolean;
}

/** `ORG/PROJECT/WORKSPACE`, or `ORG/WORKSPACE` in the --project project. */
export function parseWorkspace(raw: string, project: string): WorkspaceRef {
  const parts = raw.split('/');
  const ok = (p: string | undefined): p is string => p !== undefined && /^[^/:*?\s][^/:*?]*$/.test(p);
  if (parts.length === 2 && ok(parts[0]) && ok(parts[1]))
    return { organization: parts[0], project, workspace: parts[1] };
  if (parts.length === 3 && ok(parts[0]) && ok(parts[1]) && ok(parts[2]))
    return { organization: parts[0], project: parts[1], workspace: parts[2] };
  throw new UsageError(`--as ${raw}: expected ORG/WORKSPACE or ORG/PROJECT/WORKSPACE (no wildcards)`);
}

/** Claims as the issuer mints them (default token options), with ids that say they are made up. */
const mint: MintClaims = (ws, phase) =>
  phaseClaims(
    {
      organization: { id: 'org-reach', name: ws.organization },
      project: { id: 'prj-reach', name: ws.project },
      workspace: { id: 'ws-reach', name: ws.workspace },
      phase: phase as RunPhase,
    },
    {},
  );

function checkSubject(sub: string): string {
  if (sub.length < 6 || sub.length > 255)
    throw new UsageError(`--subject ${sub}: a token subject has 6 to 255 characters`);
  return sub;
}

async function offline(flags: ReachFlags, depth: number): Promise<ReachResult> {
  const sandbox = await openSetupSandbox(flags.file ?? '');
  try {
    const named = flags.as.map((a) => parseWorkspace(a, flags.project));
    const derived = flags.derive ? await workspacesFromTrusts(sandbox.store) : [];
    const known = new Map(
      [...named, ...derived].map((w) => [`${w.organization}/${w.project}/${w.workspace}`, w]),
    );
    const providers = [...new Set((await sandbox.store.list('oidcProvider')).map((p) => p.url))];
    const issuers = flags.issuer.length > 0 ? flags.issuer : providers;
    if (issuers.length === 0)
      throw new UsageError('the setup registers no OIDC provider: no web identity can reach any role');
    const unknown = issuers.filter((i) => !providers.includes(i));
    if (unknown.length > 0)
      throw new UsageError(
        `--issuer ${unknown.join(', ')}: no OIDC provider of the setup has this URL (providers: ${providers.join(', ')})`,
      );
    const subjects = subjectsFor([...known.values()], flags.subject.map(checkSubject), mint, true);
    if (subjects.length === 0)
      throw new UsageError(
        'no subject to try: name workspaces with --as ORG/PROJECT/WORKSPACE or subjects with --subject SUB (no trust policy names a workspace literally)',
      );
    return await analyzeReach(sandbox.sts, {
      subjects,
      issuers,
      audience: flags.audience ?? DEFAULT_AUDIENCE,
      maxDepth: depth,
      now: systemClock.now(),
    });
  } finally {
    await sandbox.close();
  }
}

async function online(flags: ReachFlags, depth: number): Promise<ReachResult> {
  const client = createClient(flags);
  return (await client.call('POST', '/api/v1/reach', {
    workspaces: flags.as.map((a) => parseWorkspace(a, flags.project)),
    subjects: flags.subject.map(checkSubject),
    derive: flags.derive,
    issuers: flags.issuer,
    ...(flags.audience !== undefined ? { audience: flags.audience } : {}),
    depth,
  })) as ReachResult;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const reachCommand: CommandModule = {
  register(program: Command) {
    withClientOptions(
      program
        .command('reach')
        .description(
          'Which run phases of which workspaces (and which foreign subjects) reach which roles, by web identity then role chaining, with findings; exit 1 when a finding is at or above --fail-on.',
        ),
    )
      .option('-f, --file <setup.yaml>', 'analyse this setup file offline (no server)')
      .option('--as <org/project/workspace>', 'a workspace to try in both phases (repeatable)', collect, [])
      .option('--subject <sub>', 'a token subject to try, e.g. of a foreign issuer (repeatable)', collect, [])
      .option('--no-derive', 'do not add the workspaces that trust policies name in their sub conditions')
      .option('--project <name>', 'project of --as ORG/WORKSPACE', 'Default Project')
      .option(
        '--issuer <url>',
        'iss of the tokens (repeatable; default every OIDC provider URL)',
        collect,
        [],
      )
      .option('--audience <aud>', 'aud of the tokens (default aws.workload.identity)')
      .option(
        '--depth <n>',
        `web identity is 1, each chained AssumeRole +1 (max ${MAX_DEPTH_LIMIT})`,
        String(DEFAULT_MAX_DEPTH),
      )
      .option(
        '--fail-on <severity>',
        `exit 1 for a finding at or above: ${SEVERITIES.join(', ')} or never`,
        'high',
      )
      .option('--output <format>', 'text or json', 'text')
      .option('--json', 'same as --output json')
      .action(async (flags: ReachFlags, c: Command) => {
        const out = outputOf(c);
        if (flags.output !== 'text' && flags.output !== 'json')
          throw new UsageError('--output: text or json');
        if (flags.failOn !== 'never' && !(SEVERITIES as readonly string[]).includes(flags.failOn))
          throw new UsageError(`--fail-on: one of ${SEVERITIES.join(', ')} or never`);
        const depth = parseIntFlag('--depth', flags.depth) ?? DEFAULT_MAX_DEPTH;
        if (depth < 1 || depth > MAX_DEPTH_LIMIT)
          throw new UsageError(`--depth: from 1 to ${MAX_DEPTH_LIMIT}`);
        const result = flags.file !== undefined ? await offline(flags, depth) : await online(flags, depth);
        if (flags.json || flags.output === 'json') out.json(result);
        else {
          const t = reachTables(result);
          out.table(t.edges, ['subject', 'role', 'via', 'depth', 'session', 'allowed by']);
          out.line('');
          out.table(t.roles, ['role', 'account', 'may do']);
          out.line('');
          if (t.findings.length === 0) out.line('No findings.');
          else out.table(t.findings, ['severity', 'rule', 'role', 'finding']);
        }
        if (flags.failOn === 'never') return;
        const floor = severityRank(flags.failOn as Severity);
        if (result.findings.some((f) => severityRank(f.severity) >= floor)) throw new QuietExit(EXIT.failure);
      });
  },
};
