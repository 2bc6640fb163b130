// SigV4 signing for the agent's own AWS calls, built from the verifier's canonicalisation and key
// derivation (src/core/sigv4), so both sides agree byte for byte. Signs every header it is given
// plus host, x-amz-date, x-amz-content-sha256 and, for session credentials, x-amz-security-token.
import { createHash, createHmac } from 'node:crypto';
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  deriveSigningKey,
  formatAmzDate,
  indexHeaders,
  parseQuery,
  stringToSign,
} from '../core/sigv4/index.js';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  url: URL;
  /** Header name → value; names are signed in lower case. */
  headers: Readonly<Record<string, string>>;
  body: string | Uint8Array;
  credentials: SigningCredentials;
  region: string;
  service: string;
  /** Epoch ms. */
  now: number;
}

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The headers to send: the given ones plus the SigV4 ones and Authorization. */
export function signRequest(input: SignInput): Record<string, string> {
  const amzDate = formatAmzDate(input.now);
  const payloadHash = sha256Hex(input.body);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
  headers.host = input.url.host;
  headers['x-amz-date'] = amzDate;
  headers['x-amz-content-sha256'] = payloadHash;
  if (input.credentials.sessionToken !== undefined)
    headers['x-amz-security-token'] = input.credentials.sessionToken;

  const signed = Object.keys(headers).sort();
  const raw = signed.flatMap((k) => [k, headers[k] ?? '']);
  const scope = {
    accessKeyId: input.credentials.accessKeyId,
    date: amzDate.slice(0, 8),
    region: input.region,
    service: input.service,
  };
  const canonical = canonicalRequest({
    method: input.method,
    uri: canonicalUri(input.url.pathname),
    query: canonicalQuery(parseQuery(input.url.search.replace(/^\?/, '')), false),
    headers: canonicalHeaders(indexHeaders(raw), signed),
    signedHeaders: signed,
    payloadHash,
  });
  const toSign = stringToSign(amzDate, scope, sha256Hex(canonical));
  const key = deriveSigningKey(input.credentials.secretAccessKey, scope.date, scope.region, scope.service);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${scope.accessKeyId}/${scope.date}/${scope.region}/${scope.service}/aws4_request, ` +
    `SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  return headers;
}
