// Fixes for failed AssumeRoleWithWebIdentity calls that never reached a policy decision (no provider,
// wrong audience, expired, unreachable JWKS, ended run), from the few unverified claims their audit
// record keeps (src/cloud/sts/refusal.ts).
import { parseArn } from '../../core/arn.js';
import { MESSAGES } from '../../core/query/errors.js';
import type { Store } from '../../store/types.js';
import type { FailureInput } from '../sts/refusal.js';

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
  const removedKid = failure.detail?.removedKid;
  if (typeof removedKid === 'string') {
    const key = await store.get('signingKey', removedKid);
    const when = key?.revokedAt ?? key?.removedAt;
    const how = key?.revokedAt !== undefined ? 'revoked as leaked' : 'removed';
    return [
      `the token is signed by key ${removedKid}, which this deployment's issuer ${how}${when !== undefined ? ` at ${new Date(when).toISOString()}` : ''}: start the run again to get a token signed by the current key`,
    ];
  }
  if (message.startsWith('No OpenIDConnect provider')) {
    return [
      `register an OIDC provider with URL ${iss} in account ${account}: the provider must be in the role's account`,
    ];
  }
  if (message === MESSAGES.incorrectAudience.words()) {
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
