// The issuer's own error catalog (platform API and minting): code → HTTP status and a fixed message.
// Bodies name the offending field and a short reason; never a token, secret or exception text.
export const ISSUER_ERRORS = {
  bad_request: { status: 400, message: 'The request body must be a JSON object.' },
  invalid_field: { status: 400, message: 'A field of the request is invalid.' },
  unauthorized: { status: 401, message: 'A valid bearer token is required.' },
  forbidden: { status: 403, message: 'This token may not perform this operation.' },
  not_found: { status: 404, message: 'No such resource.' },
  method_not_allowed: { status: 405, message: 'Method not allowed on this resource.' },
  conflict: { status: 409, message: 'A resource with this name already exists.' },
  run_closed: { status: 409, message: 'The run is closed; it mints nothing.' },
  phase_not_open: { status: 409, message: 'The run phase is not open.' },
  phase_order: { status: 409, message: 'The phase cannot change state from its current status.' },
  too_many_keys: {
    status: 409,
    message: 'The keyring already publishes the maximum number of keys; trim first.',
  },
  no_signing_key: { status: 503, message: 'The keyring has no active signing key.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type IssuerErrorCode = keyof typeof ISSUER_ERRORS;

export class IssuerError extends Error {
  override readonly name = 'IssuerError';
  readonly status: number;
  constructor(
    readonly code: IssuerErrorCode,
    /** The request field at fault, dotted for nested fields. */
    readonly field?: string,
    /** A short, fixed-vocabulary reason (e.g. "too long (max 90)"); never echoes the input. */
    readonly reason?: string,
  ) {
    super(ISSUER_ERRORS[code].message);
    this.status = ISSUER_ERRORS[code].status;
  }

  toJSON(): { error: { code: IssuerErrorCode; message: string; field?: string; reason?: string } } {
    const error: { code: IssuerErrorCode; message: string; field?: string; reason?: string } = {
      code: this.code,
      message: this.message,
    };
    if (this.field !== undefined) error.field = this.field;
    if (this.reason !== undefined) error.reason = this.reason;
    return { error };
  }
}

export const invalidField = (field: string, reason: string): IssuerError =>
  new IssuerError('invalid_field', field, reason);
