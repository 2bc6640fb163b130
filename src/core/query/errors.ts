// Protocol errors come from one catalog: AWS code → HTTP status and fault type. Messages passed to
// AwsError are shown to clients, so they must never contain tokens, secrets, claims or policy text.

export type Fault = 'Sender' | 'Receiver';

export interface CatalogEntry {
  status: number;
  type: Fault;
  /** Used when the thrower gives no message. */
  message: string;
}

export const ERROR_CATALOG = {
  // Common (Query protocol, SigV4)
  AccessDenied: { status: 403, type: 'Sender', message: 'Access denied' },
  IncompleteSignature: {
    status: 400,
    type: 'Sender',
    message: 'The request signature does not conform to AWS standards.',
  },
  InvalidAction: {
    status: 400,
    type: 'Sender',
    message: 'The action or operation requested is invalid. Verify that the action is typed correctly.',
  },
  InvalidClientTokenId: {
    status: 403,
    type: 'Sender',
    message: 'The security token included in the request is invalid.',
  },
  InvalidParameterCombination: {
    status: 400,
    type: 'Sender',
    message: 'Parameters that must not be used together were used together.',
  },
  InvalidParameterValue: {
    status: 400,
    type: 'Sender',
    message: 'An invalid or out-of-range value was supplied for the input parameter.',
  },
  InvalidQueryParameter: {
    status: 400,
    type: 'Sender',
    message: 'The AWS query string is malformed or does not adhere to AWS standards.',
  },
  MalformedQueryString: { status: 404, type: 'Sender', message: 'The query string contains a syntax error.' },
  MissingAction: {
    status: 400,
    type: 'Sender',
    message: 'The request is missing an action or a required parameter.',
  },
  MissingAuthenticationToken: {
    status: 403,
    type: 'Sender',
    message: 'Request is missing Authentication Token',
  },
  MissingParameter: {
    status: 400,
    type: 'Sender',
    message: 'A required parameter for the specified action is not supplied.',
  },
  NotAuthorized: {
    status: 400,
    type: 'Sender',
    message: 'You do not have permission to perform this action.',
  },
  OptInRequired: {
    status: 403,
    type: 'Sender',
    message: 'The AWS access key ID needs a subscription for the service.',
  },
  RequestExpired: {
    status: 400,
    type: 'Sender',
    message:
      'The request reached the service more than 15 minutes after the date stamp on the request or more than 15 minutes after the request expiration date (such as for pre-signed URLs), or the date stamp on the request is more than 15 minutes in the future.',
  },
  RequestTimeTooSkewed: {
    status: 403,
    type: 'Sender',
    message: 'Signature expired: the request time is too far from the server time.',
  },
  RequestEntityTooLarge: { status: 413, type: 'Sender', message: 'Request body too large.' },
  ServiceUnavailable: {
    status: 503,
    type: 'Receiver',
    message: 'The request has failed due to a temporary failure of the server.',
  },
  SignatureDoesNotMatch: {
    status: 403,
    type: 'Sender',
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  },
  ThrottlingException: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  Throttling: { status: 400, type: 'Sender', message: 'Rate exceeded' },
  ValidationError: {
    status: 400,
    type: 'Sender',
    message: 'The input fails to satisfy the constraints specified by an AWS service.',
  },
  InternalFailure: {
    status: 500,
    type: 'Receiver',
    message: 'The request processing has failed because of an unknown error, exception or failure.',
  },
  // STS
  ExpiredToken: {
    status: 400,
    type: 'Sender',
    message: 'The security token included in the request is expired',
  },
  ExpiredTokenException: { status: 400, type: 'Sender', message: 'Token expired' },
  IDPCommunicationError: {
    status: 400,
    type: 'Sender',
    message:
      'The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached.',
  },
  IDPRejectedClaim: {
    status: 403,
    type: 'Sender',
    message: 'The identity provider (IdP) reported that authentication failed.',
  },
  InvalidAuthorizationMessageException: {
    status: 400,
    type: 'Sender',
    message: 'The error returned if the message passed to DecodeAuthorizationMessage was invalid.',
  },
  InvalidIdentityToken: {
    status: 400,
    type: 'Sender',
    message: 'The web identity token that was passed could not be validated by AWS.',
  },
  MalformedPolicyDocument: {
    status: 400,
    type: 'Sender',
    message: 'The request was rejected because the policy document was malformed.',
  },
  PackedPolicyTooLarge: {
    status: 400,
    type: 'Sender',
    message:
      'The request was rejected because the total packed size of the session policies and session tags combined was too large.',
  },
  RegionDisabledException: {
    status: 403,
    type: 'Sender',
    message:
      'STS is not activated in the requested region for the account that is being asked to generate credentials.',
  },
  // IAM
  ConcurrentModification: {
    status: 409,
    type: 'Sender',
    message:
      'The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.',
  },
  DeleteConflict: {
    status: 409,
    type: 'Sender',
    message:
      'The request was rejected because it attempted to delete a resource that has attached subordinate entities.',
  },
  EntityAlreadyExists: {
    status: 409,
    type: 'Sender',
    message: 'The request was rejected because it attempted to create a resource that already exists.',
  },
  InvalidInput: {
    status: 400,
    type: 'Sender',
    message:
      'The request was rejected because an invalid or out-of-range value was supplied for an input parameter.',
  },
  LimitExceeded: {
    status: 409,
    type: 'Sender',
    message:
      'The request was rejected because it attempted to create resources beyond the current AWS account limits.',
  },
  NoSuchEntity: {
    status: 404,
    type: 'Sender',
    message: 'The request was rejected because it referenced a resource entity that does not exist.',
  },
  OpenIdIdpCommunicationError: {
    status: 400,
    type: 'Sender',
    message: 'The request failed because IAM cannot connect to the OpenID Connect identity provider URL.',
  },
  PolicyEvaluation: {
    status: 500,
    type: 'Receiver',
    message: 'The request failed because a provided policy could not be successfully evaluated.',
  },
  ServiceFailure: {
    status: 500,
    type: 'Receiver',
    message: 'The request processing has failed because of an unknown error, exception or failure.',
  },
  UnmodifiableEntity: {
    status: 400,
    type: 'Sender',
    message: 'The request was rejected because service-linked roles are protected AWS resources.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class AwsError extends Error {
  override readonly name = 'AwsError';
  readonly status: number;
  readonly type: Fault;
  constructor(
    readonly code: ErrorCode,
    message?: string,
    /** Operator-only detail (audit log, explain); never serialised to the client. */
    readonly detail?: Record<string, unknown>,
  ) {
    const entry: CatalogEntry = ERROR_CATALOG[code];
    super(message ?? entry.message);
    this.status = entry.status;
    this.type = entry.type;
  }
}

export function isAwsError(e: unknown): e is AwsError {
  return e instanceof AwsError;
}
