// verifySigV4: recompute the signature of a request as received and compare it in constant time.
// Cheap checks (syntax, scope, clock) run before the credential lookup and the body hash; the body
// is hashed once.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  type HeaderIndex,
  indexHeaders,
  parseQuery,
  stringToSign,
} from './canonical.js';
import { checkClock, checkScope, type RegionSet } from './checks.js';
import { SigV4Failure } from './failure.js';
import { present } from './presented.js';
import { deriveSigningKey, type SigningKeyCache } from './signing-key.js';
import { type ParsedAuthorization, type QueryParam, type SigV4Request, UNSIGNED_PAYLOAD } from './types.js';

export interface SecretLookupContext {
  sessionToken?: string;
  region: string;
  service: string;
}

/**
 * Resolve an access key to its secret. Return undefined for an unknown key (a SigV4Failure
 * `unknown-access-key`) or throw an error of your own (e.g. ExpiredToken for a session past its expiry).
 */
export type SecretLookup = (
  accessKeyId: string,
  context: SecretLookupContext,
) => Promise<{ secretAccessKey: string } | undefined> | { secretAccessKey: string } | undefined;

export interface VerifyOptions {
  /** Server time, epoch ms. */
  now: number;
  /** Allowed clock difference for header signatures; default 15 minutes. */
  skewMs?: number;
  allowedRegions?: RegionSet;
  expectedService?: string | readonly string[];
  keyCache?: SigningKeyCache;
}

export interface SigV4Result {
  ok: true;
  accessKeyId: string;
  sessionToken?: string;
  region: string;
  service: string;
  signedHeaders: string[];
  /** Request date, epoch ms. */
  date: number;
  presigned: boolean;
}

export { DEFAULT_SKEW_MS } from './checks.js';

const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

export interface SigningMaterial {
  canonicalRequest: string;
  stringToSign: string;
}

/** The canonical request and string to sign for a request and its presented signature parameters. */
export function signingMaterial(
  req: SigV4Request,
  headers: HeaderIndex,
  params: readonly QueryParam[],
  auth: ParsedAuthorization,
  amzDate: string,
  payloadHash: string,
  presigned: boolean,
): SigningMaterial {
  const canonical = canonicalRequest({
    method: req.method,
    uri: canonicalUri(req.path),
    query: canonicalQuery(params, presigned),
    headers: canonicalHeaders(headers, auth.signedHeaders),
    signedHeaders: auth.signedHeaders,
    payloadHash,
  });
  return {
    canonicalRequest: canonical,
    stringToSign: stringToSign(amzDate, auth.credential, sha256Hex(canonical)),
  };
}

function signatureMatches(presented: string, key: Uint8Array, toSign: string): boolean {
  const expected = Buffer.from(createHmac('sha256', key).update(toSign).digest('hex'), 'latin1');
  const given = Buffer.from(presented, 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function verifySigV4(
  req: SigV4Request,
  lookup: SecretLookup,
  options: VerifyOptions,
): Promise<SigV4Result> {
  const headers = indexHeaders(req.rawHeaders);
  const params = parseQuery(req.query);
  const p = present(headers, params);
  const { auth } = p;
  const scope = auth.credential;
  checkScope(scope, p.amzDate, options);
  if (!auth.signedHeaders.includes('host')) {
    throw new SigV4Failure({ kind: 'host-not-signed' });
  }
  checkClock(p, options);

  const context: SecretLookupContext = { region: scope.region, service: scope.service };
  if (p.sessionToken !== undefined) context.sessionToken = p.sessionToken;
  const found = await lookup(scope.accessKeyId, context);
  if (!found) throw new SigV4Failure({ kind: 'unknown-access-key' }, scope.accessKeyId);

  const bodyHash = sha256Hex(req.body);
  const candidates: string[] = [];
  if (p.presigned) {
    candidates.push(bodyHash);
    if (req.body.length === 0) candidates.push(UNSIGNED_PAYLOAD);
  } else {
    const declared = headers.get('x-amz-content-sha256')?.[0];
    // A declared hash must describe the body we got; UNSIGNED-PAYLOAD would leave the body unprotected.
    if (declared !== undefined && declared !== bodyHash) {
      throw new SigV4Failure({ kind: 'payload-hash-mismatch' }, scope.accessKeyId);
    }
    candidates.push(bodyHash);
  }

  const key = options.keyCache
    ? options.keyCache.get(found.secretAccessKey, scope.date, scope.region, scope.service)
    : deriveSigningKey(found.secretAccessKey, scope.date, scope.region, scope.service);
  for (const payloadHash of candidates) {
    const material = signingMaterial(req, headers, params, auth, p.amzDate, payloadHash, p.presigned);
    if (signatureMatches(auth.signature, key, material.stringToSign)) {
      const result: SigV4Result = {
        ok: true,
        accessKeyId: scope.accessKeyId,
        region: scope.region,
        service: scope.service,
        signedHeaders: auth.signedHeaders,
        date: p.dateMs,
        presigned: p.presigned,
      };
      if (p.sessionToken !== undefined) result.sessionToken = p.sessionToken;
      return result;
    }
  }
  throw new SigV4Failure({ kind: 'signature-mismatch' }, scope.accessKeyId);
}
