// A run's timeline for the operator UI, from what the node keeps: the run and its mint records (the
// issuer's), the audit events that name the run (sessions issued, chained, revoked, refused) and the
// revocations that cover it. Pure: the caller reads the store. Never a token or a secret: a token is
// its jti, a session its access key id.
import type { AuditEvent } from '../../store/records/audit.js';
import type { MintRecord, RunRecord } from '../../store/records/platform.js';
import type { RevocationRecord } from '../../store/records/sessions.js';

export interface TimelineToken {
  jti: string;
  phase: string;
  /** Configuration tag: '' is the default configuration, else the alias. */
  configuration: string;
  aud: string;
  issuedAt: number;
  expiresAt: number;
}

export interface TimelineSession {
  requestId: string;
  time: number;
  call: 'AssumeRoleWithWebIdentity' | 'AssumeRole';
  phase?: string;
  configuration?: string;
  roleArn?: string;
  accountId?: string;
  accessKeyId?: string;
  /** For a chained session, the session id of the session it was assumed from. */
  fromSessionId?: string;
  chainDepth?: number;
  jti?: string;
  /** When a revocation first covered it (ms), and by which. */
  revokedAt?: number;
  revokedBy?: string;
}

export interface TimelineRevocation {
  time: number;
  scope: string;
  phase?: string;
  reason: string;
}

export interface TimelineRefusal {
  requestId: string;
  time: number;
  action: string;
  reasonCode?: string;
  accessKeyId?: string;
  sessionId?: string;
  phase?: string;
  roleArn?: string;
  /** When the credential presented was revoked, from the refusal's own record. */
  revokedAt?: number;
  explanation?: string;
}

export interface RunTimeline {
  run: {
    id: string;
    organization: string;
    workspace: string;
    status: string;
    createdAt: number;
    closedAt?: number;
    phases: { phase: string; status: string; startedAt?: number; finishedAt?: number; lapsed?: boolean }[];
  };
  tokens: TimelineToken[];
  sessions: TimelineSession[];
  revocations: TimelineRevocation[];
  /** Requests made with the run's credentials after they were revoked. */
  afterRevocation: TimelineRefusal[];
  /** Other denials that name the run (wrong role, wrong phase, …). */
  denials: TimelineRefusal[];
}

const PHASE_OF_SUB = /:run_phase:([A-Za-z0-9_-]{1,32})$/;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The revocation that first covers a session of this phase and role issued at `time`. */
function coveredBy(
  revocations: readonly RevocationRecord[],
  s: { time: number; phase?: string; roleArn?: string },
): RevocationRecord | undefined {
  return revocations
    .filter(
      (r) =>
        r.createdAt >= s.time &&
        (r.scope === 'run' ||
          (r.scope === 'phase' && r.phase === s.phase) ||
          (r.scope === 'role' && r.subject === s.roleArn && (r.issuedBefore ?? Infinity) > s.time)),
    )
    .sort((a, b) => a.createdAt - b.createdAt)[0];
}

function refusal(e: AuditEvent): TimelineRefusal {
  const why = (e.detail?.refusal ?? {}) as Record<string, unknown>;
  const revokedAt = num(why.revokedAt);
  const explanation = str(e.detail?.explanation) ?? str(e.detail?.message);
  return {
    requestId: e.requestId,
    time: e.time,
    action: e.action,
    ...(e.reasonCode !== undefined ? { reasonCode: e.reasonCode } : {}),
    ...(e.accessKeyId !== undefined ? { accessKeyId: e.accessKeyId } : {}),
    ...(e.sessionId !== undefined ? { sessionId: e.sessionId } : {}),
    ...(e.phase !== undefined ? { phase: e.phase } : {}),
    ...(e.roleArn !== undefined ? { roleArn: e.roleArn } : {}),
    ...(revokedAt !== undefined ? { revokedAt } : {}),
    ...(explanation !== undefined ? { explanation } : {}),
  };
}

