// `gatepass token mint` (a recorded test token for a workspace and phase, to try trust policies
// offline) and `gatepass token decode` (header and claims, pretty; warns when expired). Decoding
// does not verify the signature: it is for reading, not for trusting.
import type { Command } from 'commander';
import {
  type ClientFlags,
  createClient,
  field,
  outputOf,
  parseIntFlag,
  withClientOptions,
} from '../lib/issuer-client.js';
import { type Output, UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';

type MintFlags = ClientFlags & {
  phase?: string;
  audience?: string;
  tag?: string;
  lifetime?: string;
  json?: boolean;
};

export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export function decodeToken(token: string): DecodedToken {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new UsageError('not a JWT (expected three dot-separated parts)');
  const part = (s: string | undefined, name: string): Record<string, unknown> => {
    try {
      const v = JSON.parse(Buffer.from(s ?? '', 'base64url').toString('utf8')) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // Reported below.
    }
    throw new UsageError(`not a JWT (the ${name} is not a JSON object)`);
  };
  return { header: part(parts[0], 'header'), claims: part(parts[1], 'payload') };
}

const TIME_CLAIMS = ['iat', 'nbf', 'exp'] as const;

function human(seconds: number): string {
  const s = Math.abs(seconds);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

export function printDecoded(out: Output, d: DecodedToken, nowMs: number, json: boolean | undefined): void {
  const now = Math.floor(nowMs / 1000);
  const exp = d.claims.exp;
  if (typeof exp === 'number' && exp <= now) {
    out.warn(`token expired at ${new Date(exp * 1000).toISOString()} (${human(now - exp)} ago)`);
  }
  const nbf = d.claims.nbf;
  if (typeof nbf === 'number' && nbf > now)
    out.warn(`token not valid before ${new Date(nbf * 1000).toISOString()}`);
  if (json) {
    out.json(d);
    return;
  }
  out.line(out.colors.bold('header'));
  out.line(JSON.stringify(d.header, null, 2));
  out.line(out.colors.bold('claims'));
  out.line(JSON.stringify(d.claims, null, 2));
  for (const name of TIME_CLAIMS) {
    const v = d.claims[name];
    if (typeof v === 'number') {
      const rel = v >= now ? `in ${human(v - now)}` : `${human(now - v)} ago`;
      out.line(`${name.padEnd(4)} ${new Date(v * 1000).toISOString()} (${rel})`);
    }
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const tokenCommand: CommandModule = {
  register(program: Command) {
    const token = program.command('token').description('Mint and read workload identity tokens.');
    withClientOptions(
      token
        .command('mint <org/workspace>')
        .description('Mint a recorded test token for a workspace and phase (admin token).'),
    )
      .option('--phase <phase>', 'plan or apply', 'plan')
      .option(
        '--audience <aud>',
        'aud claim (default: the workspace configuration, else aws.workload.identity)',
      )
      .option('--tag <tag>', 'configuration tag (letters, digits, _)')
      .option('--lifetime <seconds>', 'shorter than the phase timeout')
      .option('--json', 'print the token with its jti, kid, exp and run')
      .action(async (ref: string, flags: MintFlags, cmd: Command) => {
        const slash = ref.indexOf('/');
        if (slash <= 0 || slash === ref.length - 1) throw new UsageError('expected ORG/WORKSPACE');
        const body: Record<string, unknown> = {
          organization: ref.slice(0, slash),
          workspace: ref.slice(slash + 1),
          phase: flags.phase,
        };
        if (flags.audience !== undefined) body.audience = flags.audience;
        if (flags.tag !== undefined) body.tag = flags.tag;
        const lifetime = parseIntFlag('--lifetime', flags.lifetime);
        if (lifetime !== undefined) body.lifetimeSeconds = lifetime;
        const minted = await createClient(flags).call('POST', '/api/v1/tokens', body);
        const out = outputOf(cmd);
        if (flags.json) out.json(minted);
        else out.line(String(field(minted, 'token')));
      });
    token
      .command('decode [token]')
      .description(
        'Print the header and claims of a JWT (argument, or stdin when absent or "-"); no verification.',
      )
      .option('--json', 'print JSON')
      .action(async (raw: string | undefined, flags: { json?: boolean }, cmd: Command) => {
        const text = raw === undefined || raw === '-' ? await readStdin() : raw;
        printDecoded(outputOf(cmd), decodeToken(text), Date.now(), flags.json);
      });
  },
};
