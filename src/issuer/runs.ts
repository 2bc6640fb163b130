// Runs and their phases (plan, apply), and minting: a run mints only for its own workspace, in a
// phase that is running and before that phase's deadline; a closed run mints nothing. Every mint
// is recorded (jti, run, configuration tag, aud, exp, kid; never the token).

import { DENY_LIST_POLICIES_VAR } from '../core/denylist.js';
import type { Clock, Random } from '../core/deps.js';
import { hcpId } from '../core/ids.js';
import { MAX_MINTS_PER_REQUEST } from '../core/mint-batch.js';
import { REVOKE_RUN_AUDIENCE } from '../core/revoke-audience.js';
import type { SigningAlg } from '../store/records/keyring.js';
import type {
  MintRecord,
  OrganizationRecord,
  PhaseState,
  ProjectRecord,
  RunPhase,
  RunRecord,
  TokenOptions,
  WorkspaceRecord,
} from '../store/records/platform.js';
import type { Store, StoreOps } from '../store/types.js';
import { agentMayUse, type Principal } from './auth.js';
import { buildClaims, DEFAULT_AUDIENCE, effectiveTokenOptions } from './claims.js';
import { IssuerError, invalidField } from './errors.js';
import { asBody, onlyFields, optBool, optInt, optString } from './input.js';
import type { Keyring } from './keyring.js';
import { checkAudience, checkConfigTag } from './names.js';
import type { Platform } from './platform.js';
import { resolveConfigVar } from './variables.js';

/** Workspace variables naming the audience a configuration's tokens are minted with. */
const SESSION_AUDIENCE_VAR = /^TFC_(DEFAULT_)?(AWS_)?WORKLOAD_IDENTITY_AUDIENCE(_\w+)?$/;

export const PHASES: readonly RunPhase[] = ['plan', 'apply'];

export interface RunsDeps {
  store: Store;
  clock: Clock;
  random: Random;
  keyring: Keyring;
  platform: Platform;
  /** `iss` of every token: exact, no trailing slash. */
  issuer: string;
  /** How long an agent's lease on its phase lasts without renewal. */
  leaseMs: number;
}

export interface LeaseResult {
  runId: string;
  phase: RunPhase;
  /** Epoch ms. */
  expiresAt: number;
  leaseSeconds: number;
  /** The agent renews this often (a third of the lease: two renewals may fail before it lapses). */
  renewEveryMs: number;
}

interface Minted {
  claims: ReturnType<typeof buildClaims>;
  kid: string;
  alg: SigningAlg;
  record: MintRecord;
}

export interface MintResult {
  token: string;
  jti: string;
  kid: string;
  aud: string;
  sub: string;
  tag: string;
  phase: RunPhase;
  /** Seconds. */
  exp: number;
}

interface MintRequest {
  phase?: RunPhase;
  tag: string;
  audience?: string;
}

interface MintContext {
  ws: WorkspaceRecord;
  org: OrganizationRecord;
  project: ProjectRecord;
  options: TokenOptions;
  audienceOf(tag: string): string;
}

/** One token request: `{ phase?, tag?, audience? }`; errors name the field under `prefix`. */
function mintRequest(body: Record<string, unknown>, prefix: string): MintRequest {
  for (const key of Object.keys(body))
    if (!['phase', 'tag', 'audience'].includes(key)) throw invalidField(`${prefix}${key}`, 'unknown field');
  const request: MintRequest = { tag: checkConfigTag(`${prefix}tag`, body.tag) };
  if (body.audience !== undefined) request.audience = checkAudience(`${prefix}audience`, body.audience);
  if (body.phase !== undefined) request.phase = checkPhase(`${prefix}phase`, body.phase);
  return request;
}

function checkPhase(field: string, value: unknown): RunPhase {
  if (value !== 'plan' && value !== 'apply') throw invalidField(field, 'must be "plan" or "apply"');
  return value;
}

const pending = (): PhaseState => ({ status: 'pending' });

export class Runs {
  constructor(private readonly deps: RunsDeps) {}

