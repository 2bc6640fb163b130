// OIDC discovery and JWKS documents: what AWS IAM and other relying parties read. The issuer has no
// trailing slash (IAM matches `iss` against the provider URL exactly).
import { CLAIMS_SUPPORTED } from './claims.js';

export const DISCOVERY_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/.well-known/jwks';

export const normalizeIssuer = (issuer: string): string => issuer.replace(/\/+$/, '');

export function discoveryDocument(issuer: string, algs: readonly string[]): Record<string, unknown> {
  const iss = normalizeIssuer(issuer);
  return {
    issuer: iss,
    jwks_uri: `${iss}${JWKS_PATH}`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(algs)].sort(),
    scopes_supported: ['openid'],
    claims_supported: [...CLAIMS_SUPPORTED],
  };
}

export function jwksDocument(keys: readonly Record<string, unknown>[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => ({ ...k })) };
}

/** JWKS/discovery cache lifetime: well under the publish-ahead, so a new key is seen before it signs. */
export function cacheSeconds(publishAheadMs: number): number {
  return Math.max(0, Math.min(300, Math.floor(publishAheadMs / 4000)));
}
