// The lease reaper: a `gatepass run` agent renews its lease on the running phase; when the lease
// lapses (the agent was killed, or lost the issuer for a whole lease), the phase fails, the run
// closes and the run is revoked: a revocation row in the store (every cloud node of this deployment
// applies it from the change feed), then RevokeRun at the STS endpoints the workspace names, for a
// cloud side on another deployment. Every node runs a reaper; a versioned update lets one win.
import type { Clock } from '../core/deps.js';
import { privateTransport } from '../core/private-transport.js';
import type { Logger } from '../http/log.js';
import type { RunPhase, RunRecord } from '../store/records/platform.js';
import { runRevocationRecord } from '../store/records/sessions.js';
import type { Store } from '../store/types.js';
import type { Platform } from './platform.js';
import { PHASES, type Runs } from './runs.js';

export interface LeaseReaperDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  runs: Runs;
  platform: Platform;
  /** `iss` of this issuer's tokens: the run's revocation is keyed by it. */
  issuer: string;
  /**
   * RevokeRun at another deployment's STS with a token of the run (injected: the issuer does no
   * AWS protocol itself). Absent: only this deployment's store is written.
   */
  revokeAt?: (endpoint: string, token: string) => Promise<void>;
  /**
   * Deny the lapsed run's sessions where the STS has no RevokeRun (AWS's): injected, as `revokeAt`.
   * Returns how it went, or undefined when the workspace names no deny list.
   */
  denyAt?: (run: LapsedRunDeny) => Promise<{ method: string; detail: string } | undefined>;
}

/** What the deny-list writer gets for a lapsed run. */
export interface LapsedRunDeny {
  runId: string;
  /** The workspace's effective variables (where the deny list is and who writes it). */
  variables: ReadonlyMap<string, string | null>;
  /** The phase's deadline (epoch ms): its tokens' `exp`, so the entry must outlive their sessions. */
  deadline: number;
  /** A token of the run for the revoker role (never the run's session audience). */
  mint(audience: string): Promise<string>;
}

export interface LapsedPhase {
  runId: string;
  phase: RunPhase;
}

/** Workspace variables that name the STS a run's sessions come from. */
const STS_ENDPOINT_VAR = /^GATEPASS_AWS_STS_ENDPOINT(_\w+)?$/;

export class LeaseReaper {
  constructor(private readonly deps: LeaseReaperDeps) {}

  /** Lapse every phase whose lease has expired; returns them. */
  async tick(): Promise<LapsedPhase[]> {
    const now = this.deps.clock.now();
    const lapsed: LapsedPhase[] = [];
    const leased = await this.deps.store.list('run', { index: { name: 'leased', value: 'leased' } });
    for (const run of leased) {
      for (const phase of PHASES) {
        const state = run.phases[phase];
        if (state.status !== 'running' || state.leaseExpiresAt === undefined || state.leaseExpiresAt > now)
          continue;
        const closed = await this.lapse(run.id, phase, now).catch((err: unknown) => {
          // Another node lapsed it first (a stale update), or the store is unavailable: next tick.
          this.deps.log.log('debug', 'lease lapse skipped', { runId: run.id, err });
          return undefined;
        });
        if (!closed) continue;
        lapsed.push({ runId: run.id, phase });
        await this.revokeElsewhere(closed, phase);
        await this.denyElsewhere(closed, phase, state.deadline ?? now);
      }
    }
    return lapsed;
  }

