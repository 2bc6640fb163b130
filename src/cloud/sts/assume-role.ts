// AssumeRole: a SigV4-authenticated caller becomes a role, in its own account or another. Both sides
// must allow (the engine applies AWS's same-/cross-account rules); role chaining caps the session at
// one hour; transitive tags and the source identity follow the chain.
import { assumedRoleArn, parseArn } from '../../core/arn.js';
import { type ContextValue, type Decision, evaluate } from '../../core/policy/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import { type AwsError, awsError } from '../../core/query/errors.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { RoleRecord } from '../../store/records/iam.js';
import type { RequestMeta } from '../authz/authorizer.js';
import type { Caller, SessionClaims } from '../caller/caller.js';
import {
  accessDenied,
  duplicateKey,
  findRole,
  policyDigest,
  type SessionPolicyInput,
  sessionPolicies,
} from './common.js';
import type { IssuedCredentials, StsDeps } from './deps.js';
import { stsRefusalEvent } from './refusal.js';
import { asRefusal, Refusal, recordOutcome, refusing } from './steps.js';

export interface AssumeRoleInput extends SessionPolicyInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  externalId?: string;
  tags?: { Key: string; Value: string }[];
  transitiveTagKeys?: string[];
  sourceIdentity?: string;
  serialNumber?: string;
  tokenCode?: string;
}

export interface AssumeRoleResult {
  credentials: IssuedCredentials;
  assumedRoleArn: string;
  assumedRoleId: string;
  packedPolicySize?: number;
  sourceIdentity?: string;
}

const ACTION = 'sts:AssumeRole';
const CHAIN_LIMIT = 3600;

/** One request, read once: the time (`meta.now`), the caller and its session, then what each step found. */
interface AssumeRoleRequest {
  readonly input: AssumeRoleInput;
  readonly caller: Caller;
  /** The calling session when this call chains roles. */
  readonly parent: SessionClaims | undefined;
  readonly meta: RequestMeta & { requestId: string };
  role?: RoleRecord;
  /** The trust decision that refused the request, and the action it was for. */
  denied?: { decision: Decision; action: string };
}

/** The session's tags: the request's, plus those the calling session passes on as transitive. */
interface SessionTags {
  request: Record<string, string>;
  inherited: Record<string, string>;
}

type SessionPolicies = Awaited<ReturnType<typeof sessionPolicies>>;

interface Issued {
  result: AssumeRoleResult;
  chainDepth: number;
  duration: number;
}

/**
 * The steps in order; each returns a value or a refusal. Exactly one audit event per request, built
 * by `auditEvent` and awaited: an issuance whose record fails to commit fails, a refusal is
 * answered even when its record could not be written.
 */
export async function assumeRole(
  deps: StsDeps,
  caller: Caller,
  input: AssumeRoleInput,
  meta: RequestMeta & { requestId: string },
): Promise<AssumeRoleResult> {
  const parent = caller.kind === 'role-session' ? caller.session : undefined;
  const r: AssumeRoleRequest = { input, caller, parent, meta };
  const outcome = await steps(deps, r);
  // The issuance is on record before the credentials leave the server.
  return (await recordOutcome(deps, outcome, auditEvent(r, outcome))).result;
}

async function steps(deps: StsDeps, r: AssumeRoleRequest): Promise<Issued | Refusal> {
  const tags = readSessionTags(r);
  if (tags instanceof Refusal) return tags;
  const sourceIdentity = readSourceIdentity(r);
  if (sourceIdentity instanceof Refusal) return sourceIdentity;
  const role = await loadRole(deps, r);
  if (role instanceof Refusal) return role;
  const trusted = await evaluateTrust(deps, r, role, tags, sourceIdentity);
  if (trusted instanceof Refusal) return trusted;
  const duration = checkDuration(r, role);
  if (duration instanceof Refusal) return duration;
  const policies = await sessionPolicies(deps.store, deps, r.input, tags.request).catch(asRefusal);
  if (policies instanceof Refusal) return policies;
  const sealed = await seal(deps, r, role, tags, sourceIdentity, duration, policies);
  return render(r, role, sourceIdentity, policies, sealed);
}

/** Request tags plus the caller's inherited transitive tags; a duplicate or a clash is an error. */
const readSessionTags = (r: AssumeRoleRequest): SessionTags | Refusal => refusing(() => sessionTags(r));

