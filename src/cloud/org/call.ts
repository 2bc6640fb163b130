// What every Organizations operation shares: one transaction, who may call (the management account;
// a delegated administrator for reads; a member account the delegation policy (PutResourcePolicy)
// lets in for the policy operations it covers; any member for DescribeOrganization), the policy engine's
// decision on `organizations:<Operation>` and AWS's resource ARNs, NextToken pagination, and the one
// place a write becomes an audit event (the generic management-write record, cloud/audit/write-audit.ts).
import type { Clock, Random } from '../../core/deps.js';
import { rawHeader } from '../../core/headers.js';
import {
  JsonError,
  type JsonObject,
  type JsonReader,
  type OperationContext,
  parseBody,
} from '../../core/json/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { AwsOrganizationRecord } from '../../store/records/iam.js';
import type { Store, StoreOps } from '../../store/types.js';
import { transactionRecordingDenials, withDeferredRecord } from '../audit/deferred-denial.js';
import { recordWrite } from '../audit/write-audit.js';
import type { Authorizer, RequestMeta } from '../authz/authorizer.js';
import type { Caller } from '../caller/caller.js';
import { organizationOf } from './model.js';

export interface OrgDeps {
  store: Store;
  authorizer: Authorizer;
  clock: Clock;
  random: Random;
  /** Called after every committed change (policy caches here; other nodes through the change feed). */
  changed(): void;
  audit(event: AuditEvent): Promise<void>;
}

export type OrgCtx = OperationContext<Caller>;

/** Who may call: the management account only, or also a delegated administrator, or any member. */
export type Access = 'management' | 'delegated' | 'member';

/** Organizations is a global service: aws:RequestedRegion is us-east-1 whatever the signature says. */
export function requestMeta(deps: OrgDeps, ctx: OrgCtx): RequestMeta {
  const ua = rawHeader(ctx.request.rawHeaders, 'user-agent');
  return {
    now: deps.clock.now(),
    sourceIp: ctx.request.remoteAddress,
    secure: ctx.request.secure ?? false,
    region: 'us-east-1',
    ...(ua ? { userAgent: ua.slice(0, 512) } : {}),
  };
}

function callerFields(ctx: OrgCtx, meta: RequestMeta): Partial<AuditEvent> {
  const c = ctx.caller;
  const s = c.kind === 'role-session' ? c.session : undefined;
  return {
    caller: c.arn,
    accountId: c.accountId,
    ...(c.kind === 'role-session' ? { roleArn: c.roleArn } : {}),
    ...(s ? { sessionId: s.sid, ...(s.runId ? { runId: s.runId } : {}) } : {}),
    ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
    ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
  };
}

/**
 * Whether the caller may call at all; 'delegation' when only the organization's resource-based
 * delegation policy (PutResourcePolicy) can let this member account in, so it must decide too.
 */
async function checkAccess(
  tx: StoreOps,
  org: AwsOrganizationRecord,
  caller: Caller,
  spec: CallSpec,
): Promise<'ok' | 'delegation'> {
  if (caller.accountId === org.managementAccountId) return 'ok';
  const account = await tx.get('account', caller.accountId);
  // An account outside the organization sees no organization at all.
  if (!account?.parentId) throw new JsonError('AWSOrganizationsNotInUseException');
  if (spec.access === 'member') return 'ok';
  if (
    spec.access === 'delegated' &&
    org.delegatedAdministrators?.some((d) => d.accountId === caller.accountId)
  )
    return 'ok';
  if (spec.delegable && org.resourcePolicy) return 'delegation';
  throw new JsonError('AccessDeniedException', undefined, undefined, { rule: 'management account only' });
}

export interface CallSpec {
  access: Access;
  /** The ARNs the caller must be allowed the action on (one decision each), from the organization. */
  resources: (org: AwsOrganizationRecord, tx: StoreOps) => Promise<string[]> | string[];
  /** A write: audited in its own transaction against the authorized ARNs, with digests of the body. */
  write?: true;
  /** AWS lets the resource-based delegation policy open this operation to member accounts. */
  delegable?: true;
}

