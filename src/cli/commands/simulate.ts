// `gatepass simulate`: what would happen if a run presented this token to this role, then chained
// into these roles, then called these actions. Each step's decision and explanation come from the
// real STS and authorizer code. With -f setup.yaml everything runs in this process on a throwaway
// store (no server); otherwise on a running server's live IAM state (admin token).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { renderSimulation } from '../../cloud/explain/render.js';
import type { Sandbox } from '../../cloud/explain/sandbox.js';
import { type SimResult, type SimulateInput, simulate } from '../../cloud/explain/simulate.js';
import { parseArn } from '../../core/arn.js';
import { isAccountId } from '../../core/ids.js';
import { buildClaims, DEFAULT_AUDIENCE } from '../../issuer/claims.js';
import { systemClock } from '../../runtime/clock.js';
import type { RunPhase } from '../../store/records/platform.js';
import {
  type ClientFlags,
  createClient,
  field,
  outputOf,
  parseIntFlag,
  withClientOptions,
} from '../lib/issuer-client.js';
import { EXIT, type Output, QuietExit, UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';
import { openSetupSandbox } from './setup-sandbox.js';
import { decodeToken } from './token.js';

interface SimulateFlags extends ClientFlags {
  /** The web identity token to present (the admin token is --token / --token-file, as elsewhere). */
  webIdentityTokenFile?: string;
  /** Old spelling of --token-file, kept hidden. */
  adminTokenFile?: string;
  as?: string;
  role: string;
  chain: string[];
  action: string[];
  resource: string[];
  file?: string;
  project: string;
  audience?: string;
  issuer?: string;
  sessionTags?: boolean;
  sourceIdentity?: boolean;
  chainDuration?: string;
  output: string;
  json?: boolean;
}

interface As {
  organization: string;
  /** Given as ORG/PROJECT/WORKSPACE:PHASE, the form `reach --as` takes too. */
  project?: string;
  workspace: string;
  phase: RunPhase;
}

const ACCOUNT_REF = /\$\{account:([^}]*)\}/g;

/**
 * `${account:NAME}` in an ARN names a setup-file account whose id is assigned when the file is
 * applied (offline: in the throwaway store), so the flagship example works without pinned ids.
 */
export function resolveAccountRefs(
  flag: string,
  value: string,
  accounts: readonly { name: string; id: string }[] | undefined,
): string {
  return value.replace(ACCOUNT_REF, (_ref, name: string) => {
    if (accounts === undefined)
      throw new UsageError(
        `${flag}: \${account:${name}} is resolved only offline (-f setup.yaml); give the 12-digit account id`,
      );
    const found = accounts.find((a) => a.name === name);
    if (!found)
      throw new UsageError(
        `${flag}: no account named ${name} in the setup file (accounts: ${accounts.map((a) => a.name).join(', ')})`,
      );
    return found.id;
  });
}

/** A role ARN the STS can be asked to assume, checked before anything is minted. */
function checkRoleArn(flag: string, arn: string): string {
  const parsed = parseArn(arn);
  if (parsed?.service !== 'iam' || !isAccountId(parsed.account) || !parsed.resource.startsWith('role/'))
    throw new UsageError(
      `${flag}: expected arn:aws:iam::<12-digit account>:role/<name>, or \${account:NAME} for a setup-file account with -f`,
    );
  return arn;
}

function parseAs(raw: string): As {
  const m = /^([^/:\s]+)\/(?:([^/:]+)\/)?([^/:]+):(plan|apply)$/.exec(raw);
  if (!m?.[1] || !m[3])
    throw new UsageError(
      '--as: expected ORG/WORKSPACE:plan or ORG/WORKSPACE:apply (ORG/PROJECT/WORKSPACE:… names the project)',
    );
  return {
    organization: m[1],
    ...(m[2] !== undefined ? { project: m[2] } : {}),
    workspace: m[3],
    phase: m[4] as RunPhase,
  };
}

