// Runs and their phases (plan, apply), and minting: a run mints only for its own workspace, in a
// phase that is running and before that phase's deadline; a closed run mints nothing. Every mint
// is recorded (jti, run, configuration tag, aud, exp, kid; never the token).
import type { Clock, Random } from '../core/deps.js';
import { hcpId } from '../core/ids.js';
import type {
  MintRecord,
  OrganizationRecord,
  PhaseState,
  RunPhase,
  RunRecord,
  WorkspaceRecord,
} from '../store/records/platform.js';
import type { Store } from '../store/types.js';
import { agentMayUse, type Principal } from './auth.js';
import { buildClaims, DEFAULT_AUDIENCE, effectiveTokenOptions } from './claims.js';
import { IssuerError, invalidField } from './errors.js';
import { asBody, onlyFields, optInt, optString } from './input.js';
import type { Keyring } from './keyring.js';
import { checkAudience, checkConfigTag } from './names.js';
import type { Platform } from './platform.js';
import { resolveConfigVar } from './variables.js';

export const PHASES: readonly RunPhase[] = ['plan', 'apply'];

export interface RunsDeps {
  store: Store;
  clock: Clock;
  random: Random;
  keyring: Keyring;
  platform: Platform;
  /** `iss` of every token: exact, no trailing slash. */
  issuer: string;
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

function checkPhase(field: string, value: unknown): RunPhase {
  if (value !== 'plan' && value !== 'apply') throw invalidField(field, 'must be "plan" or "apply"');
  return value;
}

const pending = (): PhaseState => ({ status: 'pending' });

export class Runs {
  constructor(private readonly deps: RunsDeps) {}

  /** Open a run on a workspace of the caller's organization; optionally start a phase at once. */
  async open(p: Principal, raw: unknown): Promise<RunRecord> {
    const body = asBody(raw);
    onlyFields(body, ['workspace', 'organization', 'phase']);
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
    if (body.phase !== undefined) run = startPhase(run, checkPhase('phase', body.phase), now, org, ws);
    await this.deps.store.insert('run', run);
    return run;
  }

  async get(p: Principal, runId: string): Promise<RunRecord> {
    const run = await this.deps.store.get('run', runId);
    if (!run) throw new IssuerError('not_found', 'run');
    if (!agentMayUse(p, run.orgId, run.workspaceId)) throw new IssuerError('forbidden', 'run');
    return run;
  }

  async start(p: Principal, runId: string, phaseRaw: string): Promise<RunRecord> {
    const phase = checkPhase('phase', phaseRaw);
    // Read outside the transaction: the change function may only use the transaction's handle.
    const run = await this.get(p, runId);
    const ws = await this.deps.platform.getWorkspace(run.workspaceId);
    const org = await this.deps.platform.getOrg(run.orgId);
    return this.change(p, runId, async (current) =>
      startPhase(current, phase, this.deps.clock.now(), org, ws),
    );
  }

  async finish(p: Principal, runId: string, phaseRaw: string, raw: unknown): Promise<RunRecord> {
    const phase = checkPhase('phase', phaseRaw);
    const body = asBody(raw);
    onlyFields(body, ['status']);
    const status = body.status;
    if (status !== 'succeeded' && status !== 'failed')
      throw invalidField('status', 'must be "succeeded" or "failed"');
    return this.change(p, runId, async (run) => {
      const state = run.phases[phase];
      if (state.status !== 'running') throw new IssuerError('phase_order', 'phase');
      const now = this.deps.clock.now();
      const next: RunRecord = {
        ...run,
        phases: { ...run.phases, [phase]: { ...state, status, finishedAt: now } },
      };
      // A failed phase or a finished apply ends the run.
      if (status === 'failed' || phase === 'apply') {
        next.status = status;
        next.closedAt = now;
      }
      return next;
    });
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
    const body = asBody(raw);
    onlyFields(body, ['phase', 'tag', 'audience']);
    const tag = checkConfigTag('tag', body.tag);
    const explicitAud = body.audience === undefined ? undefined : checkAudience('audience', body.audience);
    const requested = body.phase === undefined ? undefined : checkPhase('phase', body.phase);
    const run = await this.get(p, runId);
    const ws = await this.deps.platform.getWorkspace(run.workspaceId);
    const org = await this.deps.platform.getOrg(run.orgId);
    const project = await this.deps.store.get('project', ws.projectId);
    if (!project) throw new IssuerError('not_found', 'project');
    const vars = await this.deps.platform.effectiveVariables(ws);
    const aud =
      explicitAud ??
      resolveConfigVar(vars, 'AWS_WORKLOAD_IDENTITY_AUDIENCE', tag) ??
      resolveConfigVar(vars, 'WORKLOAD_IDENTITY_AUDIENCE', tag) ??
      DEFAULT_AUDIENCE;
    checkAudience('audience', aud);

    await this.deps.keyring.maintain();
    const now = this.deps.clock.now();
    const jti = this.deps.random.uuid();
    const minted = await this.deps.keyring.retrying(async (tx) => {
      // Re-read inside the transaction: a cancel or finish that committed first wins.
      const current = await tx.get('run', runId);
      if (current?.status !== 'open') throw new IssuerError('run_closed', 'run');
      const phase = requested ?? PHASES.find((ph) => current.phases[ph].status === 'running');
      if (!phase) throw new IssuerError('phase_not_open', 'phase');
      const state = current.phases[phase];
      if (state.status !== 'running' || state.deadline === undefined || state.deadline <= now) {
        throw new IssuerError('phase_not_open', 'phase');
      }
      const exp = Math.floor(state.deadline / 1000);
      const claims = buildClaims({
        organization: org,
        project,
        workspace: ws,
        runId: current.id,
        phase,
        issuer: this.deps.issuer,
        audience: aud,
        jti,
        iat: Math.floor(now / 1000),
        exp,
        options: effectiveTokenOptions(org.tokenOptions, ws.tokenOptions),
      });
      const { kid, alg } = await this.deps.keyring.reserve(tx, exp * 1000);
      const record: MintRecord = {
        id: jti,
        runId: current.id,
        orgId: current.orgId,
        workspaceId: current.workspaceId,
        phase,
        tag,
        aud,
        kid,
        iat: claims.iat as number,
        exp,
        sub: claims.sub,
      };
      await tx.insert('mint', record);
      return { claims, kid, alg, record };
    });
    const token = await this.deps.keyring.sign(minted.kid, minted.alg, minted.claims);
    const r = minted.record;
    return { token, jti: r.id, kid: r.kid, aud: r.aud, sub: r.sub, tag: r.tag, phase: r.phase, exp: r.exp };
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
  ): Promise<RunRecord> {
    await this.get(p, runId);
    return this.deps.keyring.retrying(async (tx) => {
      const current = await tx.getVersioned('run', runId);
      if (!current) throw new IssuerError('not_found', 'run');
      if (current.record.status !== 'open') throw new IssuerError('run_closed', 'run');
      const next = await fn(current.record);
      await tx.update('run', next, current.rev);
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
