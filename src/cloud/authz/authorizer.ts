// From a verified caller to a policy decision: gathers the caller's identity policies, boundary,
// session policies, SCPs and the resource's RCPs, builds the request context (global condition keys)
// and hands both to the pure engine. Parsed policies are cached by text; the policy *sets* per
// principal are cached until the IAM/organization model changes (see `invalidate`). The IAM records
// STS reads on every call are kept apart (sts/record-cache.ts).
import { accountRootArn } from '../../core/arn.js';
import { isAccountId } from '../../core/ids.js';
import {
  type AuthzRequest,
  type ContextValue,
  type Decision,
  evaluate,
  type Policy,
  type PolicyKind,
  type PolicySet,
  parsePolicy,
  type RequestPrincipal,
} from '../../core/policy/index.js';
import { isoSeconds } from '../../core/time.js';
import type { ManagedPolicyRecord, RoleRecord, Tag, UserRecord } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import { type Caller, callerUserId, type SessionClaims } from '../caller/caller.js';

/** Facts about the HTTP request that become global condition keys. */
export interface RequestMeta {
  now: number;
  sourceIp?: string;
  userAgent?: string;
  secure: boolean;
  region?: string;
}

/** A policy attached at one level of an organization: the root, an OU or the account itself. */
export interface LevelPolicy {
  id: string;
  name: string;
  content: string;
  /** The root, OU or account id it is attached to. */
  target: string;
}

/** Where an account sits in its organization: `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`. */
export interface OrgPath {
  orgId: string;
  /** `o-…/r-…/ou-…/` */
  path: string;
}

/**
 * What the authorizer reads from the organization model (cloud/org answers it as `organizationModel`).
 * Passed in, so the authorizer does not depend on the Organizations actions that depend on it.
 * Levels run root first, then each OU down, then the account; undefined where SCPs or RCPs do not
 * apply (the management account, an account outside the organization, a policy type not enabled).
 */
export interface OrganizationModel {
  orgPath(tx: StoreOps, accountId: string): Promise<OrgPath | undefined>;
  scpLevels(tx: StoreOps, accountId: string): Promise<LevelPolicy[][] | undefined>;
  rcpLevels(tx: StoreOps, accountId: string): Promise<LevelPolicy[][] | undefined>;
}

interface PrincipalPolicies {
  identity: Policy[];
  boundary?: Policy;
  tags: Tag[];
}

const MAX_PARSED = 4096;
const MAX_RECORDS = 10_000;

export class Authorizer {
  private readonly parsed = new Map<string, Policy>();
  private readonly principals = new Map<string, PrincipalPolicies | null>();
  private readonly orgCache = new Map<string, LevelPolicy[][] | undefined>();
  private readonly orgPaths = new Map<string, OrgPath | undefined>();
  /** Bumped by every invalidation, so a load that began before a change is not cached after it. */
  private generation = 0;

  constructor(private readonly org: OrganizationModel) {}

  /** Drop cached policy sets after any IAM or organization change. */
  invalidate(): void {
    this.principals.clear();
    this.orgCache.clear();
    this.orgPaths.clear();
    this.generation += 1;
  }

  /** Parse once per distinct text; a stored policy was validated when written. */
  policy(text: string, kind: PolicyKind, source: string): Policy {
    const key = `${kind}\u0000${source}\u0000${text}`;
    const hit = this.parsed.get(key);
    if (hit) return hit;
    const p = parsePolicy(text, kind, { maxSize: Number.MAX_SAFE_INTEGER }, source);
    if (this.parsed.size >= MAX_PARSED) this.parsed.clear();
    this.parsed.set(key, p);
    return p;
  }

  async managedDocument(tx: StoreOps, arn: string): Promise<ManagedPolicyRecord | undefined> {
    return tx.getBy('managedPolicy', 'arn', arn);
  }

  private async attachedPolicies(tx: StoreOps, arns: readonly string[], owner: string): Promise<Policy[]> {
    const out: Policy[] = [];
    for (const arn of arns) {
      const mp = await tx.getBy('managedPolicy', 'arn', arn);
      const doc = mp?.versions.find((v) => v.versionId === mp.defaultVersionId)?.document;
      if (mp && doc !== undefined)
        out.push(this.policy(doc, 'identity', `managed policy ${mp.name} of ${owner}`));
    }
    return out;
  }

