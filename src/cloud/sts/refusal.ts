// The audit record of a refused STS call that the action itself did not record: parameter errors,
// SigV4 failures (any action: an unauthenticated caller is nobody's IAM call), ended or revoked
// sessions, chaining limits. Only what the server established: never the token, the signature or
// a secret, and no claim of an unverified token.
import type { AwsError } from '../../core/query/errors.js';
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
]);

export function refusalEvent(
  info: RefusalInfo,
  error: AwsError,
  stsActions: ReadonlySet<string>,
  now: number,
): AuditEvent | undefined {
  const action = info.action;
  const isSts = action === undefined || stsActions.has(action);
  if (!isSts && !AUTHENTICATION.has(error.code)) return undefined;
  const caller = info.caller;
  return {
    time: now,
    requestId: info.requestId,
    action: action === undefined ? 'sts:unknown' : `${isSts ? 'sts' : 'iam'}:${action.slice(0, 128)}`,
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
