// The query-string form of a signature (presigned URL): X-Amz-Algorithm, -Credential, -Date,
// -Expires, -SignedHeaders, -Signature and optionally -Security-Token.
import { SigV4Failure } from './failure.js';
import { clip, parseCredential, parseSignedHeaders } from './parse-credential.js';
import { ALGORITHM, MAX_PRESIGN_EXPIRES_SECONDS, type ParsedPresigned, type QueryParam } from './types.js';

const NAMES = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
] as const;
type Name = (typeof NAMES)[number];
const KNOWN: ReadonlySet<string> = new Set(NAMES);

/** Whether the query carries a signature at all (any X-Amz-Algorithm/Credential/Signature). */
export function hasPresignedSignature(params: readonly QueryParam[]): boolean {
  return params.some(
    (p) => p.key === 'X-Amz-Algorithm' || p.key === 'X-Amz-Credential' || p.key === 'X-Amz-Signature',
  );
}

export function parsePresigned(params: readonly QueryParam[]): ParsedPresigned {
  const found = new Map<Name, string>();
  for (const p of params) {
    if (!KNOWN.has(p.key)) continue;
    const name = p.key as Name;
    if (found.has(name)) throw new SigV4Failure({ kind: 'presigned-duplicate', name });
    found.set(name, p.value);
  }
  const algorithm = found.get('X-Amz-Algorithm');
  const credential = found.get('X-Amz-Credential');
  const amzDate = found.get('X-Amz-Date');
  const expires = found.get('X-Amz-Expires');
  const signedHeaders = found.get('X-Amz-SignedHeaders');
  const signature = found.get('X-Amz-Signature');
  if (!algorithm || !credential || !amzDate || !expires || !signedHeaders || !signature) {
    throw new SigV4Failure({ kind: 'presigned-missing' });
  }
  if (algorithm !== ALGORITHM) {
    throw new SigV4Failure({ kind: 'presigned-algorithm', algorithm: clip(algorithm) });
  }
  if (!/^\d{1,7}$/.test(expires)) {
    throw new SigV4Failure({ kind: 'presigned-expires-not-number' });
  }
  const expiresSeconds = Number(expires);
  if (expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw new SigV4Failure({ kind: 'presigned-expires-range', max: MAX_PRESIGN_EXPIRES_SECONDS });
  }
  const parsed: ParsedPresigned = {
    credential: parseCredential(credential),
    signedHeaders: parseSignedHeaders(signedHeaders),
    signature,
    amzDate,
    expiresSeconds,
  };
  const token = found.get('X-Amz-Security-Token');
  if (token !== undefined) parsed.sessionToken = token;
  return parsed;
}
