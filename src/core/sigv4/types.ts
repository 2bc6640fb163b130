// Shapes shared by the SigV4 verification steps. The request is what node's http server hands over,
// untouched: the raw path and query (before any decoding) and `rawHeaders`, because repeated headers
// and their order are part of what the client signed.

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const TERMINATOR = 'aws4_request';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** AWS caps presigned URLs at seven days. */
export const MAX_PRESIGN_EXPIRES_SECONDS = 604_800;

export interface SigV4Request {
  method: string;
  /** Path exactly as on the request line, before percent-decoding. */
  path: string;
  /** Query string without the leading '?', before percent-decoding ('' when absent). */
  query: string;
  /** Node's `req.rawHeaders`: [name, value, name, value, …]. */
  rawHeaders: readonly string[];
  body: Uint8Array;
}

export interface CredentialScope {
  accessKeyId: string;
  /** YYYYMMDD */
  date: string;
  region: string;
  service: string;
}

export interface ParsedAuthorization {
  credential: CredentialScope;
  /** Lower-case names in the order the client listed them. */
  signedHeaders: string[];
  signature: string;
}

export interface ParsedPresigned extends ParsedAuthorization {
  /** X-Amz-Date, ISO-8601 basic format. */
  amzDate: string;
  expiresSeconds: number;
  sessionToken?: string;
}

/** One query parameter: decoded text for lookups, normalised RFC 3986 encoding for signing. */
export interface QueryParam {
  key: string;
  value: string;
  encodedKey: string;
  encodedValue: string;
}
