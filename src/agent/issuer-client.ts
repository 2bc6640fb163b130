// The agent's side of the issuer's platform API (src/issuer/http/api.ts): open or join a run, start
// a phase, read the workspace's variables, mint tokens, finish or cancel. Authenticated with an
// agent token, which never appears in an error.
import { MAX_MINTS_PER_REQUEST } from '../core/mint-batch.js';
import type { Phase } from './config.js';
import { AgentError } from './errors.js';
import { type HttpOptions, send, TransportError } from './http-client.js';
import { connectHint, tlsHint } from './transport-hint.js';

export interface PhaseInfo {
  status: string;
  startedAt?: number;
  deadline?: number;
}

export interface RunInfo {
  id: string;
  status: string;
  workspaceId: string;
  phases: Record<Phase, PhaseInfo>;
}

export interface MintedToken {
  token: string;
  jti: string;
  kid: string;
  aud: string;
  tag: string;
  /** Seconds. */
  exp: number;
}

export interface LeaseInfo {
  /** Epoch ms. */
  expiresAt: number;
  renewEveryMs: number;
}

/** A phase started by the agent: its run, the lease taken with it, the workspace's variables. */
export interface StartedPhase {
  run: RunInfo;
  lease: LeaseInfo;
  /** The workspace's env variables by key; a sensitive one (not readable) is null. */
  variables: Map<string, string | null>;
}

export interface IssuerClientOptions {
  url: string;
  agentToken: string;
  http?: HttpOptions;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function shapeError(what: string): AgentError {
  return new AgentError('issuer_refused', [`unexpected ${what} response from the issuer`]);
}

function asRun(v: unknown): RunInfo {
  if (!isObject(v) || typeof v.id !== 'string' || typeof v.status !== 'string' || !isObject(v.phases)) {
    throw shapeError('run');
  }
  const phase = (p: unknown): PhaseInfo => {
    if (!isObject(p) || typeof p.status !== 'string') throw shapeError('run');
    const out: PhaseInfo = { status: p.status };
    if (typeof p.startedAt === 'number') out.startedAt = p.startedAt;
    if (typeof p.deadline === 'number') out.deadline = p.deadline;
    return out;
  };
  return {
    id: v.id,
    status: v.status,
    workspaceId: typeof v.workspaceId === 'string' ? v.workspaceId : '',
    phases: { plan: phase(v.phases.plan), apply: phase(v.phases.apply) },
  };
}

export interface TokenRequest {
  phase: Phase;
  tag: string;
  audience: string;
}

function tokenRequest(request: TokenRequest): Record<string, string> {
  const body: Record<string, string> = { phase: request.phase, audience: request.audience };
  if (request.tag !== '') body.tag = request.tag;
  return body;
}

function asMinted(v: unknown, request: TokenRequest): MintedToken {
  if (
    !isObject(v) ||
    typeof v.token !== 'string' ||
    typeof v.jti !== 'string' ||
    typeof v.exp !== 'number' ||
    typeof v.kid !== 'string'
  ) {
    throw shapeError('token');
  }
  return {
    token: v.token,
    jti: v.jti,
    kid: v.kid,
    aud: typeof v.aud === 'string' ? v.aud : request.audience,
    tag: typeof v.tag === 'string' ? v.tag : request.tag,
    exp: v.exp,
  };
}

function asLease(v: unknown): LeaseInfo {
  if (!isObject(v) || typeof v.expiresAt !== 'number' || typeof v.renewEveryMs !== 'number')
    throw shapeError('lease');
  return { expiresAt: v.expiresAt, renewEveryMs: v.renewEveryMs };
}

/** The workspace's env variables by key; a sensitive one (not readable) is null. */
function asVariables(items: unknown): Map<string, string | null> {
  if (!Array.isArray(items)) throw shapeError('variables');
  const out = new Map<string, string | null>();
  for (const item of items as unknown[]) {
    if (!isObject(item) || typeof item.key !== 'string') throw shapeError('variables');
    if (item.category !== undefined && item.category !== 'env') continue;
    out.set(item.key, typeof item.value === 'string' ? item.value : null);
  }
  return out;
}

export class IssuerClient {
  private readonly base: URL;

  constructor(private readonly options: IssuerClientOptions) {
    this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  }

  /** Open a run on the workspace with the phase started. */
  async openRun(organization: string, workspace: string, phase: Phase): Promise<RunInfo> {
    return asRun(await this.call('POST', 'runs', { organization, workspace, phase }));
  }

