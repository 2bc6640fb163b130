// The policy engine's public surface (explicit re-exports only).

export { PolicyValidationError } from './errors.js';
export { evaluate } from './evaluate.js';
export { explain } from './explain.js';
export type { Finding, IssuerInfo, Severity } from './lint.js';
export { lintTrustPolicy, oidcTrustIsPinned } from './lint.js';
export { AWS_GENERIC_OIDC_KEYS, awsEvaluatedKeys, lintAwsConditionKeys } from './lint-aws-keys.js';
export { lintPolicyDocument } from './lint-document.js';
export { parsePolicy } from './parse.js';
export type {
  AuthzRequest,
  ConditionClause,
  ConditionTrace,
  ContextValue,
  Decision,
  Effect,
  Layer,
  LayerTrace,
  ParseOptions,
  Policy,
  PolicyKind,
  PolicySet,
  PrincipalBlock,
  RequestContext,
  RequestPrincipal,
  Statement,
  StatementTrace,
} from './types.js';
