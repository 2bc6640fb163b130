// The JSON 1.1 protocol's errors: one catalog, AWS code → HTTP status and the words clients see.
// The protocol's own failures (signature, serialization, unknown operation) and the service
// exceptions of AWS Organizations, whose statuses AWS answers with 400 (500 for ServiceException).
// Messages must never carry tokens, secrets or policy text.
import { AwsError, ERROR_CATALOG, type ErrorCode, MESSAGES } from '../query/errors.js';
import { sigV4Error } from '../query/sigv4-errors.js';
import { SigV4Failure } from '../sigv4/failure.js';

export interface JsonCatalogEntry {
  status: number;
  message: string;
}

export const JSON_ERROR_CATALOG = {
  // Protocol and SigV4
  IncompleteSignatureException: {
    status: 400,
    message: 'The request signature does not conform to AWS standards.',
  },
  InvalidSignatureException: {
    status: 400,
    message:
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  },
  MissingAuthenticationTokenException: { status: 400, message: 'Missing Authentication Token' },
  UnrecognizedClientException: {
    status: 400,
    message: 'The security token included in the request is invalid.',
  },
  ExpiredTokenException: { status: 400, message: 'The security token included in the request is expired' },
  UnknownOperationException: { status: 400, message: 'The action or operation requested is invalid.' },
  SerializationException: { status: 400, message: 'The request body could not be read as JSON.' },
  RequestEntityTooLargeException: { status: 413, message: 'Request body too large.' },
  ServiceUnavailable: {
    status: 503,
    message: 'The request has failed due to a temporary failure of the server.',
  },
  InternalFailure: {
    status: 500,
    message: 'The request processing has failed because of an unknown error, exception or failure.',
  },
  // AWS Organizations
  AccessDeniedException: { status: 400, message: "You don't have permissions to access this resource." },
  AccountAlreadyClosedException: {
    status: 400,
    message: 'You attempted to close an account that is already closed.',
  },
  AccountAlreadyRegisteredException: {
    status: 400,
    message:
      'The specified account is already a delegated administrator for this Amazon Web Services service.',
  },
  AccountNotFoundException: {
    status: 400,
    message: "We can't find an Amazon Web Services account with the AccountId that you specified.",
  },
  AccountNotRegisteredException: {
    status: 400,
    message: 'The specified account is not a delegated administrator for this Amazon Web Services service.',
  },
  AlreadyInOrganizationException: {
    status: 400,
    message: 'This account is already a member of an organization.',
  },
  AWSOrganizationsNotInUseException: {
    status: 400,
    message: 'Your account is not a member of an organization.',
  },
  ChildNotFoundException: {
    status: 400,
    message:
      "We can't find an organizational unit (OU) or Amazon Web Services account with the ChildId that you specified.",
  },
  ConcurrentModificationException: {
    status: 400,
    message:
      'The target of the operation is currently being modified by a different request. Try again later.',
  },
  ConstraintViolationException: {
    status: 400,
    message: 'Performing this operation violates a minimum or maximum value limit.',
  },
  CreateAccountStatusNotFoundException: {
    status: 400,
    message: "We can't find a create account request with the CreateAccountRequestId that you specified.",
  },
  DestinationParentNotFoundException: {
    status: 400,
    message: "We can't find the destination container (a root or OU) with the ParentId that you specified.",
  },
  DuplicateAccountException: {
    status: 400,
    message: 'That account is already present in the specified destination.',
  },
  DuplicateOrganizationalUnitException: {
    status: 400,
    message: 'An OU with the same name already exists.',
  },
  DuplicatePolicyAttachmentException: {
    status: 400,
    message: 'The selected policy is already attached to the specified target.',
  },
  DuplicatePolicyException: { status: 400, message: 'A policy with the same name already exists.' },
  InvalidInputException: {
    status: 400,
    message:
      'The requested operation failed because you provided invalid values for one or more of the request parameters.',
  },
  MalformedPolicyDocumentException: {
    status: 400,
    message: "The provided policy document doesn't meet the requirements of the specified policy type.",
  },
  MasterCannotLeaveOrganizationException: {
    status: 400,
    message:
      "You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization of the management account.",
  },
  OrganizationNotEmptyException: {
    status: 400,
    message:
      "The organization isn't empty. To delete an organization, you must first remove all accounts except the management account.",
  },
  OrganizationalUnitNotEmptyException: {
    status: 400,
    message:
      'The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.',
  },
  OrganizationalUnitNotFoundException: {
    status: 400,
    message: "We can't find an OU with the OrganizationalUnitId that you specified.",
  },
  ParentNotFoundException: {
    status: 400,
    message: "We can't find a root or OU with the ParentId that you specified.",
  },
  PolicyInUseException: {
    status: 400,
    message:
      'The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.',
  },
  PolicyNotAttachedException: {
    status: 400,
    message: "The policy isn't attached to the specified target in the specified root.",
  },
  PolicyNotFoundException: {
    status: 400,
    message: "We can't find a policy with the PolicyId that you specified.",
  },
  PolicyTypeAlreadyEnabledException: {
    status: 400,
    message: 'The specified policy type is already enabled in the specified root.',
  },
  PolicyTypeNotAvailableForOrganizationException: {
    status: 400,
    message:
      "You can't use the specified policy type with the feature set currently enabled for this organization.",
  },
  PolicyTypeNotEnabledException: {
    status: 400,
    message:
      "The specified policy type isn't currently enabled in this root. You can't attach policies of the specified type to entities in a root until you enable that type in the root.",
  },
  ResourcePolicyNotFoundException: {
    status: 400,
    message: "We can't find a resource policy request with the parameter that you specified.",
  },
  RootNotFoundException: { status: 400, message: "We can't find a root with the RootId that you specified." },
  SourceParentNotFoundException: {
    status: 400,
    message: "We can't find a source root or OU with the ParentId that you specified.",
  },
  TargetNotFoundException: {
    status: 400,
    message: "We can't find a root, OU, account, or policy with the TargetId that you specified.",
  },
} as const satisfies Record<string, JsonCatalogEntry>;

