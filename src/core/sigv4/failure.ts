// Why a signature was refused, as a typed failure that belongs to no protocol: the Query protocol
// (IAM, STS) and the JSON protocol (Organizations) each map it to their own error shape and words.

export type SigV4FailureCode =
  | 'IncompleteSignature'
  | 'MissingAuthenticationToken'
  | 'SignatureDoesNotMatch'
  | 'InvalidClientTokenId'
  | 'ExpiredToken'
  | 'RequestExpired'
  | 'RequestTimeTooSkewed';

export class SigV4Failure extends Error {
  override readonly name = 'SigV4Failure';
  constructor(
    readonly code: SigV4FailureCode,
    /** Client-facing detail (never a secret); each protocol's catalog words apply when absent. */
    readonly detail?: string,
  ) {
    super(detail ?? code);
  }
}