  private async boundary(tx: StoreOps, arn: string | undefined, owner: string): Promise<Policy | undefined> {
    if (!arn) return undefined;
    const mp = await tx.getBy('managedPolicy', 'arn', arn);
    const doc = mp?.versions.find((v) => v.versionId === mp.defaultVersionId)?.document;
    // A boundary that no longer resolves allows nothing (safe default).
    return this.policy(
      doc ?? '{"Version":"2012-10-17","Statement":[]}',
      'boundary',
      `permissions boundary ${mp?.name ?? arn} of ${owner}`,
    );
  }

  async roleOrUserPolicies(
    tx: StoreOps,
    entity: RoleRecord | UserRecord,
    label: string,
  ): Promise<PrincipalPolicies> {
    const cached = this.principals.get(entity.id);
    if (cached) return cached;
    const generation = this.generation;
    const identity: Policy[] = [];
    for (const [name, doc] of Object.entries(entity.inlinePolicies)) {
      identity.push(this.policy(doc, 'identity', `inline policy ${name} of ${label}`));
    }
    identity.push(...(await this.attachedPolicies(tx, entity.attachedPolicies, label)));
    const boundary = await this.boundary(tx, entity.permissionsBoundary, label);
    const result: PrincipalPolicies = boundary
      ? { identity, boundary, tags: entity.tags }
      : { identity, tags: entity.tags };
    if (generation === this.generation) {
      // Keyed by stored entities only (a caller that authenticated), yet bounded like the rest.
      if (this.principals.size >= MAX_RECORDS) this.principals.clear();
      this.principals.set(entity.id, result);
    }
    return result;
  }

  /** The account's organization id and path (`o-…/r-…/ou-…/`), kept until the model changes. */
  async organizationPath(tx: StoreOps, accountId: string): Promise<OrgPath | undefined> {
    if (this.orgPaths.has(accountId)) return this.orgPaths.get(accountId);
    const generation = this.generation;
    const found = await this.org.orgPath(tx, accountId);
    if (generation === this.generation) {
      if (this.orgPaths.size >= MAX_RECORDS) this.orgPaths.clear();
      this.orgPaths.set(accountId, found);
    }
    return found;
  }

  /** `aws:ResourceAccount`, `aws:ResourceOrgID` and `aws:ResourceOrgPaths` of a resource's account. */
  async resourceContext(tx: StoreOps, accountId: string): Promise<Record<string, ContextValue>> {
    const context: Record<string, ContextValue> = { 'aws:ResourceAccount': accountId };
    const org = await this.organizationPath(tx, accountId);
    if (org) {
      context['aws:ResourceOrgID'] = org.orgId;
      context['aws:ResourceOrgPaths'] = [org.path];
    }
    return context;
  }

  async scps(tx: StoreOps, accountId: string): Promise<Policy[][] | undefined> {
    const key = `scp:${accountId}`;
    let levels = this.orgCache.get(key);
    if (levels === undefined && !this.orgCache.has(key)) {
      levels = await this.org.scpLevels(tx, accountId);
      this.orgCache.set(key, levels);
    }
    return levels?.map((lvl) =>
      lvl.map((p) => this.policy(p.content, 'scp', `SCP ${p.name} (${p.id}) on ${p.target}`)),
    );
  }

  async rcps(tx: StoreOps, accountId: string): Promise<Policy[][] | undefined> {
    const key = `rcp:${accountId}`;
    let levels = this.orgCache.get(key);
    if (levels === undefined && !this.orgCache.has(key)) {
      levels = await this.org.rcpLevels(tx, accountId);
      this.orgCache.set(key, levels);
    }
    return levels?.map((lvl) =>
      lvl.map((p) => this.policy(p.content, 'rcp', `RCP ${p.name} (${p.id}) on ${p.target}`)),
    );
  }