function sessionTags({ input, parent }: AssumeRoleRequest): SessionTags {
  const request: Record<string, string> = {};
  for (const t of input.tags ?? []) request[t.Key] = t.Value;
  const dup = duplicateKey((input.tags ?? []).map((t) => t.Key));
  if (dup) throw awsError('sessionTagKeyRepeated', dup);
  const inherited: Record<string, string> = {};
  for (const k of parent?.transitiveTagKeys ?? []) {
    const entry = Object.entries(parent?.tags ?? {}).find(([tk]) => tk.toLowerCase() === k.toLowerCase());
    if (entry) inherited[entry[0]] = entry[1];
  }
  const inheritedLower = new Set(Object.keys(inherited).map((k) => k.toLowerCase()));
  const clash = Object.keys(request).find((k) => inheritedLower.has(k.toLowerCase()));
  if (clash) {
    throw awsError('transitiveTagConflict', clash);
  }
  const requestTagLower = new Set(Object.keys(request).map((k) => k.toLowerCase()));
  for (const k of input.transitiveTagKeys ?? []) {
    if (!requestTagLower.has(k.toLowerCase())) {
      throw awsError('transitiveKeyNotATag', k);
    }
  }
  return { request, inherited };
}

/** The source identity is set once and then immutable along the chain. */
function readSourceIdentity({ input, parent }: AssumeRoleRequest): string | undefined | Refusal {
  if (
    parent?.sourceIdentity &&
    input.sourceIdentity !== undefined &&
    input.sourceIdentity !== parent.sourceIdentity
  ) {
    return new Refusal(awsError('sourceIdentityFixed'));
  }
  return parent?.sourceIdentity ?? input.sourceIdentity;
}

/** AWS's words for every AccessDenied of this call: the caller, the action and the role asked for. */
const denyText = (r: AssumeRoleRequest): AwsError =>
  awsError('assumeRoleDenied', r.caller.arn, r.input.roleArn);

/** Plain reads, no transaction: nothing here writes. A missing role is AccessDenied, as on AWS. */
async function loadRole(deps: StsDeps, r: AssumeRoleRequest): Promise<RoleRecord | Refusal> {
  const role = await findRole(deps.store, r.input.roleArn);
  if (!role) return new Refusal(denyText(r).withDetail({ reason: 'role-not-found' }));
  r.role = role;
  return role;
}

/**
 * The caller's side (identity policies, boundary, session policies, SCPs) and the role's (trust
 * policy, RCPs) for sts:AssumeRole, then sts:TagSession and sts:SetSourceIdentity when asked for.
 */
async function evaluateTrust(
  deps: StsDeps,
  r: AssumeRoleRequest,
  role: RoleRecord,
  tags: SessionTags,
  sourceIdentity: string | undefined,
): Promise<undefined | Refusal> {
  const { input, meta } = r;
  const side = await deps.authorizer.callerSide(deps.store, r.caller, meta);
  const targetAccount = parseArn(input.roleArn)?.account ?? '';
  const context: Record<string, ContextValue> = {
    ...side.context,
    ...(await deps.authorizer.resourceContext(deps.store, targetAccount)),
    'sts:RoleSessionName': input.roleSessionName,
  };
  if (input.externalId !== undefined) context['sts:ExternalId'] = input.externalId;
  if (input.sourceIdentity !== undefined) context['sts:SourceIdentity'] = input.sourceIdentity;
  const requestKeys = Object.keys(tags.request);
  if (requestKeys.length > 0) {
    for (const [k, v] of Object.entries(tags.request)) context[`aws:RequestTag/${k}`] = v;
    context['aws:TagKeys'] = requestKeys;
  }
  if (input.transitiveTagKeys?.length) context['sts:TransitiveTagKeys'] = input.transitiveTagKeys;
  if (withMfa(input)) context['aws:MultiFactorAuthPresent'] = 'true';
  for (const t of role.tags) {
    // During trust evaluation a transitive session tag replaces a role tag with the same key.
    const over = Object.entries(tags.inherited).find(([k]) => k.toLowerCase() === t.Key.toLowerCase());
    context[`aws:ResourceTag/${t.Key}`] = over ? over[1] : t.Value;
  }
  const trust = deps.authorizer.policy(
    role.trustPolicy,
    'trust',
    `trust policy of role${role.path}${role.name}`,
  );
  const rcp = await deps.authorizer.rcps(deps.store, role.accountId);
  const actions = [ACTION];
  if (requestKeys.length > 0) actions.push('sts:TagSession');
  if (sourceIdentity !== undefined) actions.push('sts:SetSourceIdentity');
  for (const action of actions) {
    const decision = evaluate(
      { action, resource: role.arn, principal: side.principal, context },
      { ...side.set, resource: trust, resourceAccount: role.accountId, ...(rcp ? { rcp } : {}) },
    );
    deps.onDecision?.(decision);
    if (decision.effect !== 'Allow') {
      r.denied = { decision, action };
      return new Refusal(accessDenied(deps, denyText(r), decision, meta.requestId));
    }
  }
  return undefined;
}

/** MFA counts as present when both SerialNumber and TokenCode were passed. */
const withMfa = (input: AssumeRoleInput): boolean =>
  input.serialNumber !== undefined && input.tokenCode !== undefined;

/** Role chaining caps the session at one hour; otherwise the role's MaxSessionDuration does. */
function checkDuration(r: AssumeRoleRequest, role: RoleRecord): number | Refusal {
  const duration = r.input.durationSeconds ?? 3600;
  if (r.parent && duration > CHAIN_LIMIT) {
    return new Refusal(awsError('chainedDurationOverHour'));
  }
  if (duration > role.maxSessionDuration) return new Refusal(awsError('durationOverMax'));
  return duration;
}