/** Authorize one Organizations call, denials on record with the policy engine's trace. */
export async function authorize(
  deps: OrgDeps,
  tx: StoreOps,
  ctx: OrgCtx,
  meta: RequestMeta,
  resources: readonly string[],
  delegation?: { policy: string; managementAccountId: string },
): Promise<void> {
  // A member account let in by the delegation policy: that policy (a resource policy of the
  // management account's organization) and the caller's own policies must both allow.
  const extra = delegation
    ? {
        resourcePolicy: deps.authorizer.policy(delegation.policy, 'resource', 'organization resource policy'),
        resourceAccount: delegation.managementAccountId,
      }
    : undefined;
  for (const resource of resources) {
    const decision = await deps.authorizer.authorize(tx, ctx.caller, ctx.action, resource, meta, extra);
    if (decision.effect === 'Allow') continue;
    const denial = new JsonError('AccessDeniedException', undefined, undefined, {
      resource,
      effect: decision.effect,
    });
    throw withDeferredRecord(denial, {
      time: meta.now,
      requestId: ctx.requestId,
      action: ctx.action,
      decision: 'deny',
      reasonCode: 'AccessDeniedException',
      ...callerFields(ctx, meta),
      detail: { resource, trace: storedTrace(decision) },
    });
  }
}

/** One Organizations transaction; a denial `authorize` decided inside it is recorded once it has ended. */
export const orgTransaction = <T>(deps: OrgDeps, fn: (tx: StoreOps) => Promise<T>): Promise<T> =>
  transactionRecordingDenials(
    deps.store,
    deps.audit,
    fn,
    () => new JsonError('ConcurrentModificationException'),
  );

/**
 * One Organizations call in one transaction: find the organization, check who may call, let the
 * policy engine decide, run `fn`. A write that lost a race is ConcurrentModificationException; a
 * write is audited in its own transaction (the change and its record commit together) and, once
 * committed, drops cached policy sets.
 */
export async function orgCall<T extends JsonObject>(
  deps: OrgDeps,
  ctx: OrgCtx,
  spec: CallSpec,
  fn: (tx: StoreOps, org: AwsOrganizationRecord) => Promise<T>,
): Promise<T> {
  const meta = requestMeta(deps, ctx);
  let target = '';
  const result = await orgTransaction(deps, async (tx) => {
    const org = await organizationOf(tx);
    const access = await checkAccess(tx, org, ctx.caller, spec);
    const resources = await spec.resources(org, tx);
    target = resources.join(' ');
    const delegation =
      access === 'delegation' && org.resourcePolicy
        ? { policy: org.resourcePolicy.content, managementAccountId: org.managementAccountId }
        : undefined;
    await authorize(deps, tx, ctx, meta, resources, delegation);
    const out = await fn(tx, org);
    if (spec.write) await recordOrgWrite(tx, ctx, meta, target);
    return out;
  });
  if (spec.write) deps.changed();
  return result;
}

/**
 * The one place an Organizations write becomes an audit event: caller, action, target ARN, request id
 * and digests of the JSON body as the client sent it. Call inside the transaction that made the change.
 */
export function recordOrgWrite(tx: StoreOps, ctx: OrgCtx, meta: RequestMeta, target: string): Promise<void> {
  return recordWrite(tx, {
    action: ctx.action,
    requestId: ctx.requestId,
    caller: ctx.caller,
    target,
    input: parseBody(ctx.request.body),
    meta,
  });
}

export interface Page {
  after?: string;
  max: number;
}

/** NextToken and MaxResults as AWS reads them (1–20; the service's own page size when absent). */
export function readPage(r: JsonReader): Page {
  const token = r.str('NextToken', { max: 100_000 });
  const max = r.int('MaxResults', 1, 20) ?? 20;
  if (token === undefined) return { max };
  const after = /^[A-Za-z0-9_-]{1,400}$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!after.startsWith('gp1:'))
    throw new JsonError('InvalidInputException', undefined, 'INVALID_NEXT_TOKEN');
  return { after: after.slice(4), max };
}

/** One page of an id-ordered list, with AWS's NextToken when more remain. */
export function paginate<T>(
  items: readonly T[],
  page: Page,
  keyOf: (item: T) => string,
): { items: T[]; NextToken?: string } {
  const sorted = [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const start = page.after === undefined ? 0 : sorted.findIndex((i) => keyOf(i) > (page.after as string));
  const from = start < 0 ? sorted.length : start;
  const slice = sorted.slice(from, from + page.max);
  const last = slice.at(-1);
  return from + page.max < sorted.length && last !== undefined
    ? { items: slice, NextToken: Buffer.from(`gp1:${keyOf(last)}`, 'utf8').toString('base64url') }
    : { items: slice };
}