  /**
   * The caller's side of a decision: identity policies, boundary, session policies and SCPs, plus the
   * request context with every global key AWS would present for this caller.
   */
  async callerSide(
    tx: StoreOps,
    caller: Caller,
    meta: RequestMeta,
  ): Promise<{ set: PolicySet; principal: RequestPrincipal; context: Record<string, ContextValue> }> {
    const context = baseContext(meta);
    // AWS sets both on every request signed with AWS credentials; no AWS service calls on anyone's
    // behalf here, so they are false (a Bool condition without IfExists then matches as on AWS).
    context['aws:PrincipalIsAWSService'] = 'false';
    context['aws:ViaAWSService'] = 'false';
    context['aws:PrincipalAccount'] = caller.accountId;
    context['aws:userid'] = callerUserId(caller);
    const org = await this.organizationPath(tx, caller.accountId);
    if (org) {
      context['aws:PrincipalOrgID'] = org.orgId;
      context['aws:PrincipalOrgPaths'] = [org.path];
    }
    const set: { -readonly [K in keyof PolicySet]: PolicySet[K] } = {};
    const scp = await this.scps(tx, caller.accountId);
    if (scp) set.scp = scp;

    if (caller.kind === 'root') {
      context['aws:PrincipalArn'] = caller.arn;
      context['aws:PrincipalType'] = 'Account';
      // The root user is allowed everything its account's SCPs allow.
      set.identity = [this.policy(ALLOW_ALL, 'identity', `root user of ${caller.accountId}`)];
      return { set, principal: awsPrincipal([caller.arn, caller.accountId]), context };
    }
    if (caller.kind === 'user') {
      const user = await tx.get('user', caller.userId);
      context['aws:PrincipalArn'] = caller.arn;
      context['aws:PrincipalType'] = 'User';
      context['aws:username'] = caller.userName;
      if (user) {
        const pp = await this.roleOrUserPolicies(tx, user, `user/${user.name}`);
        set.identity = pp.identity;
        if (pp.boundary) set.boundary = pp.boundary;
        addTags(context, 'aws:PrincipalTag/', pp.tags);
      } else {
        set.identity = [];
      }
      return {
        set,
        principal: awsPrincipal([
          caller.arn,
          caller.userId,
          caller.accountId,
          accountRootArn(caller.accountId),
        ]),
        context,
      };
    }

    const s = caller.session;
    const role = await tx.get('role', s.roleId);
    context['aws:PrincipalArn'] = caller.roleArn;
    context['aws:PrincipalType'] = 'AssumedRole';
    context['aws:TokenIssueTime'] = new Date(s.iat * 1000).toISOString();
    context['aws:MultiFactorAuthPresent'] = s.mfa ? 'true' : 'false';
    if (s.sourceIdentity) context['aws:SourceIdentity'] = s.sourceIdentity;
    if (s.webIdentity) {
      context['aws:FederatedProvider'] = s.webIdentity.providerArn;
      const p = s.webIdentity.provider;
      context[`${p}:sub`] = s.webIdentity.sub;
      context[`${p}:aud`] = s.webIdentity.aud;
      if (s.webIdentity.amr) context[`${p}:amr`] = s.webIdentity.amr;
    }
    if (role) {
      const pp = await this.roleOrUserPolicies(tx, role, `role/${role.name}`);
      set.identity = pp.identity;
      if (pp.boundary) set.boundary = pp.boundary;
      // Session tags override role tags with the same key (case-insensitive).
      addTags(context, 'aws:PrincipalTag/', mergeTags(pp.tags, s.tags));
    } else {
      // The role was deleted: its sessions keep no permissions.
      set.identity = [];
    }
    const session = await this.sessionPolicies(tx, s);
    if (session) set.session = session;
    set.principalIsSession = true;
    return {
      set,
      principal: awsPrincipal([
        caller.arn,
        caller.roleArn,
        s.roleId,
        `${s.roleId}:${s.sessionName}`,
        caller.accountId,
        accountRootArn(caller.accountId),
      ]),
      context,
    };
  }

  async sessionPolicies(tx: StoreOps, s: SessionClaims): Promise<Policy[] | undefined> {
    if (!s.policies) return undefined;
    const out: Policy[] = [];
    if (s.policies.inline !== undefined)
      out.push(this.policy(s.policies.inline, 'session', 'inline session policy'));
    for (const arn of s.policies.arns ?? []) {
      const mp = await tx.getBy('managedPolicy', 'arn', arn);
      const doc = mp?.versions.find((v) => v.versionId === mp.defaultVersionId)?.document;
      out.push(this.policy(doc ?? DENY_NOTHING, 'session', `managed session policy ${mp?.name ?? arn}`));
    }
    return out;
  }

  /** An identity-side decision for a caller acting on a resource in the caller's or another account. */
  async authorize(
    tx: StoreOps,
    caller: Caller,
    action: string,
    resource: string,
    meta: RequestMeta,
    extra?: { context?: Record<string, ContextValue>; resourcePolicy?: Policy; resourceAccount?: string },
  ): Promise<Decision> {
    const side = await this.callerSide(tx, caller, meta);
    const resourceAccount =
      extra?.resourceAccount ?? (awsOwnedWrite(action, resource) ? AWS_OWNER : caller.accountId);
    const set: PolicySet = { ...side.set, resourceAccount };
    const rcp = extra?.resourcePolicy ? await this.rcps(tx, resourceAccount) : undefined;
    const full: PolicySet = {
      ...set,
      ...(extra?.resourcePolicy ? { resource: extra.resourcePolicy } : {}),
      ...(rcp ? { rcp } : {}),
    };
    const request: AuthzRequest = {
      action,
      resource,
      principal: side.principal,
      context: { ...side.context, ...(await this.resourceContext(tx, resourceAccount)), ...extra?.context },
    };
    return evaluate(request, full);
  }
}

