// `gatepass simulate`: what would happen if a run presented this token to this role, then chained
// into these roles, then called these actions. Each step's decision and explanation come from the
// real STS and authorizer code. With -f setup.yaml everything runs in this process on a throwaway
// store (no server); otherwise on a running server's live IAM state (admin token).
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { renderSimulation } from '../../cloud/explain/render.js';
import { openSandbox, type Sandbox } from '../../cloud/explain/sandbox.js';
import { type SimResult, type SimulateInput, simulate } from '../../cloud/explain/simulate.js';
import { parseSetup, SetupError } from '../../cloud/setup/schema.js';
import { parseArn } from '../../core/arn.js';
import { systemClock } from '../../core/deps.js';
import { buildClaims, DEFAULT_AUDIENCE } from '../../issuer/claims.js';
import type { RunPhase } from '../../store/records/platform.js';
import { EXIT, type Output, QuietExit, UsageError } from '../output.js';
import type { CommandModule } from './index.js';
import { createClient, field, outputOf, parseIntFlag } from './issuer-client.js';
import { decodeToken } from './token.js';

interface SimulateFlags {
  /** The web identity token file (the admin token comes from --admin-token-file or GATEPASS_TOKEN). */
  token?: string;
  server?: string;
  adminTokenFile?: string;
  ca?: string;
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
  workspace: string;
  phase: RunPhase;
}

function parseAs(raw: string): As {
  const m = /^([^/:\s]+)\/([^/:]+):(plan|apply)$/.exec(raw);
  if (!m?.[1] || !m[2]) throw new UsageError('--as: expected ORG/WORKSPACE:plan or ORG/WORKSPACE:apply');
  return { organization: m[1], workspace: m[2], phase: m[3] as RunPhase };
}

async function readToken(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new UsageError(`--token: cannot read ${file}`);
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
  input: Omit<SimulateInput, 'token'>,
  out: Output,
): Promise<SimResult> {
  const file = flags.file ?? '';
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read setup file ${file}`);
  }
  let sandbox: Sandbox;
  try {
    sandbox = await openSandbox(parseSetup(text, file, process.env), file, systemClock);
  } catch (err) {
    if (err instanceof SetupError) throw new UsageError(`invalid setup file ${file}`, err.lines());
    throw err;
  }
  try {
    let token: string;
    if (flags.token !== undefined) {
      // The real issuer's key is not at hand offline: its claims are re-signed with the sandbox key.
      const claims = decodeToken(await readToken(flags.token)).claims;
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
        project: { id: 'prj-simulated', name: flags.project },
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

async function online(flags: SimulateFlags, input: Omit<SimulateInput, 'token'>): Promise<SimResult> {
  const client = createClient({
    ...(flags.server !== undefined ? { server: flags.server } : {}),
    ...(flags.adminTokenFile !== undefined ? { tokenFile: flags.adminTokenFile } : {}),
    ...(flags.ca !== undefined ? { ca: flags.ca } : {}),
  });
  let token: string;
  if (flags.token !== undefined) token = await readToken(flags.token);
  else {
    const as = parseAs(flags.as ?? '');
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
    program
      .command('simulate')
      .description(
        'Walk AssumeRoleWithWebIdentity, each chained AssumeRole and the actions as the server would, printing each decision; exit 0 only when every step is allowed.',
      )
      .option('--token <file>', 'a web identity token file')
      .option('--as <org/workspace:phase>', 'mint a token for this workspace and phase (plan or apply)')
      .requiredOption('--role <arn>', 'the role to assume with the token')
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
      .option('--server <url>', 'gatepass server URL (env GATEPASS_SERVER; default http://127.0.0.1:8787)')
      .option(
        '--admin-token-file <file>',
        'file holding the admin token (env GATEPASS_TOKEN; default <data dir>/admin-token)',
      )
      .option('--ca <file>', 'PEM CA bundle to trust for an https server (env GATEPASS_CA_FILE)')
      .action(async (flags: SimulateFlags, c: Command) => {
        const out = outputOf(c);
        if ((flags.token === undefined) === (flags.as === undefined))
          throw new UsageError('give --token FILE or --as ORG/WORKSPACE:PHASE');
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
