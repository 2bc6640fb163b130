// Every successful management write is on the record, as CloudTrail records every management event:
// one `allow` audit event with the caller, the action, the ARN it changed, the request id and a
// digest of what changed. The event is appended in the write's own transaction, so the change and
// its record commit together or not at all: no change off the record, no record of a change that
// did not happen, and both durable before the response leaves.
//
// How a write action gets recorded, whatever its protocol:
// - Query protocol (IAM): nothing to do per action. `iamCall` (cloud/iam/common.ts) runs every IAM
//   action in one transaction, and a call that writes (its default; reads pass `writes = false`)
//   calls `recordWrite` with the request's form parameters after the change.
// - JSON protocol (Organizations) or any other: inside the transaction that makes the change, after
//   it, `await recordWrite(tx, { action: 'organizations:CreatePolicy', requestId, caller, target,
//   input, meta })` with the parsed JSON body as `input`.
// `test/cloud/write-audit.test.ts` fails when a registered IAM action that writes is not recorded.
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../../store/records/audit.js';
import type { StoreOps } from '../../store/types.js';
import type { RequestMeta } from '../authz/authorizer.js';
import type { Caller } from '../caller/caller.js';

export interface ManagementWrite {
  /** Service-prefixed, as IAM policies name it: `iam:UpdateAssumeRolePolicy`. */
  action: string;
  requestId: string;
  caller: Caller;
  /** The ARN the write was authorized against: the entity it created, changed or deleted. */
  target: string;
  /** The parameters as the client sent them: a Query form, or a JSON protocol's parsed body. */
  input: ReadonlyMap<string, string> | Readonly<Record<string, unknown>>;
  meta: Pick<RequestMeta, 'now' | 'sourceIp' | 'userAgent'>;
}

/** Protocol plumbing, not part of the change: the action itself and SigV4's presigned query fields. */
const PLUMBING = /^(?:Action|Version|X-Amz-.*)$/i;
/** Never digested or shown, even though no IAM write gatepass serves takes one today. */
const SECRET = /password|secret|private ?key|token/i;
/** Policy texts (IAM's `…PolicyDocument`, Organizations' `Content`): each gets its own digest. */
const DOCUMENT = /(?:Document|^Content)$/;
/** Identifiers worth showing as they are (an attached policy's ARN, a version id, a provider URL). */
const IDENTIFIER = /(?:Arn|Name|Id|Path|Url|Status)$/;
const MAX_SHOWN = 16;
const MAX_SHOWN_CHARS = 256;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted at every depth, so equal inputs digest equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The parameters that describe the change, secrets and plumbing left out. */
function changeOf(input: ManagementWrite['input']): [string, unknown][] {
  const entries: [string, unknown][] =
    input instanceof Map ? [...input.entries()] : Object.entries(input as Record<string, unknown>);
  return entries.filter(([k]) => !PLUMBING.test(k) && !SECRET.test(k)).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** Who made a signed call and from where, as every audit event of one records it. */
export function callerAuditFields(
  caller: Caller,
  meta: Pick<RequestMeta, 'sourceIp' | 'userAgent'>,
): Pick<AuditEvent, 'caller' | 'accountId' | 'roleArn' | 'sessionId' | 'runId' | 'sourceIp' | 'userAgent'> {
  const session = caller.kind === 'role-session' ? caller.session : undefined;
  return {
    caller: caller.arn,
    accountId: caller.accountId,
    ...(caller.kind === 'role-session' ? { roleArn: caller.roleArn } : {}),
    ...(session ? { sessionId: session.sid, ...(session.runId ? { runId: session.runId } : {}) } : {}),
    ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
    ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
  };
}

/** The audit event of one successful management write. Pure: `recordWrite` stores it. */
export function writeEvent(write: ManagementWrite): AuditEvent {
  const { caller, meta } = write;
  const change = changeOf(write.input);
  const documents: Record<string, string> = {};
  const shown: Record<string, string> = {};
  for (const [name, value] of change) {
    if (DOCUMENT.test(name)) documents[name] = sha256(typeof value === 'string' ? value : canonical(value));
    else if (IDENTIFIER.test(name) && typeof value === 'string' && Object.keys(shown).length < MAX_SHOWN)
      shown[name] = value.slice(0, MAX_SHOWN_CHARS);
  }
  return {
    time: meta.now,
    requestId: write.requestId,
    action: write.action,
    decision: 'allow',
    ...callerAuditFields(caller, meta),
    accessKeyId: caller.accessKeyId,
    resource: write.target,
    detail: {
      // What changed, as digests: equal digests mean the same request parameters (or document).
      parametersSha256: sha256(canonical(change)),
      ...(Object.keys(documents).length > 0 ? { documentSha256: documents } : {}),
      ...(Object.keys(shown).length > 0 ? { parameters: shown } : {}),
    },
  };
}

/** Append the write's audit event inside the transaction that made the change. */
export function recordWrite(tx: StoreOps, write: ManagementWrite): Promise<void> {
  return tx.appendAudit([writeEvent(write)]);
}