  /**
   * Open a run on a workspace of the caller's organization; optionally start a phase at once, and
   * with `lease: true` take the agent's lease on it in the same write (see `lease`).
   */
  async open(p: Principal, raw: unknown): Promise<RunRecord> {
    const body = asBody(raw);
    onlyFields(body, ['workspace', 'organization', 'phase', 'lease']);
    const lease = optBool(body, 'lease') ?? false;
    if (lease && body.phase === undefined) throw invalidField('lease', 'needs a phase to start');
    const wsRef = optString(body, 'workspace', 128);
    if (!wsRef) throw invalidField('workspace', 'is required');
    const org =
      p.kind === 'agent'
        ? await this.deps.platform.getOrg(p.token.orgId)
        : await this.deps.platform.getOrg(optString(body, 'organization', 64) ?? '').catch(() => {
            throw invalidField('organization', 'no such organization');
          });
    const ws = await this.deps.platform.findWorkspace(org, wsRef).catch(() => {
      throw invalidField('workspace', 'no such workspace in this organization');
    });
    if (!agentMayUse(p, org.id, ws.id)) throw new IssuerError('forbidden', 'workspace');
    const now = this.deps.clock.now();
    let run: RunRecord = {
      id: hcpId(this.deps.random, 'run'),
      orgId: org.id,
      workspaceId: ws.id,
      status: 'open',
      phases: { plan: pending(), apply: pending() },
      createdAt: now,
      openedBy: p.id,
    };
    if (body.phase !== undefined) {
      const phase = checkPhase('phase', body.phase);
      run = startPhase(run, phase, now, org, ws);
      if (lease) run = this.leased(run, phase, now);
    }
    await this.deps.store.insert('run', run);
    return run;
  }

  async get(p: Principal, runId: string): Promise<RunRecord> {
    const run = await this.deps.store.get('run', runId);
    if (!run) throw new IssuerError('not_found', 'run');
    if (!agentMayUse(p, run.orgId, run.workspaceId)) throw new IssuerError('forbidden', 'run');
    return run;
  }

  /** Start a phase of an open run; with `lease: true` the agent's lease is taken in the same write. */
  async start(p: Principal, runId: string, phaseRaw: string, raw: unknown = {}): Promise<RunRecord> {
    const phase = checkPhase('phase', phaseRaw);
    const body = asBody(raw);
    onlyFields(body, ['lease']);
    const lease = optBool(body, 'lease') ?? false;
    // Read outside the transaction: the change function may only use the transaction's handle.
    const run = await this.get(p, runId);
    const ws = await this.deps.platform.getWorkspace(run.workspaceId);
    const org = await this.deps.platform.getOrg(run.orgId);
    return this.change(p, runId, async (current) => {
      const now = this.deps.clock.now();
      const started = startPhase(current, phase, now, org, ws);
      return lease ? this.leased(started, phase, now) : started;
    });
  }

  async finish(p: Principal, runId: string, phaseRaw: string, raw: unknown): Promise<RunRecord> {
    const phase = checkPhase('phase', phaseRaw);
    const body = asBody(raw);
    onlyFields(body, ['status', 'revocation']);
    const status = body.status;
    if (status !== 'succeeded' && status !== 'failed')
      throw invalidField('status', 'must be "succeeded" or "failed"');
    const revocation = revocationReport(body.revocation);
    // The agent's report of how it revoked the phase (or why it could not) goes on the audit record.
    const audit = (tx: StoreOps, run: RunRecord) =>
      revocation
        ? tx.appendAudit([
            {
              time: this.deps.clock.now(),
              requestId: `revocation-${run.id}-${phase}`,
              action: 'gatepass:ReportRevocation',
              decision: 'info',
              runId: run.id,
              workspaceId: run.workspaceId,
              detail: { phase, method: revocation.method, detail: revocation.detail },
            },
          ])
        : Promise.resolve();
    return this.change(
      p,
      runId,
      async (run) => {
        const state = run.phases[phase];
        if (state.status !== 'running') throw new IssuerError('phase_order', 'phase');
        const now = this.deps.clock.now();
        const { leaseExpiresAt: _lease, ...rest } = state;
        const next: RunRecord = {
          ...run,
          phases: { ...run.phases, [phase]: { ...rest, status, finishedAt: now } },
        };
        // A failed phase or a finished apply ends the run.
        if (status === 'failed' || phase === 'apply') {
          next.status = status;
          next.closedAt = now;
        }
        return next;
      },
      audit,
    );
  }