export function runTimeline(input: {
  run: RunRecord;
  organization: string;
  workspace: string;
  mints: readonly MintRecord[];
  events: readonly AuditEvent[];
  revocations: readonly RevocationRecord[];
}): RunTimeline {
  const { run, mints, events } = input;
  const revocations = input.revocations.filter((r) => r.runId === run.id || r.scope === 'role');
  const byJti = new Map(mints.map((m) => [m.id, m]));
  const tokens = [...mints]
    .sort((a, b) => a.iat - b.iat)
    .map((m) => ({
      jti: m.id,
      phase: m.phase,
      configuration: m.tag,
      aud: m.aud,
      issuedAt: m.iat * 1000,
      expiresAt: m.exp * 1000,
    }));

  const sessions: TimelineSession[] = [];
  for (const e of events) {
    if (e.decision !== 'allow') continue;
    if (e.action !== 'sts:AssumeRoleWithWebIdentity' && e.action !== 'sts:AssumeRole') continue;
    const mint = e.jti !== undefined ? byJti.get(e.jti) : undefined;
    const phase = e.phase ?? mint?.phase ?? PHASE_OF_SUB.exec(e.sub ?? '')?.[1];
    const chainDepth = num(e.detail?.chainDepth);
    const s: TimelineSession = {
      requestId: e.requestId,
      time: e.time,
      call: e.action === 'sts:AssumeRole' ? 'AssumeRole' : 'AssumeRoleWithWebIdentity',
      ...(phase !== undefined ? { phase } : {}),
      ...(mint ? { configuration: mint.tag } : {}),
      ...(e.roleArn !== undefined ? { roleArn: e.roleArn } : {}),
      ...(e.accountId !== undefined ? { accountId: e.accountId } : {}),
      ...(e.accessKeyId !== undefined ? { accessKeyId: e.accessKeyId } : {}),
      ...(e.action === 'sts:AssumeRole' && e.sessionId !== undefined ? { fromSessionId: e.sessionId } : {}),
      ...(chainDepth !== undefined ? { chainDepth } : {}),
      ...(e.jti !== undefined ? { jti: e.jti } : {}),
    };
    const r = coveredBy(revocations, s);
    if (r) {
      s.revokedAt = r.createdAt;
      s.revokedBy = r.phase !== undefined ? `${r.scope} ${r.phase}: ${r.reason}` : `${r.scope}: ${r.reason}`;
    }
    sessions.push(s);
  }

  const timelineRevocations = revocations
    .filter((r) => r.runId === run.id)
    .sort((a, b) => a.createdAt - b.createdAt)
    .map((r) => ({
      time: r.createdAt,
      scope: r.scope,
      ...(r.phase !== undefined ? { phase: r.phase } : {}),
      reason: r.reason,
    }));

  const refusals = events.filter((e) => e.decision === 'deny');
  const revokedKind = (e: AuditEvent): boolean =>
    (e.detail?.refusal as { kind?: unknown } | undefined)?.kind === 'revoked';
  return {
    run: {
      id: run.id,
      organization: input.organization,
      workspace: input.workspace,
      status: run.status,
      createdAt: run.createdAt,
      ...(run.closedAt !== undefined ? { closedAt: run.closedAt } : {}),
      phases: (['plan', 'apply'] as const).map((phase) => {
        const p = run.phases[phase];
        return {
          phase,
          status: p.status,
          ...(p.startedAt !== undefined ? { startedAt: p.startedAt } : {}),
          ...(p.finishedAt !== undefined ? { finishedAt: p.finishedAt } : {}),
          ...(p.lapsed ? { lapsed: true } : {}),
        };
      }),
    },
    tokens,
    sessions: sessions.sort((a, b) => a.time - b.time),
    revocations: timelineRevocations,
    afterRevocation: refusals.filter(revokedKind).map(refusal),
    denials: refusals.filter((e) => !revokedKind(e)).map(refusal),
  };
}
