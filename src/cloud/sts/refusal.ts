// The audit record of a refused STS call: by the endpoint for a call refused before its action ran
// (parameter errors, SigV4 failures of any action: an unauthenticated caller is nobody's IAM call,
// ended or revoked sessions), and by an action's own builder for its refusals (limits, bad tags). A refused credential is named (access key id, session, role, account,
// run, phase, jti) as far as its token opened, with why it was refused. Only what the server
// established: never the token, the signature or a secret. The one exception is labelled: a web
// identity token refused before any policy decision keeps a few of its claims as
// `unverifiedClaims`, so `gatepass explain` can say what to fix.
import { parseArn } from '../../core/arn.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { Caller } from '../caller/caller.js';
import { presentedCaller, refusalOf, refusalStory } from '../caller/refusal.js';
import type { RefusalInfo } from '../endpoint/aws-endpoint.js';

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
  return refusedCallEvent(info, error, isSts, now);
}

/**
 * The record of a refused call to an STS action, as the endpoint records one, for the action's own
 * builder: as it is for a refusal without a policy decision (a bad tag, a limit), the base of a
 * denial's record otherwise.
 */
export function stsRefusalEvent(
  action: string,
  error: { code: string; message: string },
  meta: { now: number; requestId: string; sourceIp?: string; userAgent?: string },
  caller?: Caller,
): AuditEvent {
  const info: RefusalInfo = { requestId: meta.requestId, action, error, sourceIp: meta.sourceIp ?? '' };
  if (meta.userAgent) info.userAgent = meta.userAgent;
  if (caller) info.caller = caller;
  return refusedCallEvent(info, error, true, meta.now);
}

function refusedCallEvent(
  info: RefusalInfo,
  error: { code: string; message: string },
  isSts: boolean,
  now: number,
): AuditEvent {
  const action = info.action;
  // JSON-protocol actions arrive qualified (`organizations:ListRoots`).
  const named = action?.includes(':') ? action.slice(0, 160) : undefined;
  // Who: the verified caller, else what the refused credential named (its token opened, or only
  // its key id); why: the refusal's own story.
  const refused = refusalOf(error);
  const who = info.caller ? presentedCaller(info.caller) : refused?.presented;
  const event: AuditEvent = {
    time: now,
    requestId: info.requestId,
    action:
      named ?? (action === undefined ? 'sts:unknown' : `${isSts ? 'sts' : 'iam'}:${action.slice(0, 128)}`),
    decision: 'deny',
    reasonCode: error.code,
    sourceIp: info.sourceIp,
    ...(info.userAgent ? { userAgent: info.userAgent } : {}),
    detail: {
      message: error.message.slice(0, 512),
      ...(refused ? { refusal: refused.why, explanation: refusalStory(refused.why, refused.presented) } : {}),
    },
  };
  if (who) {
    event.accessKeyId = who.accessKeyId;
    if (who.arn !== undefined) event.caller = who.arn;
    if (who.accountId !== undefined) event.accountId = who.accountId;
    if (who.roleArn !== undefined) event.roleArn = who.roleArn;
    if (who.sessionId !== undefined) event.sessionId = who.sessionId;
    if (who.runId !== undefined) event.runId = who.runId;
    if (who.phase !== undefined) event.phase = who.phase;
    if (who.jti !== undefined) event.jti = who.jti;
  }
  return event;
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
  /** Operator-only detail of the error (e.g. `removedKid` for a key this deployment removed). */
  detail?: Record<string, unknown> | undefined;
}

/** The `kid` a token's header names, unverified (a key id is public). */
function headerKid(token: string): string | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    const kid = v && typeof v === 'object' ? (v as Record<string, unknown>).kid : undefined;
    return typeof kid === 'string' ? kid.slice(0, 128) : undefined;
  } catch {
    return undefined;
  }
}

export function tokenFailureEvent(
  failure: FailureInput,
  input: { roleArn: string; webIdentityToken: string },
  meta: { now: number; requestId: string; sourceIp?: string; userAgent?: string },
  /** The token's claims when the handler already decoded them (read again from the token otherwise). */
  decoded?: Record<string, unknown>,
): AuditEvent {
  const claims = decoded ?? peekClaims(input.webIdentityToken);
  const kept: Record<string, unknown> = {};
  for (const k of KEPT) {
    const v = claims[k];
    if (typeof v === 'string' || typeof v === 'number') kept[k] = typeof v === 'string' ? v.slice(0, 512) : v;
    else if (Array.isArray(v)) kept[k] = v.filter((x) => typeof x === 'string').slice(0, 10);
  }
  const account = parseArn(input.roleArn)?.account;
  const kid = headerKid(input.webIdentityToken);
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
    detail: {
      message: failure.message,
      unverifiedClaims: kept,
      ...(kid !== undefined ? { kid } : {}),
      ...(typeof failure.detail?.removedKid === 'string' ? { removedKid: failure.detail.removedKid } : {}),
    },
  };
}
