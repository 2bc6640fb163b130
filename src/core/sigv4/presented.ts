// Where the signature is and what it says: the Authorization header or the presigned query, with
// the request date resolved (X-Amz-Date, or the Date header) and the session token if any.
import type { HeaderIndex } from './canonical.js';
import { formatAmzDate, parseAmzDate, parseHttpDate } from './dates.js';
import { SigV4Failure } from './failure.js';
import { parseAuthorization } from './parse-authorization.js';
import { clip } from './parse-credential.js';
import { hasPresignedSignature, parsePresigned } from './parse-presigned.js';
import type { ParsedAuthorization, QueryParam } from './types.js';

/** The request's signature in either form, normalised. */
export interface Presented {
  auth: ParsedAuthorization;
  amzDate: string;
  dateMs: number;
  presigned: boolean;
  expiresSeconds?: number;
  sessionToken?: string;
}

export function present(headers: HeaderIndex, params: readonly QueryParam[]): Presented {
  const authorization = headers.get('authorization');
  const inQuery = hasPresignedSignature(params);
  if (!authorization && !inQuery) throw new SigV4Failure({ kind: 'no-signature' });
  if (authorization && inQuery) {
    throw new SigV4Failure({ kind: 'two-signatures' });
  }
  if (authorization) {
    if (authorization.length > 1) {
      throw new SigV4Failure({ kind: 'repeated-authorization' });
    }
    const auth = parseAuthorization(authorization[0] as string);
    const amz = headers.get('x-amz-date')?.[0];
    const http = amz === undefined ? headers.get('date')?.[0] : undefined;
    if (amz === undefined && http === undefined) {
      throw new SigV4Failure({ kind: 'no-date' });
    }
    const dateMs = amz !== undefined ? parseAmzDate(amz) : parseHttpDate(http ?? '');
    if (dateMs === undefined) {
      throw new SigV4Failure({ kind: 'bad-date', value: clip(amz ?? http ?? '') });
    }
    const p: Presented = { auth, amzDate: amz ?? formatAmzDate(dateMs), dateMs, presigned: false };
    const token = headers.get('x-amz-security-token')?.[0];
    if (token !== undefined) p.sessionToken = token;
    return p;
  }
  const parsed = parsePresigned(params);
  const dateMs = parseAmzDate(parsed.amzDate);
  if (dateMs === undefined) {
    throw new SigV4Failure({ kind: 'presigned-bad-date', value: clip(parsed.amzDate) });
  }
  const p: Presented = {
    auth: parsed,
    amzDate: parsed.amzDate,
    dateMs,
    presigned: true,
    expiresSeconds: parsed.expiresSeconds,
  };
  const token = parsed.sessionToken ?? headers.get('x-amz-security-token')?.[0];
  if (token !== undefined) p.sessionToken = token;
  return p;
}