  /** Fail the phase, close the run and store its revocation, in one transaction. */
  private lapse(runId: string, phase: RunPhase, now: number): Promise<RunRecord | undefined> {
    return this.deps.store.transaction(async (tx) => {
      const current = await tx.getVersioned('run', runId);
      const run = current?.record;
      const state = run?.phases[phase];
      if (!current || !run || !state || run.status !== 'open' || state.status !== 'running') return undefined;
      if (state.leaseExpiresAt === undefined || state.leaseExpiresAt > now) return undefined;
      const { leaseExpiresAt: _lease, ...rest } = state;
      const next: RunRecord = {
        ...run,
        status: 'failed',
        closedAt: now,
        phases: { ...run.phases, [phase]: { ...rest, status: 'failed', finishedAt: now, lapsed: true } },
      };
      await tx.update('run', next, current.rev);
      const reason = `${phase} phase agent lease lapsed`;
      // The revocation outlives every token of the phase (its deadline is their exp).
      await tx.put(
        'revocation',
        runRevocationRecord({ issuer: this.deps.issuer, runId }, now, reason, state.deadline ?? now),
      );
      await tx.appendAudit([
        {
          time: now,
          requestId: `lease-${runId}-${phase}`,
          action: 'sts:RevokeRun',
          decision: 'info',
          runId,
          workspaceId: run.workspaceId,
          detail: { issuer: this.deps.issuer, phase, reason },
        },
      ]);
      this.deps.log.log('warn', 'run phase lease lapsed: phase failed and run revoked', { runId, phase });
      return next;
    });
  }

  /** The run on the workspace's deny list (AWS's STS has no RevokeRun); the outcome is audited. */
  private async denyElsewhere(run: RunRecord, phase: RunPhase, deadline: number): Promise<void> {
    const denyAt = this.deps.denyAt;
    if (!denyAt) return;
    const effective = await this.deps.platform.effectiveVariables(
      await this.deps.platform.getWorkspace(run.workspaceId),
    );
    const variables = new Map<string, string | null>();
    for (const [key, v] of effective) variables.set(key, typeof v.value === 'string' ? v.value : null);
    const report = await denyAt({
      runId: run.id,
      variables,
      deadline,
      mint: async (audience) => (await this.deps.runs.revocationToken(run.id, phase, audience)).token,
    }).catch(() => ({ method: 'none', detail: 'the deny list could not be written' }));
    if (!report) return;
    this.deps.log.log(report.method === 'DenyList' ? 'info' : 'warn', 'lapsed run: deny list', {
      runId: run.id,
      phase,
      method: report.method,
      detail: report.detail,
    });
    await this.deps.store
      .transaction((tx) =>
        tx.appendAudit([
          {
            time: this.deps.clock.now(),
            requestId: `lease-deny-${run.id}-${phase}`,
            action: 'gatepass:ReportRevocation',
            decision: 'info',
            runId: run.id,
            workspaceId: run.workspaceId,
            detail: { phase, method: report.method, detail: report.detail, by: 'lease reaper' },
          },
        ]),
      )
      .catch((err: unknown) =>
        this.deps.log.log('warn', 'lapsed run: deny-list audit failed', { runId: run.id, err }),
      );
  }

  /** RevokeRun at each STS endpoint the run's workspace names (another deployment's cloud side). */
  private async revokeElsewhere(run: RunRecord, phase: RunPhase): Promise<void> {
    const revokeAt = this.deps.revokeAt;
    if (!revokeAt) return;
    const vars = await this.deps.platform.effectiveVariables(
      await this.deps.platform.getWorkspace(run.workspaceId),
    );
    const endpoints = new Set<string>();
    for (const [key, v] of vars) {
      if (!STS_ENDPOINT_VAR.test(key) || typeof v.value !== 'string' || v.value === '') continue;
      if (privateTransport(v.value)) endpoints.add(v.value);
      else
        this.deps.log.log(
          'warn',
          'remote RevokeRun skipped: the STS endpoint is neither https nor loopback',
          {
            runId: run.id,
            endpoint: v.value,
          },
        );
    }
    if (endpoints.size === 0) return;
    const { token } = await this.deps.runs.revocationToken(run.id, phase);
    for (const endpoint of endpoints) {
      await revokeAt(endpoint, token).catch((err: unknown) =>
        this.deps.log.log('warn', 'remote RevokeRun after a lapsed lease failed', {
          runId: run.id,
          endpoint,
          err,
        }),
      );
    }
  }
}
