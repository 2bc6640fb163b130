// Why a signature check failed, as data. The verifier decides *what* is wrong; the protocol that
// answers the client (src/core/query/sigv4-errors.ts) owns AWS's code and words for it, and the
// audit trail keeps the typed reason for the operator.

export type SigV4FailureReason =
  /** The scope names a service this endpoint does not serve. */
  | { kind: 'wrong-service'; service: string; expected: readonly string[] }
  /** The scope names a region that does not exist (or that the endpoint does not serve). */
  | { kind: 'invalid-region'; region: string; service: string }
  /** The scope's date is not the day of the request date. */
  | { kind: 'scope-date'; scopeDate: string; amzDate: string }
  /** A header signature dated more than the allowed skew before the server's time. */
  | { kind: 'signature-expired'; amzDate: string; now: number; skewMs: number }
  /** A signature dated more than the allowed skew after the server's time. */
  | { kind: 'signature-not-yet-current'; amzDate: string; now: number; skewMs: number }
  /** A presigned URL past its X-Amz-Expires. */
  | { kind: 'presigned-expired'; expiresAt: number; now: number }
  /** The declared x-amz-content-sha256 is not the hash of the body received. */
  | { kind: 'payload-hash-mismatch' }
  /** The recomputed signature differs: wrong secret, or the request changed after signing. */
  | { kind: 'signature-mismatch' }
  /** The lookup knows no such access key. */
  | { kind: 'unknown-access-key' }
  // The signature cannot be read at all. Client text in a reason is clipped (parse-credential.ts).
  /** Neither an Authorization header nor a presigned query. */
  | { kind: 'no-signature' }
  /** Both an Authorization header and a presigned query. */
  | { kind: 'two-signatures' }
  /** The Authorization header appears more than once. */
  | { kind: 'repeated-authorization' }
  /** An AWS4-* algorithm other than AWS4-HMAC-SHA256 in the Authorization header. */
  | { kind: 'unsupported-algorithm'; algorithm: string }
  /** Authorization parameters missing (all of them when the header is not SigV4 at all). */
  | { kind: 'missing-parameters'; missing: readonly string[] }
  /** An Authorization parameter without '='. */
  | { kind: 'not-key-value'; item: string }
  /** An Authorization parameter given twice. */
  | { kind: 'duplicate-parameter'; key: string }
  /** A Credential that is not keyid/date/region/service/term. */
  | { kind: 'credential-elements'; value: string }
  /** A Credential whose last element is not aws4_request. */
  | { kind: 'credential-terminator'; terminator: string }
  /** A SignedHeaders value that is not a ';'-separated list of lower-case names. */
  | { kind: 'signed-headers-format'; value: string }
  /** A SignedHeaders value naming a header twice. */
  | { kind: 'signed-headers-duplicate'; name: string }
  /** SignedHeaders without host. */
  | { kind: 'host-not-signed' }
  /** A header signature with neither X-Amz-Date nor Date. */
  | { kind: 'no-date' }
  /** A header signature whose date does not parse. */
  | { kind: 'bad-date'; value: string }
  /** A presigned query that repeats one of its X-Amz-* parameters. */
  | { kind: 'presigned-duplicate'; name: string }
  /** A presigned query without one of its required parameters. */
  | { kind: 'presigned-missing' }
  /** A presigned query with an X-Amz-Algorithm other than AWS4-HMAC-SHA256. */
  | { kind: 'presigned-algorithm'; algorithm: string }
  /** A presigned X-Amz-Expires that is not a number. */
  | { kind: 'presigned-expires-not-number' }
  /** A presigned X-Amz-Expires outside 1 second to 7 days. */
  | { kind: 'presigned-expires-range'; max: number }
  /** A presigned X-Amz-Date that does not parse. */
  | { kind: 'presigned-bad-date'; value: string };

export type SigV4FailureKind = SigV4FailureReason['kind'];

export class SigV4Failure extends Error {
  override readonly name = 'SigV4Failure';
  constructor(
    readonly reason: SigV4FailureReason,
    /** The access key id the signature presented (not a secret), when it was parsed. */
    readonly accessKeyId?: string,
  ) {
    super(`SigV4 check failed: ${reason.kind}`);
  }
}

export const isSigV4Failure = (e: unknown): e is SigV4Failure => e instanceof SigV4Failure;
