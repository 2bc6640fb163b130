// Audit rows: a few extracted columns to filter on, the whole event as JSON. Shared by both engines.
import { type AuditEvent, type AuditQuery, MAX_AUDIT_PAGE } from '../records/audit.js';

export const AUDIT_COLUMNS = [
  'time',
  'request_id',
  'action',
  'decision',
  'run_id',
  'workspace_id',
  'role_arn',
  'session_id',
  'doc',
] as const;

export type AuditRow = [
  number,
  string,
  string,
  string,
  string | null,
  string | null,
  string | null,
  string | null,
  string,
];

export function auditRow(event: AuditEvent): AuditRow {
  // The store assigns seq: never part of the document (copied only when a caller set it).
  let doc: AuditEvent = event;
  if (event.seq !== undefined) {
    const { seq: _seq, ...rest } = event;
    doc = rest;
  }
  return [
    event.time,
    event.requestId,
    event.action,
    event.decision,
    event.runId ?? null,
    event.workspaceId ?? null,
    event.roleArn ?? null,
    event.sessionId ?? null,
    JSON.stringify(doc),
  ];
}

/** WHERE clause and parameters for a query; `param(n)` renders the n-th (1-based) placeholder. */
export function auditWhere(
  query: AuditQuery,
  param: (n: number) => string,
): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, op: string, value: unknown): void => {
    params.push(value);
    clauses.push(`${column} ${op} ${param(params.length)}`);
  };
  if (query.runId !== undefined) add('run_id', '=', query.runId);
  if (query.workspaceId !== undefined) add('workspace_id', '=', query.workspaceId);
  if (query.roleArn !== undefined) add('role_arn', '=', query.roleArn);
  if (query.sessionId !== undefined) add('session_id', '=', query.sessionId);
  if (query.requestId !== undefined) add('request_id', '=', query.requestId);
  if (query.action !== undefined) add('action', '=', query.action);
  if (query.decision !== undefined) add('decision', '=', query.decision);
  if (query.since !== undefined) add('time', '>=', query.since);
  if (query.until !== undefined) add('time', '<', query.until);
  if (query.afterSeq !== undefined) add('seq', '>', query.afterSeq);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export function auditLimit(query: AuditQuery): number {
  return Math.max(0, Math.min(query.limit ?? MAX_AUDIT_PAGE, MAX_AUDIT_PAGE));
}

/** The SELECT for a query, oldest first; `latest` takes the page from the newest end. */
export function auditSelect(
  query: AuditQuery,
  param: (n: number) => string,
): { sql: string; params: unknown[] } {
  const { sql: where, params } = auditWhere(query, param);
  params.push(auditLimit(query));
  const limit = param(params.length);
  const sql = query.latest
    ? `SELECT seq, doc FROM (SELECT seq, doc FROM audit ${where} ORDER BY seq DESC LIMIT ${limit}) AS page ORDER BY seq`
    : `SELECT seq, doc FROM audit ${where} ORDER BY seq LIMIT ${limit}`;
  return { sql, params };
}

/**
 * Delete up to `limit` of the oldest events recorded before a time: `$1`/`?` the time (epoch ms),
 * `$2`/`?` the limit. Bounded, so a first prune of a large log never holds the write lock for long.
 */
export function auditPruneSql(param: (n: number) => string): string {
  return `DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE time < ${param(1)} ORDER BY time LIMIT ${param(2)})`;
}

export function decodeAudit(seq: number | string | bigint, doc: string): AuditEvent {
  return { ...(JSON.parse(doc) as AuditEvent), seq: Number(seq) };
}
