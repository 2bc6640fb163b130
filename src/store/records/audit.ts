// Audit events: one per issuance, denial, admin change and run lifecycle step. Never a token or a
// secret: a token is identified by its `jti`, a credential by its access key id.

export type AuditDecision = 'allow' | 'deny' | 'error' | 'info';

export interface AuditEvent {
  /** Assigned by the store, increasing. */
  seq?: number;
  time: number;
  requestId: string;
  /** e.g. `sts:AssumeRoleWithWebIdentity`, `iam:CreateRole`, `issuer:mint`, `run:close`. */
  action: string;
  decision: AuditDecision;
  /** Catalog error code for denials (`AccessDenied`, `InvalidIdentityToken`, …). */
  reasonCode?: string;
  caller?: string;
  /** The ARN a management write created, changed or deleted (see cloud/audit/write-audit.ts). */
  resource?: string;
  roleArn?: string;
  sessionId?: string;
  accessKeyId?: string;
  accountId?: string;
  sub?: string;
  aud?: string;
  jti?: string;
  runId?: string;
  /** The run phase (`plan`, `apply`) of the token or session, when known. */
  phase?: string;
  workspaceId?: string;
  sourceIp?: string;
  userAgent?: string;
  /** Structured detail: the policy engine's trace for denials, counts, names. */
  detail?: Record<string, unknown>;
}

/** The most audit events one query returns. */
export const MAX_AUDIT_PAGE = 1000;

export interface AuditQuery {
  runId?: string;
  workspaceId?: string;
  roleArn?: string;
  sessionId?: string;
  requestId?: string;
  action?: string;
  decision?: AuditDecision;
  since?: number;
  until?: number;
  /** Return events with seq greater than this. */
  afterSeq?: number;
  limit?: number;
  /** The last `limit` matching events instead of the first (still returned oldest first). */
  latest?: boolean;
}
