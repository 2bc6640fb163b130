// AssumeRoleWithWebIdentity: the pipeline of spec-notes §8.2. The role's account must hold an OIDC
// provider whose Url is exactly the token's `iss`; only RCPs and the trust policy decide (there is
// no AWS caller). Beyond AWS, every claim is a condition key `<provider>:<claim>`.
import { assumedRoleArn, parseArn } from '../../core/arn.js';
import { type ContextValue, type Decision, evaluate } from '../../core/policy/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import { awsError } from '../../core/query/errors.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { OidcProviderRecord, RoleRecord } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import { baseContext, type RequestMeta } from '../authz/authorizer.js';
import type { SessionClaims } from '../caller/caller.js';
import { type PeekedJwt, peekJwt } from '../oidc/verify.js';
import {
  accessDenied,
  duplicateKey,
  findRole,
  policyDigest,
  type SessionPolicyInput,
  sessionPolicies,
} from './common.js';
import type { IssuedCredentials, StsDeps, VerifiedToken } from './deps.js';
import { tokenFailureEvent } from './refusal.js';
import { asRefusal, Refusal, recordOutcome, refusing } from './steps.js';

export interface WebIdentityInput extends SessionPolicyInput {
  roleArn: string;
  roleSessionName: string;
  webIdentityToken: string;
  durationSeconds?: number;
}

export interface WebIdentityResult {
  credentials: IssuedCredentials;
  subject: string;
  audience: string;
  provider: string;
  assumedRoleArn: string;
  assumedRoleId: string;
  packedPolicySize?: number;
  sourceIdentity?: string;
}

const TAGS_CLAIM = 'https://aws.amazon.com/tags';
const SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';
const ACTION = 'sts:AssumeRoleWithWebIdentity';

/** The part of the token an unverified decode may read: only `iss`, to find the provider. */
export function unverifiedIssuer(token: string | PeekedJwt | undefined): string | undefined {
  const peeked = typeof token === 'string' ? peekJwt(token) : token;
  const iss = peeked?.claims.iss;
  return typeof iss === 'string' ? iss : undefined;
}

