// The audit filters shared by `gatepass audit` and GET /api/v1/audit: one name per filter, times as
// ISO 8601, epoch milliseconds or an age such as 15m, 2h or 7d.
import { type AuditDecision, type AuditQuery, MAX_AUDIT_PAGE } from '../../store/records/audit.js';

export class AuditFilterError extends Error {
  override readonly name = 'AuditFilterError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export const AUDIT_FILTERS = [
  'run',
  'workspace',
  'role',
  'session',
  'request',
  'action',
  'decision',
  'since',
  'until',
  'after',
  'limit',
] as const;
export type AuditFilters = Partial<Record<(typeof AUDIT_FILTERS)[number], string>>;

const DECISIONS: readonly AuditDecision[] = ['allow', 'deny', 'error', 'info'];
const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTime(field: string, raw: string, now: number): number {
  const age = /^(\d{1,9})([smhd])$/.exec(raw);
  if (age) return now - Number(age[1]) * (UNITS[age[2] ?? 's'] ?? 1000);
  if (/^\d{1,15}$/.test(raw)) return Number(raw);
  const t = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t))
    throw new AuditFilterError(
      field,
      'expected an ISO 8601 time, epoch milliseconds or an age like 15m, 2h, 7d',
    );
  return t;
}

function int(field: string, raw: string, min: number, max: number): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new AuditFilterError(field, `expected a whole number from ${min} to ${max}`);
  return Number(raw);
}

function text(field: string, raw: string): string {
  if (raw.length === 0 || raw.length > 2048)
    throw new AuditFilterError(field, 'expected 1 to 2048 characters');
  return raw;
}

/** Filters → a store query; unknown or malformed filters throw AuditFilterError naming the field. */
export function auditQuery(f: AuditFilters, now: number): AuditQuery {
  const q: AuditQuery = {};
  if (f.run !== undefined) q.runId = text('run', f.run);
  if (f.workspace !== undefined) q.workspaceId = text('workspace', f.workspace);
  if (f.role !== undefined) q.roleArn = text('role', f.role);
  if (f.session !== undefined) q.sessionId = text('session', f.session);
  if (f.request !== undefined) q.requestId = text('request', f.request);
  if (f.action !== undefined) q.action = text('action', f.action);
  if (f.decision !== undefined) {
    if (!(DECISIONS as readonly string[]).includes(f.decision))
      throw new AuditFilterError('decision', `expected one of ${DECISIONS.join(', ')}`);
    q.decision = f.decision as AuditDecision;
  }
  if (f.since !== undefined) q.since = parseTime('since', f.since, now);
  if (f.until !== undefined) q.until = parseTime('until', f.until, now);
  if (f.after !== undefined) q.afterSeq = int('after', f.after, 0, Number.MAX_SAFE_INTEGER);
  q.limit = f.limit !== undefined ? int('limit', f.limit, 1, MAX_AUDIT_PAGE) : 100;
  // Like `tail`: the most recent matching events, unless paging forward from a sequence number.
  if (q.afterSeq === undefined) q.latest = true;
  return q;
}

/** URL search parameters → filters, refusing names that are not filters. */
export function filtersFromParams(params: URLSearchParams): AuditFilters {
  const out: AuditFilters = {};
  for (const [k, v] of params) {
    if (!(AUDIT_FILTERS as readonly string[]).includes(k))
      throw new AuditFilterError(k.slice(0, 64), 'unknown filter');
    out[k as keyof AuditFilters] = v;
  }
  return out;
}