  /**
   * Open a run (or, given `runId`, join it) with the phase started, its lease taken in the same
   * write, and the workspace's variables: what `lease` and `variables` would answer, in one request.
   */
  async startLeased(
    target: { runId: string } | { organization: string; workspace: string },
    phase: Phase,
  ): Promise<StartedPhase> {
    const body =
      'runId' in target
        ? await this.call('POST', `runs/${encodeURIComponent(target.runId)}/phases/${phase}/start`, {
            lease: true,
            include: ['variables'],
          })
        : await this.call('POST', 'runs', { ...target, phase, lease: true, include: ['variables'] });
    if (!isObject(body)) throw shapeError('run');
    return { run: asRun(body), lease: asLease(body.lease), variables: asVariables(body.variables) };
  }

  /** Close the phase; `revocation` (how the agent revoked it) goes on the issuer's audit record. */
  async finishPhase(
    runId: string,
    phase: Phase,
    status: 'succeeded' | 'failed',
    revocation?: { method: string; detail: string },
  ): Promise<RunInfo> {
    return asRun(
      await this.call('POST', `runs/${encodeURIComponent(runId)}/phases/${phase}/finish`, {
        status,
        ...(revocation ? { revocation } : {}),
      }),
    );
  }

  /** Take or renew the lease on the running phase: when it lapses, the issuer revokes the run. */
  async lease(runId: string, phase: Phase): Promise<LeaseInfo> {
    return asLease(await this.call('POST', `runs/${encodeURIComponent(runId)}/phases/${phase}/lease`, {}));
  }

  async cancelRun(runId: string): Promise<RunInfo> {
    return asRun(await this.call('POST', `runs/${encodeURIComponent(runId)}/cancel`, {}));
  }

  async mint(runId: string, request: TokenRequest): Promise<MintedToken> {
    const v = await this.call('POST', `runs/${encodeURIComponent(runId)}/tokens`, tokenRequest(request));
    return asMinted(v, request);
  }

  /**
   * Several tokens of the run, in the order asked: one request (one write at the issuer) per
   * MAX_MINTS_PER_REQUEST of them.
   */
  async mintAll(runId: string, requests: readonly TokenRequest[]): Promise<MintedToken[]> {
    const minted: MintedToken[] = [];
    for (let start = 0; start < requests.length; start += MAX_MINTS_PER_REQUEST) {
      const batch = requests.slice(start, start + MAX_MINTS_PER_REQUEST);
      const v = await this.call('POST', `runs/${encodeURIComponent(runId)}/tokens`, {
        tokens: batch.map(tokenRequest),
      });
      if (!isObject(v) || !Array.isArray(v.items) || v.items.length !== batch.length)
        throw shapeError('token');
      for (const [i, r] of batch.entries()) minted.push(asMinted((v.items as unknown[])[i], r));
    }
    return minted;
  }

  private async call(method: string, path: string, json?: unknown): Promise<unknown> {
    const url = new URL(`api/v1/${path}`, this.base);
    const body = json === undefined ? undefined : JSON.stringify(json);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.agentToken}`,
      accept: 'application/json',
    };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    let res: Awaited<ReturnType<typeof send>>;
    try {
      res = await send(
        url,
        body === undefined ? { method, headers } : { method, headers, body },
        this.options.http,
      );
    } catch (err) {
      if (err instanceof TransportError) {
        const hasCa = (this.options.http?.ca?.length ?? 0) > 0;
        const hint = tlsHint(url, err.reason, hasCa, '--server') ?? connectHint(url, err.reason, '--server');
        throw new AgentError('issuer_unreachable', [`${url.origin}: ${err.reason}`, ...(hint ? [hint] : [])]);
      }
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = res.body.length === 0 ? {} : (JSON.parse(res.body.toString('utf8')) as unknown);
    } catch {
      parsed = undefined;
    }
    if (res.status >= 200 && res.status < 300) return parsed;
    const e = isObject(parsed) && isObject(parsed.error) ? parsed.error : {};
    const code = typeof e.code === 'string' ? e.code : `HTTP ${res.status}`;
    const detail = [
      typeof e.message === 'string' ? e.message : '',
      typeof e.field === 'string'
        ? `field ${e.field}${typeof e.reason === 'string' ? `: ${e.reason}` : ''}`
        : '',
    ]
      .filter((s) => s !== '')
      .join('; ');
    throw new AgentError('issuer_refused', [
      `${method} /api/v1/${path} → ${res.status} ${code}${detail ? ` (${detail})` : ''}`,
    ]);
  }
}