async function readToken(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new UsageError(`--web-identity-token-file: cannot read ${file}`);
  }
}

/** The issuer a minted token names: the role account's OIDC provider, else the setup's only one. */
async function issuerFor(sandbox: Sandbox, role: string, given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  const account = parseArn(role)?.account ?? '';
  const own = await sandbox.store.list('oidcProvider', { index: { name: 'account', value: account } });
  const urls = [
    ...new Set((own.length > 0 ? own : await sandbox.store.list('oidcProvider')).map((p) => p.url)),
  ];
  if (urls.length === 1 && urls[0]) return urls[0];
  throw new UsageError(
    urls.length === 0
      ? 'the setup registers no OIDC provider: give the token issuer with --issuer'
      : `several OIDC providers could issue the token (${urls.join(', ')}): pick one with --issuer`,
  );
}

async function offline(
  flags: SimulateFlags,
  given: Omit<SimulateInput, 'token'>,
  out: Output,
): Promise<SimResult> {
  let input = given;
  const sandbox = await openSetupSandbox(flags.file ?? '');
  try {
    input = resolveInput(input, sandbox.accounts);
    let token: string;
    if (flags.webIdentityTokenFile !== undefined) {
      // The real issuer's key is not at hand offline: its claims are re-signed with the sandbox key.
      const claims = decodeToken(await readToken(flags.webIdentityTokenFile)).claims;
      out.warn('offline: the token signature is not checked (its claims are checked as given)');
      token = await sandbox.sign(claims);
    } else {
      const as = parseAs(flags.as ?? '');
      const now = Math.floor(systemClock.now() / 1000);
      const claims = buildClaims({
        issuer: await issuerFor(sandbox, input.roleArn, flags.issuer),
        audience: flags.audience ?? DEFAULT_AUDIENCE,
        jti: randomUUID(),
        iat: now,
        exp: now + 3600,
        organization: { id: 'org-simulated', name: as.organization },
        project: { id: 'prj-simulated', name: as.project ?? flags.project },
        workspace: { id: 'ws-simulated', name: as.workspace },
        runId: 'run-simulated',
        phase: as.phase,
        options: {
          ...(flags.sessionTags ? { sessionTags: true } : {}),
          ...(flags.sourceIdentity ? { sourceIdentity: true } : {}),
        },
      });
      token = await sandbox.sign(claims);
    }
    return await simulate(sandbox.sts, { ...input, token }, systemClock.now());
  } finally {
    await sandbox.close();
  }
}

/** The input with account references resolved (offline) or refused (online), the role checked. */
function resolveInput(
  input: Omit<SimulateInput, 'token'>,
  accounts: readonly { name: string; id: string }[] | undefined,
): Omit<SimulateInput, 'token'> {
  const resolved: Omit<SimulateInput, 'token'> = {
    ...input,
    roleArn: checkRoleArn('--role', resolveAccountRefs('--role', input.roleArn, accounts)),
    chain: (input.chain ?? []).map((a) =>
      checkRoleArn('--chain', resolveAccountRefs('--chain', a, accounts)),
    ),
    resources: (input.resources ?? []).map((a) => resolveAccountRefs('--resource', a, accounts)),
  };
  return resolved;
}

