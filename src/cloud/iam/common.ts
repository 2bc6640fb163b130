// What every IAM action shares: its dependencies, authorization of the caller through the policy
// engine, AWS's name/path/tag rules, and Marker/MaxItems pagination.
import { roleArn, userArn } from '../../core/arn.js';
import type { Clock, Random } from '../../core/deps.js';
import { rawHeader } from '../../core/headers.js';
import type { Layer } from '../../core/policy/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import {
  type QueryHttpRequest,
  readParameters,
  type SignedActionContext,
} from '../../core/query/dispatch.js';
import { AwsError, awsError } from '../../core/query/errors.js';
import { type FormReader, PATTERNS } from '../../core/query/parse-form.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { RoleRecord, Tag, UserRecord } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import type { Store, StoreOps } from '../../store/types.js';
import { transactionRecordingDenials, withDeferredRecord } from '../audit/deferred-denial.js';
import { callerAuditFields, recordWrite } from '../audit/write-audit.js';
import type { Authorizer, RequestMeta } from '../authz/authorizer.js';
import type { Caller } from '../caller/caller.js';

export interface IamDeps {
  store: Store;
  authorizer: Authorizer;
  clock: Clock;
  random: Random;
  /** The secret of a long-term access key, derived like session secrets (never stored). */
  accessKeySecret(accessKeyId: string, keyVersion: number): string;
  /** The sealing key version new access keys are derived under. */
  currentKeyVersion(): number;
  /** Denial story for operators, sealed into an encoded authorization message (absent: AWS's words only). */
  sealMessage?(message: Record<string, unknown>): string;
  /** Called after every committed IAM change (policy caches, JWKS caches). */
  changed(): void;
  /** Denials go on record with their decision trace, so `gatepass explain <request-id>` finds them. */
  audit?(event: AuditEvent): Promise<void>;
}

export type Ctx = SignedActionContext<Caller>;

/** IAM is a global service: its aws:RequestedRegion is always us-east-1, as on AWS. */
export function requestMeta(deps: IamDeps, req: QueryHttpRequest): RequestMeta {
  const ua = rawHeader(req.rawHeaders, 'user-agent');
  return {
    now: deps.clock.now(),
    region: 'us-east-1',
    sourceIp: req.remoteAddress,
    secure: req.secure ?? false,
    ...(ua ? { userAgent: ua.slice(0, 512) } : {}),
  };
}

/** AWS's wording for the policy type that denied, as in its enhanced AccessDenied messages. */
const LAYER_NAMES: Record<Layer, { article: string; name: string }> = {
  identity: { article: 'an', name: 'identity-based policy' },
  boundary: { article: 'a', name: 'permissions boundary' },
  session: { article: 'a', name: 'session policy' },
  scp: { article: 'a', name: 'service control policy' },
  rcp: { article: 'a', name: 'resource control policy' },
  resource: { article: 'a', name: 'resource-based policy' },
};

/**
 * Authorize the caller for `action` on `resource` in its own account, or throw AccessDenied. Runs
 * inside `iamTransaction`, which puts the denial on record.
 */
export async function authorize(
  deps: IamDeps,
  tx: StoreOps,
  ctx: Ctx,
  action: string,
  resource: string,
): Promise<void> {
  const meta = requestMeta(deps, ctx.request);
  const decision = await deps.authorizer.authorize(tx, ctx.caller, action, resource, meta);
  if (decision.effect === 'Allow') return;
  const kind = LAYER_NAMES[decision.layer ?? 'identity'];
  const encoded = deps.sealMessage?.({
    requestId: ctx.requestId,
    decision: decision.effect,
    layer: decision.layer,
    reason: decision.reason,
    action,
    resource,
    principal: ctx.caller.arn,
  });
  const denial =
    decision.effect === 'ExplicitDeny'
      ? awsError('iamDeniedExplicit', ctx.caller.arn, action, resource, kind.article, kind.name)
      : awsError('iamDeniedImplicit', ctx.caller.arn, action, resource, kind.name);
  const error = denial.withEncodedMessage(encoded);
  throw withDeferredRecord(error, {
    time: meta.now,
    requestId: ctx.requestId,
    action,
    decision: 'deny',
    reasonCode: 'AccessDenied',
    ...callerAuditFields(ctx.caller, meta),
    detail: { resource, trace: storedTrace(decision) },
  });
}