  async cancel(p: Principal, runId: string): Promise<RunRecord> {
    return this.change(p, runId, async (run) => {
      const now = this.deps.clock.now();
      const phases = { ...run.phases };
      for (const ph of PHASES) {
        const s = phases[ph];
        if (s.status === 'pending' || s.status === 'running')
          phases[ph] = { ...s, status: 'cancelled', finishedAt: now };
      }
      return { ...run, phases, status: 'cancelled', closedAt: now };
    });
  }

  /** Mint a token for the run's workspace and an open phase (the running one by default). */
  async mint(p: Principal, runId: string, raw: unknown): Promise<MintResult> {
    const [minted] = await this.mintAll(p, runId, [mintRequest(asBody(raw), '')]);
    return minted as MintResult;
  }

  /**
   * `{ tokens: [{ phase?, tag?, audience? }, …] }`: several tokens of the run in one write (the
   * agent's configurations at the start of a phase), all minted or none.
   */
  async mintMany(p: Principal, runId: string, raw: unknown): Promise<MintResult[]> {
    const body = asBody(raw);
    onlyFields(body, ['tokens']);
    const list = body.tokens;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_MINTS_PER_REQUEST)
      throw invalidField('tokens', `must be an array of 1 to ${MAX_MINTS_PER_REQUEST} token requests`);
    const requests = list.map((item: unknown, i) => {
      const prefix = `tokens[${i}]`;
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw invalidField(prefix, 'must be an object');
      return mintRequest(item as Record<string, unknown>, `${prefix}.`);
    });
    return this.mintAll(p, runId, requests);
  }

  private async mintAll(
    p: Principal,
    runId: string,
    requests: readonly MintRequest[],
  ): Promise<MintResult[]> {
    const run = await this.get(p, runId);
    const context = await this.mintContext(run);
    const auds = requests.map((r) => r.audience ?? context.audienceOf(r.tag));
    for (const aud of auds) checkAudience('audience', aud);

    await this.deps.keyring.maintain();
    const now = this.deps.clock.now();
    const jtis = requests.map(() => this.deps.random.uuid());
    const minted = await this.deps.keyring.retrying(async (tx) => {
      // Re-read inside the transaction: a cancel or finish that committed first wins.
      const current = await tx.get('run', runId);
      if (current?.status !== 'open') throw new IssuerError('run_closed', 'run');
      const out: Minted[] = [];
      for (const [i, r] of requests.entries()) {
        const phase = r.phase ?? PHASES.find((ph) => current.phases[ph].status === 'running');
        if (!phase) throw new IssuerError('phase_not_open', 'phase');
        const state = current.phases[phase];
        if (state.status !== 'running' || state.deadline === undefined || state.deadline <= now) {
          throw new IssuerError('phase_not_open', 'phase');
        }
        const exp = Math.floor(state.deadline / 1000);
        const jti = jtis[i] as string;
        const aud = auds[i] as string;
        out.push(
          await this.recordMint(tx, { ...context, run: current, phase, tag: r.tag, aud, jti, now, exp }),
        );
      }
      return out;
    });
    return Promise.all(minted.map((m) => this.signMinted(m)));
  }

  /**
   * A token for a closed run, minted by the issuer itself to end the run at an STS of another
   * deployment (RevokeRun): the run's claims for the phase, valid for five minutes, recorded as a
   * mint. Its audience is the revoke-only one: it can end the run, never start a session (not at
   * a gatepass STS, nor at an AWS one, where no provider lists that client id).
   */
  async revocationToken(runId: string, phase: RunPhase, audience = REVOKE_RUN_AUDIENCE): Promise<MintResult> {
    const run = await this.deps.store.get('run', runId);
    if (!run) throw new IssuerError('not_found', 'run');
    const context = await this.mintContext(run);
    const { ws } = context;
    // Another audience is the deny-list revoker role's; never one any configuration of the
    // workspace mints sessions with (the default, a tag's or the shared one): a closed run gets
    // no token that opens a session.
    const sessionAudiences = new Set([DEFAULT_AUDIENCE, context.audienceOf('')]);
    for (const [key, v] of await this.deps.platform.effectiveVariables(ws))
      if (SESSION_AUDIENCE_VAR.test(key) && v.value !== '') sessionAudiences.add(v.value);
    if (sessionAudiences.has(audience))
      throw invalidField('audience', 'is a session audience of the workspace');
    const aud = checkAudience('audience', audience);
    await this.deps.keyring.maintain();
    const now = this.deps.clock.now();
    const jti = this.deps.random.uuid();
    const exp = Math.floor(now / 1000) + 300;
    const minted = await this.deps.keyring.retrying((tx) =>
      this.recordMint(tx, { ...context, run, phase, tag: '', aud, jti, now, exp }),
    );
    return this.signMinted(minted);
  }

  /** What a token of the run is built from: its workspace, organization, project and options. */
  private async mintContext(run: RunRecord): Promise<MintContext> {
    const ws = await this.deps.platform.getWorkspace(run.workspaceId);
    const org = await this.deps.platform.getOrg(run.orgId);
    const project = await this.deps.store.get('project', ws.projectId);
    if (!project) throw new IssuerError('not_found', 'project');
    const vars = await this.deps.platform.effectiveVariables(ws);
    const options = effectiveTokenOptions(org.tokenOptions, ws.tokenOptions);
    // A workspace revoked through a deny list on aws:SourceIdentity: no token of it goes without one.
    const denyList = vars.get(DENY_LIST_POLICIES_VAR)?.value;
    if (typeof denyList === 'string' && denyList.trim() !== '') options.sourceIdentity = true;
    /** A configuration's audience when the request names none: the workspace's variables, or the default. */
    const audienceOf = (tag: string): string =>
      resolveConfigVar(vars, 'AWS_WORKLOAD_IDENTITY_AUDIENCE', tag) ??
      resolveConfigVar(vars, 'WORKLOAD_IDENTITY_AUDIENCE', tag) ??
      DEFAULT_AUDIENCE;
    return { ws, org, project, options, audienceOf };
  }

  /** Claims for one token of a run phase, its signing key reserved and its mint recorded (in `tx`). */
  private async recordMint(
    tx: StoreOps,
    m: {
      run: RunRecord;
      org: OrganizationRecord;
      project: ProjectRecord;
      ws: WorkspaceRecord;
      options: TokenOptions;
      phase: RunPhase;
      tag: string;
      aud: string;
      jti: string;
      now: number;
      exp: number;
    },
  ): Promise<Minted> {
    const claims = buildClaims({
      organization: m.org,
      project: m.project,
      workspace: m.ws,
      runId: m.run.id,
      phase: m.phase,
      issuer: this.deps.issuer,
      audience: m.aud,
      jti: m.jti,
      iat: Math.floor(m.now / 1000),
      exp: m.exp,
      options: m.options,
    });
    const { kid, alg } = await this.deps.keyring.reserve(tx, m.exp * 1000);
    const record: MintRecord = {
      id: m.jti,
      runId: m.run.id,
      orgId: m.run.orgId,
      workspaceId: m.run.workspaceId,
      phase: m.phase,
      tag: m.tag,
      aud: m.aud,
      kid,
      iat: claims.iat as number,
      exp: m.exp,
      sub: claims.sub,
    };
    await tx.insert('mint', record);
    return { claims, kid, alg, record };
  }

  private async signMinted(minted: Minted): Promise<MintResult> {
    const token = await this.deps.keyring.sign(minted.kid, minted.alg, minted.claims);
    const r = minted.record;
    return { token, jti: r.id, kid: r.kid, aud: r.aud, sub: r.sub, tag: r.tag, phase: r.phase, exp: r.exp };
  }

  /**
   * Take or renew the agent's lease on a running phase: it lasts `leaseMs` from now. When it lapses
   * (the agent was killed), the lease reaper fails the phase and revokes the run.
   */
  async lease(p: Principal, runId: string, phaseRaw: string, raw: unknown): Promise<LeaseResult> {
    const phase = checkPhase('phase', phaseRaw);
    onlyFields(asBody(raw), []);
    const run = await this.change(p, runId, async (current) => {
      if (current.phases[phase].status !== 'running') throw new IssuerError('phase_not_open', 'phase');
      return this.leased(current, phase, this.deps.clock.now());
    });
    return this.leaseOf(run, phase);
  }

  /** The lease the run holds on its phase, as the agent reads it. */
  leaseOf(run: RunRecord, phase: RunPhase): LeaseResult {
    const leaseMs = this.deps.leaseMs;
    return {
      runId: run.id,
      phase,
      expiresAt: run.phases[phase].leaseExpiresAt ?? 0,
      leaseSeconds: leaseMs / 1000,
      renewEveryMs: Math.floor(leaseMs / 3),
    };
  }

  /** The run with its running phase's lease lasting `leaseMs` from `now`. */
  private leased(run: RunRecord, phase: RunPhase, now: number): RunRecord {
    const state = run.phases[phase];
    const leaseExpiresAt = now + this.deps.leaseMs;
    return { ...run, phases: { ...run.phases, [phase]: { ...state, leaseExpiresAt } } };
  }

  async mints(p: Principal, runId: string): Promise<MintRecord[]> {
    await this.get(p, runId);
    return this.deps.store.list('mint', { index: { name: 'run', value: runId } });
  }

  /**
   * Administrator's test token (`gatepass token mint`): a run opened for the purpose with the
   * phase running, then an ordinary mint, so it is recorded like any other.
   */
  async adminMint(p: Principal, raw: unknown): Promise<MintResult & { runId: string }> {
    const body = asBody(raw);
    onlyFields(body, ['organization', 'workspace', 'phase', 'tag', 'audience', 'lifetimeSeconds']);
    const phase = checkPhase('phase', body.phase ?? 'plan');
    const lifetime = optInt(body, 'lifetimeSeconds', 60, 7 * 86_400);
    const run = await this.open(p, { organization: body.organization, workspace: body.workspace, phase });
    if (lifetime !== undefined) {
      const state = run.phases[phase];
      const deadline = Math.min(state.deadline ?? 0, (state.startedAt ?? 0) + lifetime * 1000);
      await this.deps.store.update('run', {
        ...run,
        phases: { ...run.phases, [phase]: { ...state, deadline } },
      });
    }
    const mintBody: Record<string, unknown> = { phase };
    if (body.tag !== undefined) mintBody.tag = body.tag;
    if (body.audience !== undefined) mintBody.audience = body.audience;
    return { ...(await this.mint(p, run.id, mintBody)), runId: run.id };
  }

  private async change(
    p: Principal,
    runId: string,
    fn: (run: RunRecord) => Promise<RunRecord>,
    /** Written in the same transaction as the change (an audit record). */
    also?: (tx: StoreOps, run: RunRecord) => Promise<void>,
  ): Promise<RunRecord> {
    await this.get(p, runId);
    return this.deps.keyring.retrying(async (tx) => {
      const current = await tx.getVersioned('run', runId);
      if (!current) throw new IssuerError('not_found', 'run');
      if (current.record.status !== 'open') throw new IssuerError('run_closed', 'run');
      const next = await fn(current.record);
      await tx.update('run', next, current.rev);
      await also?.(tx, next);
      return next;
    });
  }
}

