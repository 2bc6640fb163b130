// The CLI's client for a running gatepass server's platform API: server URL, admin token and CA
// from flags or the environment, JSON in and out, API errors turned into readable CLI errors that
// name the bad field. Tokens are sent, never printed here.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { tlsHint } from '../../agent/transport-hint.js';
import { createOutput, type Output, readableTimes, UsageError } from './output.js';

export interface ClientFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  ca?: string;
}

export interface ApiClient {
  readonly server: string;
  call(method: string, path: string, body?: unknown): Promise<unknown>;
  /** GET without authentication (the well-known documents). */
  get(path: string): Promise<unknown>;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** What to do about it, one line each (printed under the message). */
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** A server that does not answer within this long is reported, not waited on for ever. */
const TIMEOUT_MS = 30_000;
/** Larger answers are not an API response (the biggest list pages are far smaller). */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** A one-line hint for a transport failure: what the error code usually means here. */
export function transportHint(url: URL, code: string | undefined, hasCa: boolean): string | undefined {
  const tls = tlsHint(url, code, hasCa, '--server');
  if (tls !== undefined) return tls;
  if (code === 'ECONNREFUSED')
    return 'hint: is `gatepass serve` running there? --server (env GATEPASS_SERVER) names the node';
  if (code === 'ETIMEDOUT')
    return `hint: the node did not answer within ${TIMEOUT_MS / 1000} s; check --server and the network`;
  return undefined;
}

/** Adds --server, --token, --token-file and --ca to a command that talks to the API. */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--server <url>',
        'gatepass server URL (env GATEPASS_SERVER; default http://127.0.0.1:8787)',
      ),
    )
    .addOption(new Option('--token <token>', 'admin or agent token (env GATEPASS_TOKEN)'))
    .addOption(
      new Option(
        '--token-file <file>',
        'file holding the token (default <GATEPASS_DATA_DIR or ./.gatepass>/admin-token)',
      ),
    )
    .addOption(
      new Option('--ca <file>', 'PEM CA bundle to trust for an https server (env GATEPASS_CA_FILE)'),
    );
}

/** The token to send, or where it was looked for when there is none. */
function resolveToken(flags: ClientFlags, env: NodeJS.ProcessEnv): { token?: string; lookedIn?: string } {
  if (flags.token) return { token: flags.token };
  if (env.GATEPASS_TOKEN) return { token: env.GATEPASS_TOKEN };
  const file = flags.tokenFile ?? join(env.GATEPASS_DATA_DIR || './.gatepass', 'admin-token');
  try {
    return { token: readFileSync(file, 'utf8').trim() };
  } catch {
    if (flags.tokenFile) throw new UsageError(`cannot read token file ${flags.tokenFile}`);
    return { lookedIn: file };
  }
}

export function createClient(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const server = (flags.server ?? env.GATEPASS_SERVER ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new UsageError(`--server: not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new UsageError('--server: must be http or https');
  const caFile = flags.ca ?? env.GATEPASS_CA_FILE;
  let ca: string | undefined;
  try {
    ca = caFile ? readFileSync(caFile, 'utf8') : undefined;
  } catch {
    throw new UsageError(`--ca: cannot read ${caFile}`);
  }
  type Auth = { token?: string; lookedIn?: string };
  const send = (method: string, path: string, auth: Auth, body?: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const url = new URL(`${server}${path}`);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (auth.token) headers.authorization = `Bearer ${auth.token}`;
      const payload = body === undefined ? undefined : JSON.stringify(body);
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const options = { method, headers, timeout: TIMEOUT_MS, ...(ca ? { ca } : {}) };
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy();
            reject(new ApiError(res.statusCode ?? 0, 'bad_response', `response from ${server} is too large`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            reject(new ApiError(res.statusCode ?? 0, 'bad_response', `unexpected response from ${server}`));
            return;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(json);
          else if (status === 401 && auth.lookedIn !== undefined)
            reject(
              new ApiError(status, 'unauthorized', `no token: ${auth.lookedIn} does not exist`, [
                'hint: pass --token-file <data-dir>/admin-token, or set GATEPASS_DATA_DIR to the node’s data directory (or GATEPASS_TOKEN)',
              ]),
            );
          else reject(apiError(status, json));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const hint = transportHint(url, err.code, ca !== undefined);
        reject(
          new ApiError(
            0,
            'unreachable',
            `cannot reach ${server} (${err.code ?? 'error'})`,
            hint ? [hint] : [],
          ),
        );
      });
      req.end(payload);
    });
  return {
    server,
    call: (method, path, body) => send(method, path, resolveToken(flags, env), body),
    get: (path) => send('GET', path, {}),
  };
}

function apiError(status: number, json: unknown): ApiError {
  const error = (json as { error?: unknown } | undefined)?.error;
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown; field?: unknown; reason?: unknown };
    const where =
      typeof e.field === 'string'
        ? ` (${e.field}${typeof e.reason === 'string' ? `: ${e.reason}` : ''})`
        : '';
    return new ApiError(status, String(e.code), `${String(e.message ?? 'request failed')}${where}`);
  }
  return new ApiError(
    status,
    typeof error === 'string' ? error : 'error',
    `request failed with HTTP ${status}`,
  );
}

export const enc = encodeURIComponent;

/** `items` of a list response. */
export function itemsOf(value: unknown): Record<string, unknown>[] {
  const items = (value as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? (items as Record<string, unknown>[]) : [];
}

export const field = (value: unknown, key: string): unknown =>
  value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;

export function parseIntFlag(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`${name}: expected a whole number`);
  return Number(raw);
}

/** Resolve `org/workspace` (or a `ws-…` id) to a workspace id through the API. */
export async function workspaceId(client: ApiClient, ref: string): Promise<string> {
  if (ref.startsWith('ws-')) return ref;
  const slash = ref.indexOf('/');
  if (slash <= 0) throw new UsageError('workspace: expected ORG/WORKSPACE or a ws-… id');
  const org = ref.slice(0, slash);
  const name = ref.slice(slash + 1).toLowerCase();
  const match = itemsOf(await client.call('GET', `/api/v1/orgs/${enc(org)}/workspaces`)).find(
    (w) => String(w.name).toLowerCase() === name,
  );
  if (!match) throw new UsageError(`no workspace ${ref}`);
  return String(match.id);
}

/** The program's Output, reached through commander's inherited output configuration. */
export function outputOf(cmd: Command): Output {
  const cfg = cmd.configureOutput();
  const write = (fn: ((s: string) => void) | undefined, fallback: NodeJS.WriteStream) => ({
    write: (s: string) => (fn ? fn(s) : fallback.write(s)),
  });
  return createOutput({
    stdout: write(cfg.writeOut, process.stdout),
    stderr: write(cfg.writeErr, process.stderr),
    color: false,
  });
}

/** Print one resource: JSON with --json, else key/value lines. */
export function show(out: Output, value: unknown, json: boolean | undefined): void {
  if (json) {
    out.json(readableTimes(value, 'iso'));
    return;
  }
  const readable = readableTimes(value, 'local');
  if (readable && typeof readable === 'object') {
    out.table(
      Object.entries(readable as Record<string, unknown>).map(([key, v]) => ({ field: key, value: v })),
      ['field', 'value'],
    );
  } else out.line(String(value));
}

export function list(
  out: Output,
  rows: Record<string, unknown>[],
  columns: readonly string[],
  json: boolean | undefined,
): void {
  if (json) for (const r of rows) out.json(readableTimes(r, 'iso'));
  else out.table(readableTimes(rows, 'local') as Record<string, unknown>[], columns);
}
