// AssumeRoleWithWebIdentity: the pipeline of spec-notes §8.2. The role's account must hold an OIDC
// provider whose Url is exactly the token's `iss`; only RCPs and the trust policy decide (there is
// no AWS caller). Beyond AWS, every claim is a condition key `<provider>:<claim>`.
import { assumedRoleArn, parseArn } from '../../core/arn.js';
import { type ContextValue, evaluate } from '../../core/policy/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import { AwsError } from '../../core/query/errors.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { OidcProviderRecord, RoleRecord } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import { baseContext, type RequestMeta } from '../authz.js';
import type { SessionClaims } from '../caller.js';
import { type PeekedJwt, peekJwt } from '../oidc/verify.js';
import {
  accessDenied,
  duplicateKey,
  findRole,
  policyDigest,
  type SessionPolicyInput,
  sessionPolicies,
} from './common.js';
import type { IssuedCredentials, StsDeps } from './deps.js';

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
const NOT_AUTHORIZED = 'Not authorized to perform sts:AssumeRoleWithWebIdentity';

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
    if (!tagClaim || typeof tagClaim !== 'object')
      throw new AwsError('InvalidIdentityToken', 'Invalid session tags claim.');
    const { principal_tags: pt, transitive_tag_keys: tk } = tagClaim as Record<string, unknown>;
    if (pt !== undefined) {
      if (!pt || typeof pt !== 'object')
        throw new AwsError('InvalidIdentityToken', 'Invalid principal_tags claim.');
      for (const [k, v] of Object.entries(pt)) {
        // Session tags are single-valued: AWS expects one-element arrays.
        const value = Array.isArray(v) && v.length === 1 && typeof v[0] === 'string' ? v[0] : undefined;
        if (value === undefined || k.length < 1 || k.length > 128 || value.length > 256) {
          throw new AwsError('InvalidIdentityToken', 'Invalid session tag in principal_tags claim.');
        }
        out.tags[k] = value;
      }
      if (Object.keys(out.tags).length > 50)
        throw new AwsError('InvalidIdentityToken', 'Too many session tags.');
      if (duplicateKey(Object.keys(out.tags)))
        throw new AwsError('InvalidIdentityToken', 'Duplicate session tag keys.');
    }
    if (tk !== undefined) {
      if (!Array.isArray(tk) || !tk.every((k): k is string => typeof k === 'string')) {
        throw new AwsError('InvalidIdentityToken', 'Invalid transitive_tag_keys claim.');
      }
      out.transitive = tk;
    }
  }
  const si = claims[SOURCE_IDENTITY_CLAIM];
  if (si !== undefined) {
    if (typeof si !== 'string' || !/^[\w+=,.@-]{2,64}$/.test(si) || si.toLowerCase().startsWith('aws:')) {
      throw new AwsError('InvalidIdentityToken', 'Invalid source identity claim.');
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

export async function assumeRoleWithWebIdentity(
  deps: StsDeps,
  input: WebIdentityInput,
  meta: RequestMeta & { requestId: string },
): Promise<WebIdentityResult> {
  // Decoded once: the issuer picks the provider, the same parts are then verified against its keys.
  const peeked = peekJwt(input.webIdentityToken);
  const iss = unverifiedIssuer(peeked);
  if (peeked === undefined || iss === undefined)
    throw new AwsError('InvalidIdentityToken', 'The ID Token provided is not a valid JWT.');
  const duration = input.durationSeconds ?? 3600;

  // The provider is looked up in the account the RoleArn names, whether or not the role exists.
  const account = parseArn(input.roleArn)?.account ?? '';
  // Plain reads, no transaction: nothing here writes, and the hot path must not take a write lock.
  const providerKey = indexKey(account, iss);
  // Both are read on every call and change rarely: kept by the authorizer until the model changes,
  // and read without a promise when kept (misses load one after the other; they are rare).
  const roleKey = `role\u0000${input.roleArn}`;
  const providerCacheKey = `oidcProvider\u0000${providerKey}`;
  const role =
    deps.authorizer.cached<RoleRecord>(roleKey) ??
    (await deps.authorizer.record(roleKey, () => findRole(deps.store, input.roleArn)));
  const provider =
    deps.authorizer.cached<OidcProviderRecord>(providerCacheKey) ??
    (await deps.authorizer.record(providerCacheKey, () =>
      deps.store.getBy('oidcProvider', 'accountUrl', providerKey),
    ));
  if (!provider) {
    throw new AwsError(
      'InvalidIdentityToken',
      `No OpenIDConnect provider found in your account for ${iss.slice(0, 255)}`,
    );
  }
  const verified = await deps.verifyToken(peeked, provider, meta.now);
  if (!role) throw accessDeniedNoRole(deps, input.roleArn, meta);
  const claims = verified.claims;
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  if (sub.length < 6 || sub.length > 255)
    throw new AwsError('InvalidIdentityToken', 'The token subject is invalid.');
  const runId = runIdOf(claims);
  const runPhase = runPhaseOf(claims);
  if (runId) {
    const ended = deps.runRevocation({
      issuer: provider.url,
      runId,
      ...(runPhase !== undefined ? { phase: runPhase } : {}),
    });
    if (ended) {
      const what = ended.scope === 'phase' ? 'a run phase' : 'a run';
      throw new AwsError('IDPRejectedClaim', `The web identity token belongs to ${what} that has ended.`, {
        runId,
        ...(ended.phase !== undefined ? { phase: ended.phase } : {}),
        revokedAt: ended.createdAt,
        revocation: ended.reason,
      });
    }
  }
  const session = sessionDataFromClaims(claims);
  const prefix = providerPrefix(provider.url);
  const context = buildContext(meta, prefix, claims, verified.aud, role, provider, input, session);
  Object.assign(context, await deps.authorizer.resourceContext(deps.store, role.accountId));

  await authorizeTrust(deps, role, provider, context, session, meta, claims);

  if (duration > role.maxSessionDuration) {
    throw new AwsError(
      'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }
  const sp = await sessionPolicies(deps.store, deps, input, session.tags);

  // Built by assignment rather than conditional spreads: on this path spreading costs more than the
  // JSON and AES-GCM that seal the result.
  const iat = Math.floor(meta.now / 1000);
  const webIdentity: NonNullable<SessionClaims['webIdentity']> = {
    provider: prefix,
    providerArn: provider.id,
    sub,
    aud: verified.aud,
  };
  const amr = claims.amr;
  if (Array.isArray(amr) && amr.every((a) => typeof a === 'string')) webIdentity.amr = amr;
  const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
  if (jti !== undefined) webIdentity.jti = jti;
  const claimsToSeal: Omit<SessionClaims, 'sid' | 'accessKeyId'> = {
    accountId: role.accountId,
    roleId: role.id,
    roleName: role.name,
    rolePath: role.path,
    sessionName: input.roleSessionName,
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
  if (runId) {
    claimsToSeal.runId = runId;
    claimsToSeal.runIssuer = provider.url;
    if (runPhase !== undefined) claimsToSeal.runPhase = runPhase;
    // Before the credentials leave: RevokeRun from another issuer for this run id is refused from now on.
    await deps.noteRun(provider.url, runId, meta.now);
  }
  claimsToSeal.tokenKid = verified.kid;
  const credentials = await deps.issue(claimsToSeal);
  const arn = assumedRoleArn(role.accountId, role.name, input.roleSessionName);
  const event: AuditEvent = {
    time: meta.now,
    requestId: meta.requestId,
    action: 'sts:AssumeRoleWithWebIdentity',
    decision: 'allow',
    caller: arn,
    roleArn: role.arn,
    accessKeyId: credentials.accessKeyId,
    accountId: role.accountId,
    sub,
    aud: verified.aud,
    detail: { kid: verified.kid, durationSeconds: duration },
  };
  if (jti !== undefined) event.jti = jti;
  if (runId) event.runId = runId;
  const workspaceId = workspaceIdOf(claims);
  if (workspaceId !== undefined) event.workspaceId = workspaceId;
  if (meta.sourceIp) event.sourceIp = meta.sourceIp;
  if (meta.userAgent) event.userAgent = meta.userAgent;
  // The issuance is on record before the credentials leave the server.
  await deps.audit(event);
  const result: WebIdentityResult = {
    credentials,
    subject: sub,
    audience: verified.aud,
    provider: provider.id,
    assumedRoleArn: arn,
    assumedRoleId: `${role.id}:${input.roleSessionName}`,
  };
  if (sp.packedPercent !== undefined) result.packedPolicySize = sp.packedPercent;
  if (session.sourceIdentity) result.sourceIdentity = session.sourceIdentity;
  return result;
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

function runOf(claims: Record<string, unknown>): { runId?: string } {
  const runId = runIdOf(claims);
  return runId ? { runId } : {};
}

function workspaceIdOf(claims: Record<string, unknown>): string | undefined {
  const w = claims.terraform_workspace_id;
  return typeof w === 'string' ? w : undefined;
}

function workspaceOf(claims: Record<string, unknown>): { workspaceId?: string } {
  const workspaceId = workspaceIdOf(claims);
  return workspaceId !== undefined ? { workspaceId } : {};
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

/** RCPs of the role's account and the trust policy; plus sts:TagSession / sts:SetSourceIdentity. */
async function authorizeTrust(
  deps: StsDeps,
  role: RoleRecord,
  provider: OidcProviderRecord,
  context: Record<string, ContextValue>,
  session: TokenSessionData,
  meta: RequestMeta & { requestId: string },
  claims: Record<string, unknown>,
): Promise<void> {
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
      {
        action,
        resource: role.arn,
        principal: { type: 'Federated', ids: [provider.id] },
        context,
      },
      { resource: trust, resourceAccount: role.accountId, ...(rcp ? { rcp } : {}) },
    );
    deps.onDecision?.(decision);
    if (decision.effect !== 'Allow') {
      const err = accessDenied(deps, NOT_AUTHORIZED, decision, meta.requestId);
      void deps.audit({
        time: deps.clock.now(),
        requestId: meta.requestId,
        action: 'sts:AssumeRoleWithWebIdentity',
        decision: 'deny',
        reasonCode: 'AccessDenied',
        roleArn: role.arn,
        accountId: role.accountId,
        ...(typeof context[`${providerPrefix(provider.url)}:sub`] === 'string'
          ? { sub: context[`${providerPrefix(provider.url)}:sub`] as string }
          : {}),
        // The run and workspace too, so `gatepass audit --run/--workspace` finds denials as well.
        ...(typeof claims.jti === 'string' ? { jti: claims.jti } : {}),
        ...runOf(claims),
        ...workspaceOf(claims),
        ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
        ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
        detail: { deniedAction: action, ...(err.detail ?? {}), trace: storedTrace(decision) },
      });
      throw err;
    }
  }
}

function accessDeniedNoRole(
  deps: StsDeps,
  roleArn: string,
  meta: RequestMeta & { requestId: string },
): AwsError {
  void deps.audit({
    time: deps.clock.now(),
    requestId: meta.requestId,
    ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
    ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
    action: 'sts:AssumeRoleWithWebIdentity',
    decision: 'deny',
    reasonCode: 'AccessDenied',
    roleArn,
    detail: { reason: 'role-not-found' },
  });
  return new AwsError('AccessDenied', NOT_AUTHORIZED, { reason: 'role-not-found' });
}