/** One IAM transaction; a denial `authorize` decided inside it is recorded once it has ended. */
export const iamTransaction = <T>(deps: IamDeps, fn: (tx: StoreOps) => Promise<T>): Promise<T> =>
  transactionRecordingDenials(deps.store, deps.audit, fn, () => new AwsError('ConcurrentModification'));

export const NAME = (max: number) => ({
  required: true as const,
  min: 1,
  max,
  pattern: { re: /^[\w+=,.@-]+$/, text: '[\\w+=,.@-]+' },
});
export const PATH = {
  min: 1,
  max: 512,
  pattern: {
    re: /^(\u002F)|(\u002F[\u0021-\u007E]+\u002F)$/,
    text: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)',
  },
};
export const POLICY_DOC = { required: true as const, min: 1, max: 131072, pattern: PATTERNS.policyText };
export const ARN = { required: true as const, min: 20, max: 2048 };
export const DESCRIPTION = {
  max: 1000,
  pattern: {
    re: /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/,
    text: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*',
  },
};

export function readTags(p: FormReader, name = 'Tags'): Tag[] | undefined {
  const raw = p.structList(
    name,
    {
      Key: { required: true, min: 1, max: 128, pattern: PATTERNS.tagKey },
      Value: { required: true, min: 0, max: 256, pattern: PATTERNS.tagValue },
    },
    { maxItems: 50 },
  );
  return raw?.map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
}

/** Merge new tags into old ones (keys compare case-sensitively for IAM); at most 50 in all. */
export function mergeTagList(current: readonly Tag[], added: readonly Tag[]): Tag[] {
  const keys = new Set(added.map((t) => t.Key));
  if (new Set(added.map((t) => t.Key.toLowerCase())).size !== added.length) {
    throw awsError('tagKeysDuplicate');
  }
  const merged = [...current.filter((t) => !keys.has(t.Key)), ...added];
  if (merged.length > 50) throw awsError('tagQuotaExceeded');
  return merged;
}

export function checkNewTags(tags: readonly Tag[] | undefined): Tag[] {
  return mergeTagList([], tags ?? []);
}

export interface Page {
  marker?: string;
  maxItems: number;
}

export function readPage(p: FormReader): Page {
  const marker = p.str('Marker', { min: 1, max: 320 });
  const maxItems = p.int('MaxItems', { min: 1, max: 1000 }) ?? 100;
  return marker !== undefined ? { marker, maxItems } : { maxItems };
}