/**
 * Start a phase: its deadline (and so every token's `exp`) is the workspace's timeout for the phase,
 * capped by the organization's maximum. Plan cannot start once apply has; a phase starts once.
 */
export function startPhase(
  run: RunRecord,
  phase: RunPhase,
  now: number,
  org: OrganizationRecord,
  ws: WorkspaceRecord,
): RunRecord {
  if (run.status !== 'open') throw new IssuerError('run_closed', 'run');
  const state = run.phases[phase];
  if (state.status !== 'pending') throw new IssuerError('phase_order', 'phase');
  if (phase === 'plan' && run.phases.apply.status !== 'pending')
    throw new IssuerError('phase_order', 'phase');
  if (phase === 'apply' && run.phases.plan.status === 'running')
    throw new IssuerError('phase_order', 'phase');
  const timeout = Math.min(
    phase === 'plan' ? ws.planTimeoutSeconds : ws.applyTimeoutSeconds,
    org.maxPhaseTimeoutSeconds,
  );
  return {
    ...run,
    phases: { ...run.phases, [phase]: { status: 'running', startedAt: now, deadline: now + timeout * 1000 } },
  };
}

const REVOCATION_METHODS = ['RevokeRun', 'DenyList', 'none'] as const;

/** The agent's revocation report on a finished phase: `{ method, detail }`, or nothing. */
function revocationReport(
  v: unknown,
): { method: (typeof REVOCATION_METHODS)[number]; detail: string } | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidField('revocation', 'must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'method' && k !== 'detail') throw invalidField(`revocation.${k}`, 'unknown field');
  const method = REVOCATION_METHODS.find((m) => m === o.method);
  if (!method) throw invalidField('revocation.method', 'must be "RevokeRun", "DenyList" or "none"');
  if (typeof o.detail !== 'string' || o.detail.length > 1000)
    throw invalidField('revocation.detail', 'must be a string of at most 1000 characters');
  return { method, detail: o.detail };
}