export type JsonErrorCode = keyof typeof JSON_ERROR_CATALOG;

/** The `Reason` member of InvalidInputException and ConstraintViolationException, with AWS's words. */
export const REASONS = {
  INPUT_REQUIRED: 'You must include a value for all required parameters.',
  INVALID_PATTERN: "You provided a value that doesn't match the required pattern.",
  INVALID_PATTERN_TARGET_ID: "You specified a policy target ID that doesn't match the required pattern.",
  INVALID_ENUM: 'You specified an invalid value.',
  INVALID_ENUM_POLICY_TYPE: 'You specified an invalid policy type string.',
  INVALID_NEXT_TOKEN: 'You specified an invalid value for the nextToken request parameter.',
  INVALID_LIST_MEMBER: 'You provided a list to a parameter that contains at least one invalid value.',
  MAX_LENGTH_EXCEEDED: 'You provided a string parameter that is longer than allowed.',
  MIN_LENGTH_EXCEEDED: 'You provided a string parameter that is shorter than allowed.',
  MAX_VALUE_EXCEEDED: 'You provided a numeric parameter that has a larger value than allowed.',
  MIN_VALUE_EXCEEDED: 'You provided a numeric parameter that has a smaller value than allowed.',
  IMMUTABLE_POLICY: "You specified a policy that is managed by Amazon Web Services and can't be modified.",
  NON_DETACHABLE_POLICY: "You can't detach this Amazon Web Services Managed Policy.",
  DUPLICATE_TAG_KEY: 'Tag keys must be unique among the tags attached to the same entity.',
  INVALID_SYSTEM_TAGS_PARAMETER:
    "You specified a tag key that is a system tag. You can’t add, edit, or delete system tag keys because they're reserved for Amazon Web Services use. System tags don’t count against your tags per resource limit.",
  UNRECOGNIZED_SERVICE_PRINCIPAL: "You specified a service principal that isn't recognized.",
  INVALID_ROLE_NAME:
    "You provided a role name that isn't valid. A role name can't begin with the reserved prefix AWSServiceRoleFor.",
  MOVING_ACCOUNT_BETWEEN_DIFFERENT_ROOTS: 'You can move an account only between entities in the same root.',
  TARGET_NOT_SUPPORTED: "You can't perform the specified operation on that target entity.",
  // ConstraintViolationException
  MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED:
    'You attempted to detach a policy from an entity that would cause the entity to have fewer than the minimum number of policies of a certain type required.',
  MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED:
    'You attempted to exceed the number of policies of a certain type that can be attached to an entity at one time.',
  POLICY_CONTENT_LIMIT_EXCEEDED: 'You attempted to create a policy that is larger than the maximum size.',
  POLICY_NUMBER_LIMIT_EXCEEDED:
    'You attempted to exceed the number of policies that you can have in an organization.',
  OU_DEPTH_LIMIT_EXCEEDED: 'You attempted to create an OU tree that is too many levels deep.',
  OU_NUMBER_LIMIT_EXCEEDED: 'You attempted to exceed the number of OUs that you can have in an organization.',
  MAX_TAG_LIMIT_EXCEEDED: 'You have exceeded the number of tags allowed on this resource.',
  CANNOT_CLOSE_MANAGEMENT_ACCOUNT:
    'You attempted to close the management account. To close the management account for the organization, you must first either remove or close all member accounts in the organization. Follow standard account closure process using root credentials.',
  CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR:
    'You attempted to register the management account of the organization as a delegated administrator for an Amazon Web Services service integrated with Organizations. You can designate only a member account as a delegated administrator.',
  ORGANIZATION_NOT_IN_ALL_FEATURES_MODE:
    'You attempted to perform an operation that requires the organization to be configured to support all features.',
  ACCOUNT_CANNOT_LEAVE_ORGANIZATION:
    "You attempted to remove the management account from the organization. You can't remove the management account. Instead, after you remove all member accounts, delete the organization itself.",
} as const;

