// The signed STS reads: GetCallerIdentity (always allowed, even under an explicit deny),
// GetAccessKeyInfo and DecodeAuthorizationMessage. A read leaves no audit event, as IAM's reads do;
// a refused one leaves exactly one, from `signedRead` (with the decision's trace when the policy
// engine refused it).
import type { Decision } from '../../core/policy/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import { awsError } from '../../core/query/errors.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { RequestMeta } from '../authz/authorizer.js';
import { type Caller, callerUserId } from '../caller/caller.js';
import { accessDenied } from './common.js';
import type { StsDeps } from './deps.js';
import { stsRefusalEvent } from './refusal.js';
import { asRefusal, Refusal, recordOutcome } from './steps.js';

export function getCallerIdentity(caller: Caller): { arn: string; userId: string; account: string } {
  return { arn: caller.arn, userId: callerUserId(caller), account: caller.accountId };
}

/**
 * GetAccessKeyInfo: the account an access key belongs to, the first question about a leaked key.
 * Long-term keys (AKIA) are looked up; a session key (ASIA) is sealed with its token and known only
 * to its own holder, so another caller's is answered as unknown rather than guessed.
 */
export const getAccessKeyInfo = (
  deps: StsDeps,
  caller: Caller,
  accessKeyId: string,
  meta: RequestMeta & { requestId: string },
): Promise<string> =>
  signedRead(deps, caller, 'GetAccessKeyInfo', meta, async () => {
    if (accessKeyId === caller.accessKeyId) return caller.accountId;
    const key = accessKeyId.startsWith('AKIA') ? await deps.store.get('accessKey', accessKeyId) : undefined;
    if (!key) throw awsError('accessKeyUnknown', accessKeyId.slice(0, 128));
    return key.accountId;
  });

export const decodeAuthorizationMessage = (
  deps: StsDeps,
  caller: Caller,
  encoded: string,
  meta: RequestMeta & { requestId: string },
): Promise<string> =>
  signedRead(deps, caller, 'DecodeAuthorizationMessage', meta, async () => {
    const message = deps.openMessage(encoded);
    if (!message) throw awsError('authorizationMessageInvalid');
    return JSON.stringify(message);
  });

/**
 * A signed read in two steps, authorize → read; a refusal is recorded (awaited, its failure
 * logged by the audit log) and answered, a result is answered unrecorded.
 */
async function signedRead<T>(
  deps: StsDeps,
  caller: Caller,
  name: string,
  meta: RequestMeta & { requestId: string },
  read: () => Promise<T>,
): Promise<T> {
  const action = `sts:${name}`;
  // Plain reads, no transaction: nothing here writes.
  const decision = await deps.authorizer.authorize(deps.store, caller, action, '*', meta);
  const outcome =
    decision.effect === 'Allow'
      ? await read().catch(asRefusal)
      : new Refusal(
          accessDenied(deps, awsError('stsActionDenied', caller.arn, action), decision, meta.requestId),
        );
  if (!(outcome instanceof Refusal)) return outcome;
  return recordOutcome<T>(deps, outcome, refusedReadEvent(name, outcome, decision, caller, meta));
}

/** The refusal as the endpoint records one, plus the policy decision's trace when it was a denial. */
function refusedReadEvent(
  name: string,
  refusal: Refusal,
  decision: Decision,
  caller: Caller,
  meta: RequestMeta & { requestId: string },
): AuditEvent {
  const event = stsRefusalEvent(name, refusal.error, meta, caller);
  if (decision.effect !== 'Allow')
    event.detail = { ...event.detail, deniedAction: `sts:${name}`, trace: storedTrace(decision) };
  return event;
}
