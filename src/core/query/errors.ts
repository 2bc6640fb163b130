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

  /** The same words under the same code, carrying operator-only detail. */
  withDetail(detail: Record<string, unknown>): AwsError {
    return new AwsError(this.code, this.message, { ...this.detail, ...detail });
  }

  /**
   * A denial with the encoded authorization failure message appended, when the node sealed one.
   * AWS's STS and IAM deny with words only; services such as EC2 append this, and a node may too
   * (`denialMessages: encoded`) so that `sts decode-authorization-message` can tell the story.
   */
  withEncodedMessage(encoded: string | undefined): AwsError {
    if (encoded === undefined) return this;
    return new AwsError(
      this.code,
      `${this.message} Encoded authorization failure message: ${encoded}`,
      this.detail,
    );
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

  // The Query protocol (the JSON protocol sends httpMethodNotSupported's words too)
  httpMethodNotSupported: template(
    'InvalidAction',
    (method: string) => `The HTTP method ${method} is not supported.`,
  ),
  missingAction: template('MissingAction', () => 'Missing Action'),
  operationNotFound: template(
    'InvalidAction',
    (action: string, version: string | undefined) =>
      `Could not find operation ${action} for version ${version === undefined || version === '' ? 'NO_VERSION_SPECIFIED' : version}`,
  ),
  parameterRepeated: template(
    'InvalidQueryParameter',
    (key: string) => `The parameter '${key}' is specified more than once.`,
  ),
  validationErrors: template('ValidationError', (violations: readonly string[]) => {
    const n = violations.length;
    return `${n} validation error${n === 1 ? '' : 's'} detected: ${violations.join('; ')}`;
  }),
  invalidListMember: template(
    'InvalidParameterValue',
    (key: string) => `Invalid list member parameter '${key}'.`,
  ),
  listNotContiguous: template(
    'InvalidParameterValue',
    (list: string, missing: number) =>
      `List '${list}' must be numbered contiguously from 1: '${list}.member.${missing}' is missing.`,
  ),

  // SigV4 (src/core/query/sigv4-errors.ts maps each typed failure onto one of these)
  /** STS's words; IAM (a global service) names the region it refuses. Both end in a space. */
  regionInvalid: template('SignatureDoesNotMatch', () => 'Credential should be scoped to a valid region. '),
  regionInvalidNamed: template(
    'SignatureDoesNotMatch',
    (region: string) => `Credential should be scoped to a valid region, not '${region}'. `,
  ),
  scopeDateMismatch: template(
    'SignatureDoesNotMatch',
    (scopeDate: string, amzDate: string) =>
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
  ),
  signatureExpired: template(
    'SignatureDoesNotMatch',
    (amzDate: string, earliest: string, now: string, minutes: number) =>
      `Signature expired: ${amzDate} is now earlier than ${earliest} (${now} - ${minutes} min.)`,
  ),
  signatureNotYetCurrent: template(
    'SignatureDoesNotMatch',
    (amzDate: string, latest: string, now: string, minutes: number) =>
      `Signature not yet current: ${amzDate} is still later than ${latest} (${now} + ${minutes} min.)`,
  ),
  presignedExpired: template(
    'RequestExpired',
    (expiresAt: string, now: string) => `Request has expired: ${expiresAt} is earlier than ${now}.`,
  ),
  payloadHashMismatch: template(
    'SignatureDoesNotMatch',
    () => "The provided 'x-amz-content-sha256' header does not match what was computed.",
  ),
  twoAuthMechanisms: template(
    'IncompleteSignature',
    () =>
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.',
  ),
  repeatedAuthorization: template('IncompleteSignature', () => 'Only one Authorization header is allowed.'),
  unsupportedAlgorithm: template(
    'IncompleteSignature',
    (algorithm: string) => `Unsupported AWS 'algorithm': '${algorithm}'.`,
  ),
  missingAuthParameters: template('IncompleteSignature', (missing: readonly string[]) =>
    missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' '),
  ),
  notKeyValue: template(
    'IncompleteSignature',
    (item: string) => `'${item}' not a valid key=value pair (missing equal-sign) in Authorization header.`,
  ),
  duplicateAuthParameter: template(
    'IncompleteSignature',
    (key: string) => `Authorization header has a duplicate '${key}' parameter.`,
  ),
  credentialElements: template(
    'IncompleteSignature',
    (value: string) =>
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${value}'`,
  ),
  credentialTerminator: template(
    'SignatureDoesNotMatch',
    (expected: string, terminator: string) =>
      `Credential should be scoped with a valid terminator: '${expected}', not '${terminator}'.`,
  ),
  signedHeadersFormat: template(
    'IncompleteSignature',
    (value: string) =>
      `SignedHeaders must be a ';'-separated list of lower-case header names, got '${value}'.`,
  ),
  signedHeadersDuplicate: template(
    'IncompleteSignature',
    (name: string) => `SignedHeaders lists '${name}' more than once.`,
  ),
  hostNotSigned: template(
    'IncompleteSignature',
    () => "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
  ),
  noDate: template(
    'IncompleteSignature',
    () => "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
  ),
  badDate: template(
    'IncompleteSignature',
    (value: string) =>
      `Date must be in ISO-8601 'basic format'. Got '${value}'. See http://en.wikipedia.org/wiki/ISO_8601`,
  ),
  presignedDuplicate: template(
    'IncompleteSignature',
    (name: string) => `Duplicate query parameter '${name}'.`,
  ),
  presignedMissing: template(
    'IncompleteSignature',
    () =>
      "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the query-string parameters.",
  ),
  presignedAlgorithm: template(
    'IncompleteSignature',
    (expected: string, algorithm: string) =>
      `X-Amz-Algorithm only supports '${expected}', got '${algorithm}'.`,
  ),
  presignedExpiresNotNumber: template('IncompleteSignature', () => 'X-Amz-Expires should be a number.'),
  presignedExpiresRange: template(
    'IncompleteSignature',
    (max: number) => `X-Amz-Expires must be between 1 and ${max} seconds (seven days).`,
  ),
  presignedBadDate: template(
    'IncompleteSignature',
    (value: string) =>
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'", got '${value}'.`,
  ),

  // IAM
  iamDeniedExplicit: template(
    'AccessDenied',
    (arn: string, action: string, resource: string, article: string, policy: string) =>
      `User: ${arn} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in ${article} ${policy}`,
  ),
  iamDeniedImplicit: template(
    'AccessDenied',
    (arn: string, action: string, resource: string, policy: string) =>
      `User: ${arn} is not authorized to perform: ${action} on resource: ${resource} because no ${policy} allows the ${action} action`,
  ),
  /** `what` is the entity: "role", "user", or "role policy" for an inline policy. */
  entityNotFound: template(
    'NoSuchEntity',
    (what: string, name: string) => `The ${what} with name ${name} cannot be found.`,
  ),
  roleExists: template('EntityAlreadyExists', (name: string) => `Role with name ${name} already exists.`),
  userExists: template('EntityAlreadyExists', (name: string) => `User with name ${name} already exists.`),
  policyNameExists: template(
    'EntityAlreadyExists',
    (name: string) => `A policy called ${name} already exists. Duplicate names are not allowed.`,
  ),
  providerExists: template(
    'EntityAlreadyExists',
    (url: string) => `Provider with url ${url} already exists.`,
  ),
  providerNotFound: template(
    'NoSuchEntity',
    (arn: string) => `OpenIDConnect Provider not found for arn ${arn}`,
  ),
  policyVersionNotDeletable: template(
    'NoSuchEntity',
    (arn: string, versionId: string) =>
      `Policy ${arn} version ${versionId} does not exist or is not deletable.`,
  ),
  /** LimitExceeded for a counted quota (AccessKeysPerUser, PoliciesPerRole, …). */
  quotaExceeded: template(
    'LimitExceeded',
    (quota: string, max: number) => `Cannot exceed quota for ${quota}: ${max}`,
  ),
  tagQuotaExceeded: template('LimitExceeded', () => 'Cannot exceed quota for TagsPerRole: 50.'),
  policyVersionsExceeded: template(
    'LimitExceeded',
    (max: number) =>
      `A managed policy can have up to ${max} versions. Before you create a new version, you must delete an existing version.`,
  ),
  tagKeysDuplicate: template(
    'InvalidInput',
    () => 'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
  ),
  policyAttached: template('DeleteConflict', () => 'Cannot delete a policy attached to entities.'),
  policyHasVersions: template(
    'DeleteConflict',
    () => 'Cannot delete a policy with non-default versions. Delete them first.',
  ),
  defaultVersionNotDeletable: template(
    'DeleteConflict',
    () => 'Cannot delete the default version of a policy.',
  ),
  roleHasPolicies: template('DeleteConflict', () => 'Cannot delete entity, must detach all policies first.'),
  userHasKeysOrPolicies: template(
    'DeleteConflict',
    () => 'Cannot delete entity, must delete access keys and policies first.',
  ),
  userNameRequired: template(
    'ValidationError',
    () => 'Must specify userName when calling with non-User credentials',
  ),
  invalidUrl: template('InvalidInput', () => 'Invalid URL.'),
  urlNotHttps: template('InvalidInput', () => 'The URL must begin with https://'),
  urlHasExtras: template('InvalidInput', () => 'The URL must not contain a query, fragment or credentials.'),
  /** gatepass's own rule (not AWS's): a web identity trust policy must pin the token's subject. */
  trustNotPinned: template(
    'MalformedPolicyDocument',
    (reason: string | undefined) =>
      `Trust policy rejected by the gatepass OIDC guard rail: ${reason ?? 'the sub condition does not pin an organization'}`,
  ),
  invalidResourceOwner: template(
    'InvalidInput',
    (owner: string) => `Invalid ResourceOwner ${owner}: expected an account ID or account ARN.`,
  ),
  simulatedEntityNotFound: template('NoSuchEntity', (arn: string) => `Entity ${arn} does not exist.`),
  callerArnNotASession: template(
    'InvalidInput',
    (callerArn: string | undefined, prefix: string) =>
      `CallerArn ${callerArn} must be the ARN of a user, or of a session of the source role (${prefix}<session>).`,
  ),

  // STS: the web identity token (src/cloud/oidc/verify.ts) and its claims
  noVerificationKey: template(
    'InvalidIdentityToken',
    () =>
      "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
  ),
  idpUnreachable: template(
    'IDPCommunicationError',
    (reason: string) => `Couldn't retrieve verification key from your identity provider: ${reason}.`,
  ),
  claimNotInteger: template(
    'InvalidIdentityToken',
    (name: string) => `The ${name} claim of the ID Token must be an integer.`,
  ),
  tokenAlgorithmUnsupported: template(
    'InvalidIdentityToken',
    () => 'The ID Token uses an unsupported signing algorithm.',
  ),
  issuerMismatch: template(
    'InvalidIdentityToken',
    () => 'Issuer does not match the OpenID Connect provider.',
  ),
  tokenSignatureInvalid: template(
    'InvalidIdentityToken',
    () => 'The signature of the ID Token could not be verified.',
  ),
  incorrectAudience: template('InvalidIdentityToken', () => 'Incorrect token audience'),
  tokenExpired: template(
    'ExpiredTokenException',
    (now: number, exp: number) =>
      `Token expired: current date/time ${now} must be before the expiration date/time${exp}`,
  ),
  tokenNotYetValid: template('InvalidIdentityToken', () => 'The ID Token is not yet valid (nbf).'),
  tokenIssuedInFuture: template('InvalidIdentityToken', () => 'The ID Token was issued in the future (iat).'),
  tokenWithoutSub: template('InvalidIdentityToken', () => 'The ID Token has no sub claim.'),
  tokenSubjectInvalid: template('InvalidIdentityToken', () => 'The token subject is invalid.'),
  sessionTagsClaimInvalid: template('InvalidIdentityToken', () => 'Invalid session tags claim.'),
  principalTagsClaimInvalid: template('InvalidIdentityToken', () => 'Invalid principal_tags claim.'),
  sessionTagClaimInvalid: template(
    'InvalidIdentityToken',
    () => 'Invalid session tag in principal_tags claim.',
  ),
  sessionTagsTooMany: template('InvalidIdentityToken', () => 'Too many session tags.'),
  sessionTagKeysDuplicate: template('InvalidIdentityToken', () => 'Duplicate session tag keys.'),
  transitiveTagKeysClaimInvalid: template('InvalidIdentityToken', () => 'Invalid transitive_tag_keys claim.'),
  sourceIdentityClaimInvalid: template('InvalidIdentityToken', () => 'Invalid source identity claim.'),
  providerNotFoundForIssuer: template(
    'InvalidIdentityToken',
    (issuer: string) => `No OpenIDConnect provider found in your account for ${issuer}`,
  ),
  /** gatepass's own refusal: the token's run (or run phase) was closed or revoked. */
  runEnded: template(
    'IDPRejectedClaim',
    (scope: 'run' | 'phase') =>
      `The web identity token belongs to ${scope === 'phase' ? 'a run phase' : 'a run'} that has ended.`,
  ),

  // STS: session policies and tags
  packedPolicyTooLarge: template(
    'PackedPolicyTooLarge',
    (percent: number) =>
      `Packed size of consumed session policies and session tags exceeds the limit (${percent}% of allowed).`,
  ),

  // STS: AssumeRole, the signed reads, and gatepass's RevokeRun
  assumeRoleDenied: template(
    'AccessDenied',
    (arn: string, roleArn: string) =>
      `User: ${arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
  ),
  stsActionDenied: template(
    'AccessDenied',
    (arn: string, action: string) => `User: ${arn} is not authorized to perform: ${action}`,
  ),
  sessionTagKeyRepeated: template(
    'InvalidParameterValue',
    (key: string) => `Duplicate tag keys found. Tag key ${key} is repeated.`,
  ),
  transitiveTagConflict: template(
    'InvalidParameterValue',
    (keys: string) =>
      `One or more session tags conflict with transitive tags inherited from the calling session: ${keys}.`,
  ),
  transitiveKeyNotATag: template(
    'InvalidParameterValue',
    (key: string) => `Transitive tag key ${key} is not one of the session tags.`,
  ),
  sourceIdentityFixed: template(
    'InvalidParameterValue',
    () => 'SourceIdentity is already set on the calling session and cannot be changed.',
  ),
  chainedDurationOverHour: template(
    'ValidationError',
    () =>
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
  ),
  accessKeyUnknown: template(
    'InvalidParameterValue',
    (id: string) => `The access key ID ${id} is not known.`,
  ),
  authorizationMessageInvalid: template(
    'InvalidAuthorizationMessageException',
    () => 'The encoded message is not valid.',
  ),
  revokeProviderNotFound: template(
    'InvalidIdentityToken',
    (issuer: string) => `No OpenIDConnect provider found for ${issuer}`,
  ),
  revokeTokenTooOld: template(
    'ExpiredTokenException',
    () => 'Token expired: more than 12 hours past its expiration, no session of its run can still be valid.',
  ),
  tokenWithoutRunId: template('InvalidIdentityToken', () => 'The token carries no run id.'),
  tokenWithoutRunPhase: template(
    'InvalidIdentityToken',
    () => 'The token carries no run phase (terraform_run_phase).',
  ),
  revokeOtherIssuersRun: template(
    'AccessDenied',
    (runId: string) => `The token's issuer did not start run ${runId}: not authorized to revoke it.`,
  ),
} as const;

