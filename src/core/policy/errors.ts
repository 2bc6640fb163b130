// The one error the parser throws. Messages follow AWS's MalformedPolicyDocument wording, with the
// offending statement appended so a caller can find it in a long document.

export type PolicyErrorCode = 'MalformedPolicyDocument' | 'LimitExceeded';

export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';
  readonly code: PolicyErrorCode;
  /** Index or Sid of the offending statement, when the problem is inside one. */
  readonly statement?: number | string;

  constructor(code: PolicyErrorCode, message: string, statement?: number | string) {
    super(statement === undefined ? message : `${message} (statement ${statement})`);
    this.code = code;
    if (statement !== undefined) this.statement = statement;
  }
}
