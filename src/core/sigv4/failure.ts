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
  | { kind: 'unknown-access-key' };

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