/** The owner of AWS-owned resources: an account no principal belongs to. */
export const AWS_OWNER = 'aws';

/**
 * Resources AWS owns although they sit in or beside a customer's account: AWS managed policies
 * (`arn:aws:iam::aws:policy/…`), the roles IAM Identity Center keeps under `/aws-reserved/`, and the
 * KMS aliases of AWS managed keys (`alias/aws/…`). Every account reads them as its own, and IAM has
 * no resource policies on managed policies, so a read needs only the caller's identity Allow
 * (IAM User Guide, "AWS managed policies": attachable and readable by every account). No account
 * changes them (same page; IAM answers UnmodifiableEntity "this role is only modifiable by AWS" for
 * Identity Center's protected roles; KMS API Reference, CreateAlias: the alias/aws/ prefix is
 * reserved for AWS managed keys), so
 * anything else is decided as an action on another account's resource that no resource policy
 * allows: an implicit deny. iam:PassRole counts as a change: those roles trust only IAM Identity
 * Center, so no service may be handed one.
 */
const AWS_OWNED = [
  /^arn:[^:]+:iam::aws:policy\//,
  /^arn:[^:]+:iam::\d{12}:role\/aws-reserved\//,
  /^arn:[^:]+:kms:[^:]*:\d{12}:alias\/aws\//,
];
const READ = /^[a-z0-9-]+:(?:Get|List|Describe|Generate|Simulate)/i;

/** True when `action` would change an AWS-owned resource (which only AWS may). */
export function awsOwnedWrite(action: string, resource: string): boolean {
  return !READ.test(action) && AWS_OWNED.some((re) => re.test(resource));
}

/**
 * The account that owns `resource` for `action`: AWS for a change to an AWS-owned resource, the
 * ARN's account when it names one, else `fallback` (ARNs without an account, such as S3's, and AWS
 * managed policies read by the caller).
 */
export function resourceOwner(action: string, resource: string, fallback: string): string {
  if (awsOwnedWrite(action, resource)) return AWS_OWNER;
  const account = resource.split(':')[4];
  return account !== undefined && isAccountId(account) ? account : fallback;
}

const ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}';
const DENY_NOTHING = '{"Version":"2012-10-17","Statement":[]}';

function awsPrincipal(ids: string[]): RequestPrincipal {
  const account = ids.find((i) => isAccountId(i));
  return account ? { type: 'AWS', ids, account } : { type: 'AWS', ids };
}

/** The time keys of the current second, formatted once per second rather than per request. */
const lastSecond = { epoch: Number.NaN, iso: '', text: '' };

/** Keys every request carries, whoever the caller is. */
export function baseContext(meta: RequestMeta): Record<string, ContextValue> {
  const second = Math.floor(meta.now / 1000);
  if (second !== lastSecond.epoch) {
    lastSecond.epoch = second;
    lastSecond.iso = isoSeconds(second * 1000);
    lastSecond.text = String(second);
  }
  const ctx: Record<string, ContextValue> = {
    'aws:CurrentTime': lastSecond.iso,
    'aws:EpochTime': lastSecond.text,
    'aws:SecureTransport': meta.secure ? 'true' : 'false',
  };
  if (meta.sourceIp) ctx['aws:SourceIp'] = meta.sourceIp;
  if (meta.userAgent) ctx['aws:UserAgent'] = meta.userAgent;
  if (meta.region) ctx['aws:RequestedRegion'] = meta.region;
  return ctx;
}

export function mergeTags(base: readonly Tag[], override: Record<string, string>): Tag[] {
  const lower = new Set(Object.keys(override).map((k) => k.toLowerCase()));
  return [
    ...base.filter((t) => !lower.has(t.Key.toLowerCase())),
    ...Object.entries(override).map(([Key, Value]) => ({ Key, Value })),
  ];
}

function addTags(ctx: Record<string, ContextValue>, prefix: string, tags: readonly Tag[]): void {
  for (const t of tags) ctx[prefix + t.Key] = t.Value;
}
