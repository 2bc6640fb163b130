// Failed AssumeRoleWithWebIdentity calls that never reached a policy decision (no provider, wrong
// audience, expired, unreachable JWKS, ended run, bad parameters): the audit record `gatepass
// explain` reads, and the fixes for them. The token is never kept: only a few of its claims, read
// without verification and marked as such.
import { parseArn } from '../../core/arn.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { Store } from '../../store/types.js';

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
}

export function tokenFailureEvent(
  failure: FailureInput,
  input: { roleArn: string; webIdentityToken: string },
  meta: { now: number; requestId: string; sourceIp?: string; userAgent?: string },
): AuditEvent {
  const claims = peekClaims(input.webIdentityToken);
  const kept: Record<string, unknown> = {};
  for (const k of KEPT) {
    const v = claims[k];
    if (typeof v === 'string' || typeof v === 'number') kept[k] = typeof v === 'string' ? v.slice(0, 512) : v;
    else if (Array.isArray(v)) kept[k] = v.filter((x) => typeof x === 'string').slice(0, 10);
  }
  const account = parseArn(input.roleArn)?.account;
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
    detail: { message: failure.message, unverifiedClaims: kept },
  };
}

/** Fixes for a token-level failure, from its (unverified) claims and the role account's providers. */
export async function tokenHints(
  store: Store,
  failure: FailureInput,
  claims: Record<string, unknown>,
  roleArn: string,
): Promise<string[]> {
  const account = parseArn(roleArn)?.account ?? '';
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  const { code, message } = failure;
  if (message.startsWith('No OpenIDConnect provider')) {
    return [
      `register an OIDC provider with URL ${iss} in account ${account}: the provider must be in the role's account`,
    ];
  }
  if (message === 'Incorrect token audience') {
    const providers = await store.list('oidcProvider', { index: { name: 'account', value: account } });
    const clientIds = providers.find((p) => p.url === iss)?.clientIds ?? [];
    return [
      `the token's aud is ${JSON.stringify(claims.aud)}; the provider's client ids are ${JSON.stringify(clientIds)}: add the audience to the provider or mint the token for one of them`,
    ];
  }
  if (code === 'ExpiredTokenException' && typeof claims.exp === 'number') {
    return [`the token expired at ${new Date(claims.exp * 1000).toISOString()}: mint a new one`];
  }
  if (code === 'IDPCommunicationError' || message.startsWith("Couldn't retrieve verification key")) {
    return [
      `gatepass could not get the signing key from ${iss}: the issuer's discovery and JWKS must be reachable over HTTPS and publish the token's kid`,
    ];
  }
  if (code === 'IDPRejectedClaim') return ['the run this token belongs to has ended: start a new run'];
  if (/MaxSessionDuration/.test(message))
    return ["ask for a shorter session, or raise the role's MaxSessionDuration"];
  return [];
}