/** The session's claims, sealed into credentials; a chained session keeps its run and token key. */
async function seal(
  deps: StsDeps,
  r: AssumeRoleRequest,
  role: RoleRecord,
  tags: SessionTags,
  sourceIdentity: string | undefined,
  duration: number,
  sp: SessionPolicies,
): Promise<{ credentials: IssuedCredentials; chainDepth: number }> {
  const { input, parent } = r;
  const iat = Math.floor(r.meta.now / 1000);
  const chainDepth = parent ? parent.chainDepth + 1 : 1;
  const claims: Omit<SessionClaims, 'sid' | 'accessKeyId'> = {
    accountId: role.accountId,
    roleId: role.id,
    roleName: role.name,
    rolePath: role.path,
    sessionName: input.roleSessionName,
    iat,
    exp: iat + duration,
    chainDepth,
    tags: { ...tags.inherited, ...tags.request },
    transitiveTagKeys: [
      ...new Set([...(parent?.transitiveTagKeys ?? []), ...(input.transitiveTagKeys ?? [])]),
    ],
  };
  if (sourceIdentity !== undefined) claims.sourceIdentity = sourceIdentity;
  if (sp.policies) {
    claims.policies = sp.policies;
    claims.policyDigest = policyDigest(sp.policies);
  }
  if (parent?.runId) claims.runId = parent.runId;
  if (parent?.tokenKid) claims.tokenKid = parent.tokenKid;
  if (parent?.runIssuer) claims.runIssuer = parent.runIssuer;
  if (parent?.runPhase) claims.runPhase = parent.runPhase;
  if (withMfa(input)) claims.mfa = true;
  return { credentials: await deps.issue(claims), chainDepth };
}

function render(
  r: AssumeRoleRequest,
  role: RoleRecord,
  sourceIdentity: string | undefined,
  sp: SessionPolicies,
  sealed: { credentials: IssuedCredentials; chainDepth: number },
): Issued {
  const result: AssumeRoleResult = {
    credentials: sealed.credentials,
    assumedRoleArn: assumedRoleArn(role.accountId, role.name, r.input.roleSessionName),
    assumedRoleId: `${role.id}:${r.input.roleSessionName}`,
  };
  if (sp.packedPercent !== undefined) result.packedPolicySize = sp.packedPercent;
  if (sourceIdentity !== undefined) result.sourceIdentity = sourceIdentity;
  return { result, chainDepth: sealed.chainDepth, duration: r.input.durationSeconds ?? 3600 };
}

/**
 * The request's one audit event: the issuance (with the web identity the chain started from), a
 * trust denial with its trace, a missing role, or a refusal before any policy decision.
 */
function auditEvent(r: AssumeRoleRequest, outcome: Issued | Refusal): AuditEvent {
  const { caller, parent, meta } = r;
  const roleNotFound = outcome instanceof Refusal && outcome.error.detail?.reason === 'role-not-found';
  // Refused before any policy decision: recorded as the endpoint records a refused call.
  if (outcome instanceof Refusal && r.denied === undefined && !roleNotFound)
    return stsRefusalEvent('AssumeRole', outcome.error, meta, caller);
  const event: AuditEvent = { time: meta.now, requestId: meta.requestId, action: ACTION, decision: 'allow' };
  if (outcome instanceof Refusal) {
    event.decision = 'deny';
    event.reasonCode = 'AccessDenied';
  }
  event.caller = caller.arn;
  event.roleArn = r.role?.arn ?? r.input.roleArn;
  if (!(outcome instanceof Refusal)) event.accessKeyId = outcome.result.credentials.accessKeyId;
  event.accountId = r.role?.accountId ?? parseArn(r.input.roleArn)?.account ?? '';
  if (parent?.runId) event.runId = parent.runId;
  if (parent) event.sessionId = parent.sid;
  // The web identity the chain started from.
  if (!(outcome instanceof Refusal) && parent?.webIdentity) {
    event.sub = parent.webIdentity.sub;
    event.aud = parent.webIdentity.aud;
    if (parent.webIdentity.jti) event.jti = parent.webIdentity.jti;
  }
  if (meta.sourceIp) event.sourceIp = meta.sourceIp;
  if (meta.userAgent) event.userAgent = meta.userAgent;
  if (!(outcome instanceof Refusal)) {
    const { chainDepth, duration, result } = outcome;
    event.detail = { chainDepth, durationSeconds: duration, assumedRoleArn: result.assumedRoleArn };
  } else if (r.denied) {
    const { action, decision } = r.denied;
    event.detail = { deniedAction: action, ...(outcome.error.detail ?? {}), trace: storedTrace(decision) };
  } else {
    event.detail = { reason: 'role-not-found' };
  }
  return event;
}
