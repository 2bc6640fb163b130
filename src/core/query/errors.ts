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

/** A sentence of AWS's that carries values, with the code it is sent under. */
interface Template<A extends unknown[]> {
  code: ErrorCode;
  words: (...args: A) => string;
}
const template = <A extends unknown[]>(code: ErrorCode, words: (...args: A) => string): Template<A> => ({
  code,
  words,
});

/**
 * AWS's sentences written once: every thrower takes them from here (test/query/catalog.test.ts fails
 * when one is written out by hand elsewhere). Values are the client's or the server's, never secrets.
 */
export const MESSAGES = {
  notAJwt: template('InvalidIdentityToken', () => 'The ID Token provided is not a valid JWT.'),
  durationOverMax: template(
    'ValidationError',
    () => 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
  ),
  notAuthorizedWebIdentity: template(
    'AccessDenied',
    () => 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
  ),
  accessKeyNotFound: template(
    'NoSuchEntity',
    (id: string) => `The Access Key with id ${id} cannot be found.`,
  ),
  policyNotFound: template('NoSuchEntity', (arn: string) => `Policy ${arn} was not found.`),
  policyNotAttachable: template(
    'NoSuchEntity',
    (arn: string) => `Policy ${arn} does not exist or is not attachable.`,
  ),
  /** STS's answer for a PolicyArns entry: the same sentence as IAM's, under another code. */
  sessionPolicyNotAttachable: template(
    'InvalidParameterValue',
    (arn: string) => `Policy ${arn} does not exist or is not attachable.`,
  ),
  policyVersionNotAttachable: template(
    'NoSuchEntity',
    (arn: string, versionId: string) =>
      `Policy ${arn} version ${versionId} does not exist or is not attachable.`,
  ),
  /** SignatureDoesNotMatch in the Query protocol; the JSON protocol sends the same words. */
  wrongService: template(
    'SignatureDoesNotMatch',
    (services: string) => `Credential should be scoped to correct service: '${services}'.`,
  ),
} as const;

export type MessageKey = keyof typeof MESSAGES;

/** The error for a catalogued sentence, under its code. */
export function awsError<K extends MessageKey>(
  key: K,
  ...args: Parameters<(typeof MESSAGES)[K]['words']>
): AwsError {
  const t = MESSAGES[key] as Template<Parameters<(typeof MESSAGES)[K]['words']>>;
  return new AwsError(t.code, t.words(...args));
}
