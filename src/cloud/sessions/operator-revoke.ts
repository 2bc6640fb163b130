// An operator's revocation (`gatepass revoke`, POST /api/v1/revocations): one session, a run or one
// of its phases, or a role's sessions issued before a time. The input is checked and turned into the
// revocation record and its audit event here, once, for the CLI's store mode and the admin API alike.
import type { AuditEvent } from '../../store/records/audit.js';
import { ANY_ISSUER, type RevocationRecord } from '../../store/records/sessions.js';
import { revocationRecord, runRevocationRecord } from './revocations.js';

/** A run's tokens may live up to a week (the longest phase deadline): its revocation outlives them. */
const WEEK_MS = 7 * 86_400_000;
const DEFAULT_REASON = 'revoked by operator';

export type OperatorScope = 'session' | 'run' | 'role';

const SUBJECTS: Record<OperatorScope, { re: RegExp; what: string }> = {
  session: {
    re: /^(ASIA[A-Z2-7]{16}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
    what: 'an ASIA… access key id or a session id',
  },
  run: { re: /^[\w.:-]{1,128}$/, what: 'a run id such as run-…' },
  role: { re: /^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, what: 'a role ARN' },
};

export interface OperatorRevokeInput {
  scope: string;
  subject: string;
  /** Role only: ISO 8601 time or epoch ms (default now). */
  before?: string;
  /** Run only: the issuer (tokens' iss); absent means the run id under every issuer. */
  issuer?: string;
  /** Run only: plan or apply. */
  phase?: string;
  reason?: string;
}

/** Bad input, naming the field and a fixed reason (the input itself is never echoed). */
export class RevokeInputError extends Error {
  override readonly name = 'RevokeInputError';
  constructor(
    readonly field: 'scope' | 'subject' | 'before' | 'issuer' | 'phase' | 'reason',
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export interface OperatorRevocation {
  scope: OperatorScope;
  subject: string;
  /** ANY_ISSUER for a run under every issuer; undefined for other scopes. */
  issuer?: string;
  phase?: 'plan' | 'apply';
  reason: string;
  record: RevocationRecord;
}

/** An issuer URL as tokens carry it in `iss`: https, no trailing slash, no spaces. */
function checkIssuer(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || /\s/.test(text) || text.endsWith('/') || text.length > 2048)
    throw new RevokeInputError('issuer', "expected the https URL of the issuer, as in its tokens' iss claim");
  return text;
}

function checkTime(text: string): number {
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new RevokeInputError('before', 'expected an ISO 8601 time or epoch ms');
  return ms;
}

export function operatorRevocation(input: OperatorRevokeInput, now: number): OperatorRevocation {
  const { scope, subject } = input;
  if (scope !== 'session' && scope !== 'run' && scope !== 'role')
    throw new RevokeInputError('scope', 'expected session, run or role');
  const rule = SUBJECTS[scope];
  if (!rule.re.test(subject)) throw new RevokeInputError('subject', `expected ${rule.what}`);
  if (input.before !== undefined && scope !== 'role')
    throw new RevokeInputError('before', 'applies to role only');
  if (input.issuer !== undefined && scope !== 'run')
    throw new RevokeInputError('issuer', 'applies to run only');
  if (input.phase !== undefined && scope !== 'run')
    throw new RevokeInputError('phase', 'applies to run only');
  if (input.phase !== undefined && input.phase !== 'plan' && input.phase !== 'apply')
    throw new RevokeInputError('phase', 'expected plan or apply');
  const phase = input.phase as 'plan' | 'apply' | undefined;
  const reason = (input.reason ?? DEFAULT_REASON).slice(0, 256);
  if (scope === 'run') {
    const issuer = input.issuer !== undefined ? checkIssuer(input.issuer) : ANY_ISSUER;
    const record = runRevocationRecord(
      { issuer, runId: subject, ...(phase !== undefined ? { phase } : {}) },
      now,
      reason,
      now + WEEK_MS,
    );
    return { scope, subject, issuer, ...(phase !== undefined ? { phase } : {}), reason, record };
  }
  const before = input.before !== undefined ? checkTime(input.before) : undefined;
  return { scope, subject, reason, record: revocationRecord(scope, subject, now, reason, before) };
}

/** The audit event that records the revocation (`caller`: who asked, when known). */
export function revocationEvent(r: OperatorRevocation, requestId: string, caller?: string): AuditEvent {
  const action =
    r.scope === 'session'
      ? 'sts:RevokeSession'
      : r.scope === 'run'
        ? 'sts:RevokeRun'
        : 'sts:RevokeRoleSessions';
  return {
    time: r.record.createdAt,
    requestId,
    action,
    decision: 'info',
    ...(caller !== undefined ? { caller } : {}),
    ...(r.scope === 'run' ? { runId: r.subject } : {}),
    ...(r.scope === 'role' ? { roleArn: r.subject } : {}),
    ...(r.scope === 'session'
      ? r.subject.startsWith('ASIA')
        ? { accessKeyId: r.subject }
        : { sessionId: r.subject }
      : {}),
    detail: {
      reason: r.reason,
      ...(r.scope === 'run'
        ? { issuer: r.issuer, ...(r.phase !== undefined ? { phase: r.phase } : {}) }
        : {}),
      ...(r.record.issuedBefore !== undefined ? { issuedBefore: r.record.issuedBefore } : {}),
    },
  };
}

/** One line for the operator: what was revoked. */
export function describeRevocation(r: OperatorRevocation): string {
  const until =
    r.record.issuedBefore !== undefined
      ? ` (sessions issued before ${new Date(r.record.issuedBefore).toISOString()})`
      : '';
  const which =
    r.scope === 'run'
      ? `${r.phase !== undefined ? ` (${r.phase} phase)` : ''}${r.issuer === ANY_ISSUER ? ' under every issuer' : ` of issuer ${r.issuer}`}`
      : '';
  return `revoked ${r.scope} ${r.subject}${which}${until}`;
}