export type Reason = keyof typeof REASONS;

export class JsonError extends Error {
  override readonly name = 'JsonError';
  readonly status: number;
  constructor(
    readonly code: JsonErrorCode,
    message?: string,
    /** InvalidInputException / ConstraintViolationException carry a Reason member. */
    readonly reason?: Reason,
    /** Operator-only detail (audit log, explain); never serialised to the client. */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message ?? (reason ? REASONS[reason] : JSON_ERROR_CATALOG[code].message));
    this.status = JSON_ERROR_CATALOG[code].status;
  }
}

const malformed = (finding: string): string =>
  `The provided policy document doesn't meet the requirements of the specified policy type: ${finding}`;

/** A sentence the JSON protocol sends with values, with its code (and Reason, where it has one). */
interface JsonTemplate<A extends unknown[]> {
  code: JsonErrorCode;
  reason?: Reason;
  words: (...args: A) => string;
}
const template = <A extends unknown[]>(
  code: JsonErrorCode,
  words: (...args: A) => string,
  reason?: Reason,
): JsonTemplate<A> => (reason === undefined ? { code, words } : { code, words, reason });

/**
 * The JSON protocol's sentences written once: every thrower takes them from here (test/json/catalog.test.ts
 * fails when a message is written anywhere else). Values are the client's or the server's, never secrets.
 */
export const JSON_MESSAGES = {
  /** The Query protocol's words for a method other than POST, under this protocol's code. */
  httpMethodNotSupported: template('UnknownOperationException', MESSAGES.httpMethodNotSupported.words),
  /** The Query protocol's words for a signature scoped to another service. */
  wrongService: template('InvalidSignatureException', MESSAGES.wrongService.words),
  bodyNotAnObject: template('SerializationException', () => 'The request body must be a JSON object.'),
  notAString: template('SerializationException', (member: string) => `${member} must be a string.`),
  notAnInteger: template('SerializationException', (member: string) => `${member} must be an integer.`),
  notABoolean: template('SerializationException', (member: string) => `${member} must be a boolean.`),
  notAList: template('SerializationException', (member: string) => `${member} must be a list.`),
  notAListOfStrings: template('SerializationException', (member: string) => `${member} must hold strings.`),
  notAListOfStructures: template(
    'SerializationException',
    (member: string) => `${member} must hold structures.`,
  ),
  /** gatepass's own limit: consolidated billing has no meaning for it. */
  onlyAllFeatures: template(
    'InvalidInputException',
    () => 'gatepass organizations support only the ALL feature set.',
    'INVALID_ENUM',
  ),
  /** The policy parser's finding follows AWS's sentence, cut short. */
  policyDocumentMalformed: template('MalformedPolicyDocumentException', (finding: string) =>
    malformed(finding),
  ),
  /** gatepass's own rule for a delegation (resource) policy, after AWS's sentence. */
  delegationPolicyNotOrganizations: template('MalformedPolicyDocumentException', () =>
    malformed('a delegation policy names organizations actions only (no NotAction)'),
  ),
} as const;

export type JsonMessageKey = keyof typeof JSON_MESSAGES;

/** The error for a catalogued sentence, under its code (and Reason). */
export function jsonError<K extends JsonMessageKey>(
  key: K,
  ...args: Parameters<(typeof JSON_MESSAGES)[K]['words']>
): JsonError {
  const t = JSON_MESSAGES[key] as JsonTemplate<Parameters<(typeof JSON_MESSAGES)[K]['words']>>;
  return new JsonError(t.code, t.words(...args), t.reason);
}

/**
 * A refused signature in the JSON protocol's codes. The words are the ones the Query side sends
 * (src/core/query/sigv4-errors.ts owns them for a typed SigV4Failure): "Signature expired: …" is
 * the same sentence in both protocols, only the code differs.
 */
const SIGV4: Partial<Record<ErrorCode, JsonErrorCode>> = {
  IncompleteSignature: 'IncompleteSignatureException',
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  InvalidClientTokenId: 'UnrecognizedClientException',
  ExpiredToken: 'ExpiredTokenException',
  RequestExpired: 'InvalidSignatureException',
  RequestTimeTooSkewed: 'InvalidSignatureException',
  ServiceUnavailable: 'ServiceUnavailable',
};

/**
 * Any failure as a JsonError: SigV4 refusals (typed, or already in the Query protocol's words with
 * their operator-only detail) mapped, anything unknown an InternalFailure.
 */
export function toJsonError(e: unknown): JsonError {
  if (e instanceof JsonError) return e;
  const aws = e instanceof SigV4Failure ? sigV4Error(e.reason) : e;
  if (aws instanceof AwsError) {
    const code = SIGV4[aws.code];
    if (code !== undefined) {
      // A catalog default is the Query protocol's sentence; the JSON catalog has its own.
      const own = aws.message === ERROR_CATALOG[aws.code].message ? undefined : aws.message;
      return new JsonError(code, own, undefined, aws.detail);
    }
  }
  return new JsonError('InternalFailure');
}