/** `https://host/path` → `host/path`: the condition key prefix and the provider ARN suffix. */
export const providerPrefix = (url: string): string => url.replace(/^https:\/\//, '');

interface TokenSessionData {
  tags: Record<string, string>;
  transitive: string[];
  sourceIdentity?: string;
}

function sessionDataFromClaims(claims: Record<string, unknown>): TokenSessionData {
  const out: TokenSessionData = { tags: {}, transitive: [] };
  const tagClaim = claims[TAGS_CLAIM];
  if (tagClaim !== undefined) {
    if (!tagClaim || typeof tagClaim !== 'object') throw awsError('sessionTagsClaimInvalid');
    const { principal_tags: pt, transitive_tag_keys: tk } = tagClaim as Record<string, unknown>;
    if (pt !== undefined) {
      if (!pt || typeof pt !== 'object') throw awsError('principalTagsClaimInvalid');
      for (const [k, v] of Object.entries(pt)) {
        // Session tags are single-valued: AWS expects one-element arrays.
        const value = Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' ? v[0] : undefined;
        if (value === undefined || k.length < 1 || k.length > 128 || value.length > 256) {
          throw awsError('sessionTagClaimInvalid');
        }
        out.tags[k] = value;
      }
      if (Object.keys(out.tags).length > 50) throw awsError('sessionTagsTooMany');
      if (duplicateKey(Object.keys(out.tags))) throw awsError('sessionTagKeysDuplicate');
    }
    if (tk !== undefined) {
      if (!Array.isArray(tk) || !tk.every((k): k is string => typeof k === 'string')) {
        throw awsError('transitiveTagKeysClaimInvalid');
      }
      out.transitive = tk;
    }
  }
  const si = claims[SOURCE_IDENTITY_CLAIM];
  if (si !== undefined) {
    if (typeof si !== 'string' || !/^[\w+=,.@-]{2,64}$/.test(si) || si.toLowerCase().startsWith('aws:')) {
      throw awsError('sourceIdentityClaimInvalid');
    }
    out.sourceIdentity = si;
  }
  return out;
}

/** Every claim as `<prefix>:<claim>` into `ctx`; arrays become multi-valued keys, objects are not keys. */
function addClaimKeys(
  ctx: Record<string, ContextValue>,
  prefix: string,
  claims: Record<string, unknown>,
  aud: string,
): void {
  for (const name in claims) {
    if (name.startsWith('https://')) continue;
    const value = claims[name];
    if (typeof value === 'string') ctx[`${prefix}:${name}`] = value;
    else if (typeof value === 'number' || typeof value === 'boolean')
      ctx[`${prefix}:${name}`] = String(value);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      ctx[`${prefix}:${name}`] = value;
  }
  // The matched client id, not the raw (possibly multi-valued) aud claim.
  ctx[`${prefix}:aud`] = aud;
}

/** One request, read once: the time (`meta.now`), the token decoded once, then what each step found. */
interface WebIdentityRequest {
  readonly input: WebIdentityInput;
  readonly meta: RequestMeta & { requestId: string };
  peeked?: PeekedJwt;
  role?: RoleRecord;
  provider?: OidcProviderRecord;
  verified?: VerifiedToken;
  sub?: string;
  runId?: string;
  runPhase?: string;
  /** The run's binding to its issuer, committing with the request's audit event (seal starts it). */
  runNoted?: Promise<void>;
  /** The trust decision that refused the request, and the action it was for. */
  denied?: { decision: Decision; action: string };
}

/**
 * The steps in order; each fills in the request or returns a refusal. Exactly one audit event per
 * request, built by `auditEvent` and awaited: an issuance whose record fails to commit fails, a
 * refusal is answered even when its record could not be written (the audit log logs that).
 */
export async function assumeRoleWithWebIdentity(
  deps: StsDeps,
  input: WebIdentityInput,
  meta: RequestMeta & { requestId: string },
): Promise<WebIdentityResult> {
  const r: WebIdentityRequest = { input, meta };
  const outcome = await steps(deps, r);
  // The issuance is on record before the credentials leave the server, and so is a new run's
  // binding to its issuer (`runNoted`): both join one commit.
  const [recorded] = await Promise.all([recordOutcome(deps, outcome, auditEvent(r, outcome)), r.runNoted]);
  return recorded.result;
}

async function steps(deps: StsDeps, r: WebIdentityRequest): Promise<Issued | Refusal> {
  const iss = peekToken(r);
  if (iss instanceof Refusal) return iss;
  const provider = await loadRoleAndProvider(deps, r, iss).catch(asRefusal);
  if (provider instanceof Refusal) return provider;
  const verified = await verifyToken(deps, r, provider);
  if (verified instanceof Refusal) return verified;
  const role = requireRole(r);
  if (role instanceof Refusal) return role;
  const revoked = rejectRevokedRun(deps, r, provider, verified);
  if (revoked instanceof Refusal) return revoked;
  const session = readSessionClaims(verified);
  if (session instanceof Refusal) return session;
  const trusted = await evaluateTrust(deps, r, role, provider, verified, session);
  if (trusted instanceof Refusal) return trusted;
  const duration = checkDuration(r, role);
  if (duration instanceof Refusal) return duration;
  const policies = await loadSessionPolicies(deps, r, session);
  if (policies instanceof Refusal) return policies;
  const credentials = await seal(deps, r, role, provider, verified, session, duration, policies);
  return render(r, role, provider, verified, session, policies, credentials);
}

/** Decoded once: the issuer picks the provider, the same parts are then verified against its keys. */
function peekToken(r: WebIdentityRequest): string | Refusal {
  const peeked = peekJwt(r.input.webIdentityToken);
  const iss = unverifiedIssuer(peeked);
  if (peeked === undefined || iss === undefined) return new Refusal(awsError('notAJwt'));
  r.peeked = peeked;
  return iss;
}

/** The provider is looked up in the account the RoleArn names, whether or not the role exists. */
async function loadRoleAndProvider(
  deps: StsDeps,
  r: WebIdentityRequest,
  iss: string,
): Promise<OidcProviderRecord | Refusal> {
  const account = parseArn(r.input.roleArn)?.account ?? '';
  // Plain reads, no transaction: nothing here writes, and the hot path must not take a write lock.
  const providerKey = indexKey(account, iss);
  // Both are read on every call and change rarely: kept by the record cache until the model changes,
  // and read without a promise when kept (misses load one after the other; they are rare).
  const roleKey = `role\u0000${r.input.roleArn}`;
  const providerCacheKey = `oidcProvider\u0000${providerKey}`;
  const role =
    deps.records.cached<RoleRecord>(roleKey) ??
    (await deps.records.record(roleKey, () => findRole(deps.store, r.input.roleArn)));
  const provider =
    deps.records.cached<OidcProviderRecord>(providerCacheKey) ??
    (await deps.records.record(providerCacheKey, () =>
      deps.store.getBy('oidcProvider', 'accountUrl', providerKey),
    ));
  if (role) r.role = role;
  if (!provider) {
    return new Refusal(awsError('providerNotFoundForIssuer', iss.slice(0, 255)));
  }
  r.provider = provider;
  return provider;
}

/** Signature, algorithm, times, issuer and audience against the provider's keys; then the subject. */
async function verifyToken(
  deps: StsDeps,
  r: WebIdentityRequest,
  provider: OidcProviderRecord,
): Promise<VerifiedToken | Refusal> {
  const verified = await deps
    .verifyToken(r.peeked ?? r.input.webIdentityToken, provider, r.meta.now)
    .catch(asRefusal);
  if (verified instanceof Refusal) return verified;
  r.verified = verified;
  return verified;
}

/** The role (refused only after the token verified: no probing for role names), then the subject. */
function requireRole(r: WebIdentityRequest): RoleRecord | Refusal {
  if (!r.role)
    return new Refusal(awsError('notAuthorizedWebIdentity').withDetail({ reason: 'role-not-found' }));
  const claims = r.verified?.claims ?? {};
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  if (sub.length < 6 || sub.length > 255) return new Refusal(awsError('tokenSubjectInvalid'));
  r.sub = sub;
  return r.role;
}

/** A token of a run (or phase) that has ended opens nothing. */
function rejectRevokedRun(
  deps: StsDeps,
  r: WebIdentityRequest,
  provider: OidcProviderRecord,
  verified: VerifiedToken,
): undefined | Refusal {
  const runId = runIdOf(verified.claims);
  const runPhase = runPhaseOf(verified.claims);
  if (runId) r.runId = runId;
  if (runPhase !== undefined) r.runPhase = runPhase;
  if (!runId) return undefined;
  const ended = deps.runRevocation({
    issuer: provider.url,
    runId,
    ...(runPhase !== undefined ? { phase: runPhase } : {}),
  });
  if (!ended) return undefined;
  return new Refusal(
    awsError('runEnded', ended.scope === 'phase' ? 'phase' : 'run').withDetail({
      runId,
      ...(ended.phase !== undefined ? { phase: ended.phase } : {}),
      revokedAt: ended.createdAt,
      revocation: ended.reason,
    }),
  );
}

/** Session tags, transitive keys and source identity from the AWS claims of the verified token. */
const readSessionClaims = (verified: VerifiedToken): TokenSessionData | Refusal =>
  refusing(() => sessionDataFromClaims(verified.claims));

/** Policy and PolicyArns, parsed and sized against the session tags. */
const loadSessionPolicies = (
  deps: StsDeps,
  r: WebIdentityRequest,
  session: TokenSessionData,
): Promise<SessionPolicies | Refusal> =>
  sessionPolicies(deps.store, deps, r.input, session.tags).catch(asRefusal);

/** RCPs of the role's account and the trust policy; plus sts:TagSession / sts:SetSourceIdentity. */
async function evaluateTrust(
  deps: StsDeps,
  r: WebIdentityRequest,
  role: RoleRecord,
  provider: OidcProviderRecord,
  verified: VerifiedToken,
  session: TokenSessionData,
): Promise<undefined | Refusal> {
  const prefix = providerPrefix(provider.url);
  const context = buildContext(
    r.meta,
    prefix,
    verified.claims,
    verified.aud,
    role,
    provider,
    r.input,
    session,
  );
  Object.assign(context, await deps.authorizer.resourceContext(deps.store, role.accountId));
  const trust = deps.authorizer.policy(
    role.trustPolicy,
    'trust',
    `trust policy of role${role.path}${role.name}`,
  );
  const rcp = await deps.authorizer.rcps(deps.store, role.accountId);
  const actions = ['sts:AssumeRoleWithWebIdentity'];
  if (Object.keys(session.tags).length > 0) actions.push('sts:TagSession');
  if (session.sourceIdentity) actions.push('sts:SetSourceIdentity');
  for (const action of actions) {
    const decision = evaluate(
      { action, resource: role.arn, principal: { type: 'Federated', ids: [provider.id] }, context },
      { resource: trust, resourceAccount: role.accountId, ...(rcp ? { rcp } : {}) },
    );
    deps.onDecision?.(decision);
    if (decision.effect !== 'Allow') {
      r.denied = { decision, action };
      return new Refusal(
        accessDenied(deps, awsError('notAuthorizedWebIdentity'), decision, r.meta.requestId),
      );
    }
  }
  return undefined;
}

function checkDuration(r: WebIdentityRequest, role: RoleRecord): number | Refusal {
  const duration = r.input.durationSeconds ?? 3600;
  if (duration <= role.maxSessionDuration) return duration;
  return new Refusal(awsError('durationOverMax'));
}

type SessionPolicies = Awaited<ReturnType<typeof sessionPolicies>>;

/** The session's claims, sealed into credentials; the run's note is started (RevokeRun's issuer check). */
async function seal(
  deps: StsDeps,
  r: WebIdentityRequest,
  role: RoleRecord,
  provider: OidcProviderRecord,
  verified: VerifiedToken,
  session: TokenSessionData,
  duration: number,
  sp: SessionPolicies,
): Promise<IssuedCredentials> {
  const { claims } = verified;
  // Built by assignment rather than conditional spreads: on this path spreading costs more than the
  // JSON and AES-GCM that seal the result.
  const iat = Math.floor(r.meta.now / 1000);
  const webIdentity: NonNullable<SessionClaims['webIdentity']> = {
    provider: providerPrefix(provider.url),
    providerArn: provider.id,
    sub: r.sub ?? '',
    aud: verified.aud,
  };
  const amr = claims.amr;
  if (Array.isArray(amr) && amr.every((a) => typeof a === 'string')) webIdentity.amr = amr;
  const jti = jtiOf(claims);
  if (jti !== undefined) webIdentity.jti = jti;
  const claimsToSeal: Omit<SessionClaims, 'sid' | 'accessKeyId'> = {
    accountId: role.accountId,
    roleId: role.id,
    roleName: role.name,
    rolePath: role.path,
    sessionName: r.input.roleSessionName,
    iat,
    exp: iat + duration,
    chainDepth: 1,
    tags: session.tags,
    transitiveTagKeys: session.transitive,
    webIdentity,
  };
  if (session.sourceIdentity) claimsToSeal.sourceIdentity = session.sourceIdentity;
  if (sp.policies) {
    claimsToSeal.policies = sp.policies;
    claimsToSeal.policyDigest = policyDigest(sp.policies);
  }
  if (r.runId) {
    claimsToSeal.runId = r.runId;
    claimsToSeal.runIssuer = provider.url;
    if (r.runPhase !== undefined) claimsToSeal.runPhase = r.runPhase;
    // Before the credentials leave (awaited with the audit event): RevokeRun from another issuer for
    // this run id is refused from now on. Handled here too, should a later step throw first.
    r.runNoted = deps.noteRun(provider.url, r.runId, r.meta.now);
    r.runNoted.catch(() => undefined);
  }
  claimsToSeal.tokenKid = verified.kid;
  return deps.issue(claimsToSeal);
}

interface Issued {
  result: WebIdentityResult;
  duration: number;
}

function render(
  r: WebIdentityRequest,
  role: RoleRecord,
  provider: OidcProviderRecord,
  verified: VerifiedToken,
  session: TokenSessionData,
  sp: SessionPolicies,
  credentials: IssuedCredentials,
): Issued {
  const result: WebIdentityResult = {
    credentials,
    subject: r.sub ?? '',
    audience: verified.aud,
    provider: provider.id,
    assumedRoleArn: assumedRoleArn(role.accountId, role.name, r.input.roleSessionName),
    assumedRoleId: `${role.id}:${r.input.roleSessionName}`,
  };
  if (sp.packedPercent !== undefined) result.packedPolicySize = sp.packedPercent;
  if (session.sourceIdentity) result.sourceIdentity = session.sourceIdentity;
  return { result, duration: r.input.durationSeconds ?? 3600 };
}

/** The request's one audit event: the issuance, a trust denial with its trace, or a refusal. */
function auditEvent(r: WebIdentityRequest, outcome: Issued | Refusal): AuditEvent {
  const { meta } = r;
  if (outcome instanceof Refusal && r.denied === undefined) {
    if (outcome.error.detail?.reason === 'role-not-found') {
      return withClient(meta, {
        time: meta.now,
        requestId: meta.requestId,
        action: ACTION,
        decision: 'deny',
        reasonCode: 'AccessDenied',
        roleArn: r.input.roleArn,
        detail: { reason: 'role-not-found' },
      });
    }
    // Refused before any policy decision: a few unverified claims, so `gatepass explain` can say
    // what to fix; never the token itself.
    return tokenFailureEvent(outcome.error, r.input, meta, r.peeked?.claims);
  }
  const role = r.role as RoleRecord;
  const claims = r.verified?.claims ?? {};
  const event: AuditEvent = { time: meta.now, requestId: meta.requestId, action: ACTION, decision: 'allow' };
  if (outcome instanceof Refusal) {
    event.decision = 'deny';
    event.reasonCode = 'AccessDenied';
  } else {
    event.caller = outcome.result.assumedRoleArn;
    event.accessKeyId = outcome.result.credentials.accessKeyId;
  }
  event.roleArn = role.arn;
  event.accountId = role.accountId;
  if (r.sub !== undefined) event.sub = r.sub;
  if (!(outcome instanceof Refusal) && r.verified) event.aud = r.verified.aud;
  const jti = jtiOf(claims);
  if (jti !== undefined) event.jti = jti;
  // The run and workspace on denials too, so `gatepass audit --run/--workspace` finds them.
  if (r.runId) event.runId = r.runId;
  const workspaceId = workspaceIdOf(claims);
  if (workspaceId !== undefined) event.workspaceId = workspaceId;
  event.detail =
    outcome instanceof Refusal
      ? {
          deniedAction: r.denied?.action,
          ...(outcome.error.detail ?? {}),
          ...(r.denied ? { trace: storedTrace(r.denied.decision) } : {}),
        }
      : { kid: r.verified?.kid, durationSeconds: outcome.duration };
  return withClient(meta, event);
}

/** The client's address and user agent, when known. */
function withClient(meta: RequestMeta, event: AuditEvent): AuditEvent {
  if (meta.sourceIp) event.sourceIp = meta.sourceIp;
  if (meta.userAgent) event.userAgent = meta.userAgent;
  return event;
}

/** The run a token belongs to: HCP's claim, else the source identity gatepass sets to the run id. */
export function runIdOf(claims: Record<string, unknown>): string | undefined {
  const r = claims.terraform_run_id;
  if (typeof r === 'string' && r.length > 0) return r;
  const si = claims[SOURCE_IDENTITY_CLAIM];
  return typeof si === 'string' && si.startsWith('run-') ? si : undefined;
}

/** The token's run phase (`terraform_run_phase`), when it is a plain short name. */
export function runPhaseOf(claims: Record<string, unknown>): string | undefined {
  const p = claims.terraform_run_phase;
  return typeof p === 'string' && /^[a-z][a-z_-]{0,31}$/.test(p) ? p : undefined;
}

function workspaceIdOf(claims: Record<string, unknown>): string | undefined {
  const w = claims.terraform_workspace_id;
  return typeof w === 'string' ? w : undefined;
}

function buildContext(
  meta: RequestMeta,
  prefix: string,
  claims: Record<string, unknown>,
  aud: string,
  role: RoleRecord,
  provider: OidcProviderRecord,
  input: WebIdentityInput,
  session: TokenSessionData,
): Record<string, ContextValue> {
  // One object filled in place: spreading these many-keyed objects into each other costs more than
  // the trust decision that reads them.
  const ctx = baseContext(meta);
  addClaimKeys(ctx, prefix, claims, aud);
  ctx['aws:FederatedProvider'] = provider.id;
  ctx['sts:RoleSessionName'] = input.roleSessionName;
  ctx['aws:PrincipalType'] = 'WebIdentityUser';
  for (const t of role.tags) ctx[`aws:ResourceTag/${t.Key}`] = t.Value;
  const tagKeys = Object.keys(session.tags);
  if (tagKeys.length > 0) {
    for (const [k, v] of Object.entries(session.tags)) ctx[`aws:RequestTag/${k}`] = v;
    ctx['aws:TagKeys'] = tagKeys;
  }
  if (session.transitive.length > 0) ctx['sts:TransitiveTagKeys'] = session.transitive;
  if (session.sourceIdentity) ctx['sts:SourceIdentity'] = session.sourceIdentity;
  return ctx;
}

const jtiOf = (claims: Record<string, unknown>): string | undefined =>
  typeof claims.jti === 'string' ? claims.jti : undefined;
