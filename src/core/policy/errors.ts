// The one error the parser throws, and the words it says. Messages follow AWS's
// MalformedPolicyDocument wording where AWS has one (the rest begin with AWS's "Syntax errors in
// policy."), with the offending statement appended so a caller can find it in a long document.

export type PolicyErrorCode = 'MalformedPolicyDocument' | 'LimitExceeded';

const SYNTAX = 'Syntax errors in policy.';

/** Every problem the parser reports. */
export const POLICY_MESSAGES = {
  syntax: SYNTAX,
  charset: (offset: number) =>
    `${SYNTAX} The policy contains a character outside the allowed set at offset ${offset}.`,
  sizeQuota: (quota: string, max: number) => `Cannot exceed quota for ${quota}: ${max}`,
  legacyParsing: 'The policy failed legacy parsing',
  unsupportedTopField: (field: string) => `${SYNTAX} Unsupported top-level field ${field}.`,
  idNotString: `${SYNTAX} Id must be a string.`,
  missingStatement: `${SYNTAX} Missing required field Statement.`,
  statementNotObject: (index: number) => `${SYNTAX} Statement ${index} must be an object.`,
  sidNotString: `${SYNTAX} Sid must be a string.`,
  sidNotAlnum:
    'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
  sidNotUnique: 'Statement IDs (SID) in a single policy must be unique.',
  unsupportedField: (field: string) => `${SYNTAX} Unsupported field ${field}.`,
  missingEffect: 'Missing required field Effect',
  invalidEffect: (effect: string) => `Invalid effect: ${effect}`,
  principalProhibited: 'Policy document should not specify a principal.',
  missingPrincipal: 'Missing required field Principal',
  prohibitedField: (field: string) => `Has prohibited field ${field}`,
  both: (field: string, notField: string) =>
    `${SYNTAX} A statement cannot have both ${field} and ${notField}.`,
  principalNotStar: (kind: string) => `The Principal of ${kind} statements must be "*".`,
  invalidPrincipal: (json: string) => `Invalid principal in policy: ${json}`,
  invalidPrincipalType: (type: string) => `Invalid principal in policy: "${type}"`,
  invalidPrincipalValue: (type: string, value: string) => `Invalid principal in policy: "${type}":"${value}"`,
  notStringList: (field: string) => `${SYNTAX} ${field} must be a string or a non-empty list of strings.`,
  notOnlyStrings: (field: string) => `${SYNTAX} ${field} must contain only strings.`,
  noActions: 'Policy statement must contain actions.',
  noResources: 'Policy statement must contain resources.',
  vendor: 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.',
  invalidAction: (action: string) => `Invalid action: ${action}`,
  resourceNotArn: (resource: string) => `Resource ${resource} must be in ARN format or "*".`,
  conditionNotObject: `${SYNTAX} Condition must be an object.`,
  unknownOperator: (operator: string) => `Unknown condition operator ${operator}`,
  operatorNotMap: (operator: string) => `${SYNTAX} Condition operator ${operator} must map keys to values.`,
  conditionNoValues: (operator: string, key: string) =>
    `${SYNTAX} Condition ${operator} on ${key} has no values.`,
  conditionValueType: `${SYNTAX} Condition values must be strings, numbers or booleans.`,
  conditionValue: (family: string, operator: string, key: string, value: string) =>
    `Invalid Condition ${family} value for ${operator} on ${key}: ${value}`,
} as const;

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