async function online(flags: SimulateFlags, input: Omit<SimulateInput, 'token'>): Promise<SimResult> {
  input = resolveInput(input, undefined);
  const client = createClient({
    ...flags,
    ...(flags.tokenFile === undefined && flags.adminTokenFile !== undefined
      ? { tokenFile: flags.adminTokenFile }
      : {}),
  });
  let token: string;
  if (flags.webIdentityTokenFile !== undefined) token = await readToken(flags.webIdentityTokenFile);
  else {
    // Online the workspace's own project goes into the token (names are unique in an organization).
    const { project: _project, ...as } = parseAs(flags.as ?? '');
    // A recorded test token from the server's own issuer, as `gatepass token mint` makes.
    const minted = await client.call('POST', '/api/v1/tokens', {
      ...as,
      ...(flags.audience !== undefined ? { audience: flags.audience } : {}),
    });
    token = String(field(minted, 'token'));
  }
  return (await client.call('POST', '/api/v1/simulate', {
    token,
    role: input.roleArn,
    chain: input.chain ?? [],
    actions: input.actions ?? [],
    resources: input.resources ?? [],
    ...(input.chainDurationSeconds !== undefined ? { chainDurationSeconds: input.chainDurationSeconds } : {}),
  })) as SimResult;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export const simulateCommand: CommandModule = {
  register(program: Command) {
    withClientOptions(
      program
        .command('simulate')
        .description(
          'Walk AssumeRoleWithWebIdentity, each chained AssumeRole and the actions as the server would, printing each decision; exit 0 only when every step is allowed.',
        ),
    )
      .option('--web-identity-token-file <file>', 'present this web identity token instead of minting one')
      .option(
        '--as <org/workspace:phase>',
        'mint a token for this workspace and phase (plan or apply); ORG/PROJECT/WORKSPACE:PHASE names the project too, offline',
      )
      .requiredOption(
        '--role <arn>',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file account reference syntax.
        'the role to assume with the token (offline, ${account:NAME} names a setup-file account)',
      )
      .option('--chain <arn>', 'then assume this role (repeatable, in order)', collect, [])
      .option('--action <action>', 'then evaluate this action (repeatable)', collect, [])
      .option('--resource <arn>', 'resource of the actions (repeatable; default *)', collect, [])
      .option('--chain-duration <seconds>', 'DurationSeconds of each chained AssumeRole')
      .option('-f, --file <setup.yaml>', 'simulate offline on this setup file (no server)')
      .option('--project <name>', 'project of the minted token, offline', 'Default Project')
      .option('--audience <aud>', 'aud of the minted token (default aws.workload.identity)')
      .option(
        '--issuer <url>',
        'iss of the minted token, offline (default: the role account’s OIDC provider)',
      )
      .option('--session-tags', 'offline: the minted token carries the AWS session tags claim')
      .option('--source-identity', 'offline: the minted token carries the AWS source identity claim')
      .option('--output <format>', 'text or json', 'text')
      .option('--json', 'same as --output json')
      .addOption(new Option('--admin-token-file <file>').hideHelp())
      .action(async (flags: SimulateFlags, c: Command) => {
        const out = outputOf(c);
        // Before --web-identity-token-file, `simulate --token FILE` named the token file; elsewhere
        // --token is the admin secret. A value naming an existing file is the old spelling.
        if (
          flags.token !== undefined &&
          flags.webIdentityTokenFile === undefined &&
          existsSync(flags.token)
        ) {
          out.warn(
            '--token FILE is now --web-identity-token-file FILE (--token is the admin token, as elsewhere)',
          );
          flags.webIdentityTokenFile = flags.token;
          delete flags.token;
        }
        if ((flags.webIdentityTokenFile === undefined) === (flags.as === undefined))
          throw new UsageError('give --web-identity-token-file FILE or --as ORG/WORKSPACE:PHASE');
        if (flags.output !== 'text' && flags.output !== 'json')
          throw new UsageError('--output: text or json');
        const duration = parseIntFlag('--chain-duration', flags.chainDuration);
        if (duration !== undefined && (duration < 900 || duration > 43200))
          throw new UsageError('--chain-duration: from 900 to 43200 seconds');
        const input: Omit<SimulateInput, 'token'> = {
          roleArn: flags.role,
          chain: flags.chain,
          actions: flags.action,
          resources: flags.resource,
          ...(duration !== undefined ? { chainDurationSeconds: duration } : {}),
        };
        const result =
          flags.file !== undefined ? await offline(flags, input, out) : await online(flags, input);
        if (flags.json || flags.output === 'json') out.json(result);
        else for (const l of renderSimulation(result)) out.line(l);
        if (!result.allowed) throw new QuietExit(EXIT.failure);
      });
  },
};