/** One page of an id-sorted list: AWS's IsTruncated and an opaque Marker. */
export function paginate<T>(
  items: readonly T[],
  page: Page,
  keyOf: (item: T) => string,
): { items: T[]; IsTruncated: boolean; Marker?: string } {
  let start = 0;
  if (page.marker !== undefined) {
    const after = Buffer.from(page.marker, 'base64url').toString('utf8');
    start = items.findIndex((i) => keyOf(i) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + page.maxItems);
  const truncated = start + page.maxItems < items.length;
  const last = slice.at(-1);
  return truncated && last !== undefined
    ? { items: slice, IsTruncated: true, Marker: Buffer.from(keyOf(last), 'utf8').toString('base64url') }
    : { items: slice, IsTruncated: false };
}

/**
 * One IAM call in one transaction: authorize the caller on the resource (computed inside the
 * transaction, e.g. from the entity's stored ARN), then run `fn`. A write that lost a race with
 * another node is ConcurrentModification, never a lost update. A call that `writes` (the default)
 * appends its audit event to the same transaction (cloud/audit/write-audit.ts): every IAM write action is
 * on the record because it runs through here.
 */
export async function iamCall<T>(
  deps: IamDeps,
  ctx: Ctx,
  action: string,
  resource: string | ((tx: StoreOps) => Promise<string>),
  fn: (tx: StoreOps) => Promise<T>,
  writes = true,
): Promise<T> {
  const result = await iamTransaction(deps, async (tx) => {
    const target = typeof resource === 'string' ? resource : await resource(tx);
    await authorize(deps, tx, ctx, action, target);
    const out = await fn(tx);
    if (writes) {
      const { now, sourceIp, userAgent } = requestMeta(deps, ctx.request);
      await recordWrite(tx, {
        action,
        requestId: ctx.requestId,
        caller: ctx.caller,
        target,
        input: readParameters(ctx.request),
        meta: { now, ...(sourceIp ? { sourceIp } : {}), ...(userAgent ? { userAgent } : {}) },
      });
    }
    return out;
  });
  if (writes) deps.changed();
  return result;
}

/** The ARN an action on a named role or user is authorized against ('*' for account-wide calls). */
/**
 * An IAM call about one named role or user (the ARN resolved in the call's own transaction, so the
 * decision and the change see the same entity); `writes` false for reads.
 */
export function entityCall(deps: IamDeps, kind: 'role' | 'user') {
  return <T>(
    ctx: Ctx,
    action: string,
    name: string | undefined,
    fn: (tx: StoreOps) => Promise<T>,
    writes = true,
  ): Promise<T> => iamCall(deps, ctx, action, (tx) => entityArn(tx, kind, accountOf(ctx), name), fn, writes);
}

export async function entityArn(
  tx: StoreOps,
  kind: 'role' | 'user',
  account: string,
  name: string | undefined,
): Promise<string> {
  if (name === undefined) return '*';
  const existing = await tx.getBy(kind, 'accountName', indexKey(account, name.toLowerCase()));
  return existing?.arn ?? (kind === 'role' ? roleArn(account, '/', name) : userArn(account, '/', name));
}

/** ListRoles / ListUsers: the account's entities under a path prefix, by name, one page. */
export async function listByPath<K extends 'role' | 'user'>(
  deps: IamDeps,
  ctx: Ctx,
  action: string,
  kind: K,
  prefix: string,
  page: Page,
): Promise<{ items: (K extends 'role' ? RoleRecord : UserRecord)[]; IsTruncated: boolean; Marker?: string }> {
  const account = accountOf(ctx);
  const all = (await iamCall(
    deps,
    ctx,
    action,
    '*',
    (tx) => tx.list(kind, { index: { name: 'account', value: account } }),
    false,
  )) as (K extends 'role' ? RoleRecord : UserRecord)[];
  const sorted = all
    .filter((e) => e.path.startsWith(prefix))
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  return paginate(sorted, page, (e) => e.name.toLowerCase());
}

/** The caller's account: IAM is per account, and every entity lives in the caller's. */
export const accountOf = (ctx: Ctx): string => ctx.caller.accountId;

export const noSuchEntity = (what: string, name: string): AwsError => awsError('entityNotFound', what, name);

/** AWS URL-encodes policy documents in IAM responses. */
export const encodeDocument = (doc: string): string => encodeURIComponent(doc);

export function tagsXml(tags: readonly Tag[]): { Key: string; Value: string }[] {
  return tags.map((t) => ({ Key: t.Key, Value: t.Value }));
}

/** One page of a List…Tags answer, by key (the marker needs a stable order). */
export function tagPage(tags: readonly Tag[], page: Page) {
  const sorted = [...tags].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
  const { items, ...rest } = paginate(sorted, page, (t) => t.Key);
  return { Tags: tagsXml(items), ...rest };
}
