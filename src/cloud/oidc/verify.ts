// Web identity token verification against one registered OIDC provider: structure, algorithm,
// signature with the issuer's published key, issuer, audience and times, with AWS's error codes.
import { createPublicKey, type JsonWebKey, type KeyObject, verify as verifySignature } from 'node:crypto';
import { awsError } from '../../core/query/errors.js';
import { REVOKE_RUN_AUDIENCE } from '../../core/revoke-audience.js';
import type { OidcProviderRecord } from '../../store/records/iam.js';
import type { Trust } from './https-get.js';
import { IdpUnavailableError, type JwksCache, type PublishedKey } from './jwks.js';

export const ALLOWED_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const;
type Alg = (typeof ALLOWED_ALGS)[number];

const EC_CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

export interface VerifiedToken {
  claims: Record<string, unknown>;
  kid: string;
  /** The audience that matched the provider's client id list. */
  aud: string;
}

export interface VerifyOptions {
  /** Epoch milliseconds. */
  now: number;
  /** Tolerated clock difference with the issuer, seconds. */
  skewSeconds?: number;
  /** RevokeRun accepts a token past its expiry: it proves the run, it grants nothing. */
  ignoreExpiry?: boolean;
  /**
   * What the token is presented for. `revoke-run` (RevokeRun) also accepts the revoke-only audience;
   * `session` (the default) never does, even when a provider lists it as a client id.
   */
  purpose?: 'session' | 'revoke-run';
  ca?: readonly string[];
  /** Keys the verifier knows were removed (this deployment's keyring): refused before any JWKS fetch. */
  isKeyRemoved?: (kid: string) => boolean;
}

function decodePart(part: string | undefined): Record<string, unknown> {
  if (!part || !/^[A-Za-z0-9_-]+$/.test(part)) throw awsError('notAJwt');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw awsError('notAJwt');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw awsError('notAJwt');
  }
  return value as Record<string, unknown>;
}

/** A JWT split in three with its payload decoded, not verified: read once, then verified. */
export interface PeekedJwt {
  readonly parts: readonly string[];
  readonly claims: Record<string, unknown>;
}

/** Split a compact JWT and decode its payload; undefined when it is not shaped as one. */
export function peekJwt(token: string): PeekedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return { parts, claims: decodePart(parts[1]) };
  } catch {
    return undefined;
  }
}

function integerClaim(claims: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const value = claims[name];
  if (value === undefined && !required) return undefined;
  // AWS: iat, exp and nbf must be integers, not strings or floats.
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw awsError('claimNotInteger', name);
  }
  return value;
}

function keyFits(jwk: PublishedKey, alg: Alg): boolean {
  if (typeof jwk.alg === 'string' && jwk.alg !== alg) return false;
  if (alg.startsWith('RS')) return jwk.kty === 'RSA';
  return jwk.kty === 'EC' && jwk.crv === EC_CURVE[alg];
}

const HASH: Record<Alg, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

// Imported once per published key object (the JWKS cache keeps the same objects until a refetch).
// node:crypto's synchronous verify: WebCrypto would hop to the thread pool for a ~50 µs operation.
const imported = new WeakMap<PublishedKey, KeyObject>();

function importKey(jwk: PublishedKey): KeyObject | undefined {
  let key = imported.get(jwk);
  if (!key) {
    try {
      key = createPublicKey({ key: { ...jwk } as JsonWebKey, format: 'jwk' });
    } catch {
      return undefined;
    }
    // As jose did: RSA keys below 2048 bits are refused.
    if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      return undefined;
    }
    imported.set(jwk, key);
  }
  return key;
}

/** The JWS signature over `header.payload`; ECDSA signatures are raw r||s (IEEE P1363), as JWS says. */
function signatureValid(parts: readonly string[], key: KeyObject, alg: Alg): boolean {
  const sig = parts[2] ?? '';
  if (sig === '' || !/^[A-Za-z0-9_-]+$/.test(sig)) return false;
  try {
    return verifySignature(
      HASH[alg],
      Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
      alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key,
      Buffer.from(sig, 'base64url'),
    );
  } catch {
    return false;
  }
}

export async function verifyWebIdentityToken(
  token: string | PeekedJwt,
  provider: OidcProviderRecord,
  jwks: JwksCache,
  options: VerifyOptions,
): Promise<VerifiedToken> {
  const peeked = typeof token === 'string' ? peekJwt(token) : token;
  if (!peeked) throw awsError('notAJwt');
  const { parts, claims } = peeked;
  const header = decodePart(parts[0]);
  const alg = header.alg;
  if (typeof alg !== 'string' || !(ALLOWED_ALGS as readonly string[]).includes(alg)) {
    throw awsError('tokenAlgorithmUnsupported');
  }
  if (header.crit !== undefined) throw awsError('notAJwt');
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') throw awsError('noVerificationKey');
  // As AWS answers for a key the issuer no longer publishes.
  if (options.isKeyRemoved?.(kid)) throw awsError('noVerificationKey').withDetail({ removedKid: kid });
  if (claims.iss !== provider.url) throw awsError('issuerMismatch');

  const trust: Trust = options.ca
    ? { thumbprints: provider.thumbprints, ca: options.ca }
    : { thumbprints: provider.thumbprints };
  let jwk: PublishedKey | undefined;
  try {
    jwk = await jwks.key(provider.url, kid, trust);
  } catch (err) {
    if (err instanceof IdpUnavailableError) {
      throw awsError('idpUnreachable', err.message);
    }
    throw err;
  }
  const key = jwk && keyFits(jwk, alg as Alg) ? importKey(jwk) : undefined;
  if (!key) throw awsError('noVerificationKey');
  if (!signatureValid(parts, key, alg as Alg)) {
    throw awsError('tokenSignatureInvalid');
  }

  const audClaim = claims.aud;
  const auds = typeof audClaim === 'string' ? [audClaim] : Array.isArray(audClaim) ? audClaim : [];
  const accepts = (a: string): boolean =>
    a === REVOKE_RUN_AUDIENCE ? options.purpose === 'revoke-run' : provider.clientIds.includes(a);
  const aud = auds.find((a): a is string => typeof a === 'string' && accepts(a));
  if (aud === undefined) throw awsError('incorrectAudience');

  const skew = options.skewSeconds ?? 60;
  const nowSeconds = Math.floor(options.now / 1000);
  const exp = integerClaim(claims, 'exp', true) ?? 0;
  const iat = integerClaim(claims, 'iat', false);
  const nbf = integerClaim(claims, 'nbf', false);
  if (!options.ignoreExpiry && nowSeconds >= exp + skew) {
    throw awsError('tokenExpired', nowSeconds, exp);
  }
  if (nbf !== undefined && nbf > nowSeconds + skew) throw awsError('tokenNotYetValid');
  if (iat !== undefined && iat > nowSeconds + skew) throw awsError('tokenIssuedInFuture');
  if (typeof claims.sub !== 'string' || claims.sub === '') throw awsError('tokenWithoutSub');
  return { claims, kid, aud };
}