export type MessageKey = keyof typeof MESSAGES;

/**
 * What a ValidationError lists (validationErrors joins them), in the words of AWS's validators: one
 * violation names the member, the value as shown, and one of the constraints below.
 */
export const violation = (shown: string | null | undefined, path: string, constraint: string): string =>
  `${shown === null ? 'Value null' : shown === undefined ? 'Value' : `Value '${shown}'`} at '${path}' failed to satisfy constraint: ${constraint}`;

export const CONSTRAINTS = {
  notNull: () => 'Member must not be null',
  integer: () => 'Member must be an integer',
  boolean: () => 'Member must be a boolean (true or false)',
  valueAtLeast: (min: number) => `Member must have value greater than or equal to ${min}`,
  valueAtMost: (max: number) => `Member must have value less than or equal to ${max}`,
  lengthAtLeast: (min: number) => `Member must have length greater than or equal to ${min}`,
  lengthAtMost: (max: number) => `Member must have length less than or equal to ${max}`,
  pattern: (source: string) => `Member must satisfy regular expression pattern: ${source}`,
  notAwsPrefixed: () => "Member must not start with 'aws:'",
  enumValue: (values: readonly string[]) => `Member must satisfy enum value set: [${values.join(', ')}]`,
} as const;

export type ConstraintKey = keyof typeof CONSTRAINTS;

/** The error for a catalogued sentence, under its code. */
export function awsError<K extends MessageKey>(
  key: K,
  ...args: Parameters<(typeof MESSAGES)[K]['words']>
): AwsError {
  const t = MESSAGES[key] as Template<Parameters<(typeof MESSAGES)[K]['words']>>;
  return new AwsError(t.code, t.words(...args));
}
