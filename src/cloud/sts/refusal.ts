// The audit record of a refused STS call that the action itself did not record: parameter errors,
// SigV4 failures (any action: an unauthenticated caller is nobody's IAM call), ended or revoked
// sessions, chaining limits. Only what the server established: never the token, the signature or
// a secret. The one exception is labelled: a web identity token refused before any policy decision
// keeps a few of its claims as `unverifiedClaims`, so `gatepass explain` can say what to fix.
import { parseArn } from '../../core/arn.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { RefusalInfo } from '../endpoint.js';

/** Codes that mean the request never authenticated, whichever action it named. */
const AUTHENTICATION = new Set([
  'MissingAuthenticationToken',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'ExpiredToken',
  'RequestExpired',
  'RequestTimeTooSkewed',
  // The JSON protocol's words for the same refusals.
  'MissingAuthenticationTokenException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'ExpiredTokenException',
]);

export function refusalEvent(
  info: RefusalInfo,
  error: { code: string; message: string },
  stsActions: ReadonlySet<string>,
  now: number,
): AuditEvent | undefined {
  const action = info.action;
  const isSts = action === undefined || stsActions.has(action);
  if (!isSts && !AUTHENTICATION.has(error.code)) return undefined;
  // JSON-protocol actions arrive qualified (`organizations:ListRoots`).
  const named = action?.includes(':') ? action.slice(0, 160) : undefined;
  const caller = info.caller;
  return {
    time: now,
    requestId: info.requestId,
    action:
      named ?? (action === undefined ? 'sts:unknown' : `${isSts ? 'sts' : 'iam'}:${action.slice(0, 128)}`),
    decision: 'deny',
    reasonCode: error.code,
    ...(caller ? { caller: caller.arn, accountId: caller.accountId } : {}),
    ...(caller?.kind === 'role-session'
      ? {
          roleArn: caller.roleArn,
          sessionId: caller.session.sid,
          ...(caller.session.runId ? { runId: caller.session.runId } : {}),
        }
      : {}),
    sourceIp: info.sourceIp,
    ...(info.userAgent ? { userAgent: info.userAgent } : {}),
    detail: { message: error.message.slice(0, 512) },
  };
}

/** Claims worth keeping to explain a failure; never the token, never its signature. */
const KEPT = ['iss', 'aud', 'sub', 'exp', 'iat', 'jti', 'terraform_run_id', 'terraform_workspace_id'];

/** Claims read without verification (undefined values for a malformed token). */
export function peekClaims(token: string): Record<string, unknown> {
  try {
    const part = token.split('.')[1] ?? '';
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface FailureInput {
  code: string;
  message: string;
}

export function tokenFailureEvent(
  failure: FailureInput,
  input: { roleArn: string; webIdentityToken: string },
  meta: { now: number; requestId: string; sourceIp?: string; userAgent?: string },
): AuditEvent {
  const claims = peekClaims(input.webIdentityToken);
  const kept: Record<string, unknown> = {};
  for (const k of KEPT) {
    const v = claims[k];
    if (typeof v === 'string' || typeof v === 'number') kept[k] = typeof v === 'string' ? v.slice(0, 512) : v;
    else if (Array.isArray(v)) kept[k] = v.filter((x) => typeof x === 'string').slice(0, 10);
  }
  const account = parseArn(input.roleArn)?.account;
  return {
    time: meta.now,
    requestId: meta.requestId,
    action: 'sts:AssumeRoleWithWebIdentity',
    decision: 'deny',
    reasonCode: failure.code,
    roleArn: input.roleArn.slice(0, 2048),
    ...(account ? { accountId: account } : {}),
    ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
    ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
    detail: { message: failure.message, unverifiedClaims: kept },
  };
}
