// Data shapes of the policy engine: parsed policies, the request, the decision and its trace.

export type PolicyKind = 'identity' | 'resource' | 'trust' | 'boundary' | 'session' | 'scp' | 'rcp';

export type PrincipalBlock =
  | '*'
  | { AWS?: string[]; Federated?: string[]; Service?: string[]; CanonicalUser?: string[] };

/** One (operator, key) pair of a Condition block; values are OR-ed (AND-ed for negated operators). */
export interface ConditionClause {
  /** As written, e.g. "ForAnyValue:StringLikeIfExists". */
  operator: string;
  key: string;
  values: string[];
}

export interface Statement {
  /** Position in the document, 0-based. */
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal?: PrincipalBlock;
  notPrincipal?: PrincipalBlock;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  /** One clause per (operator, key) pair; all must hold. */
  condition: ConditionClause[];
}

/** A parsed, validated policy. Statements are normalised (arrays everywhere). */
export interface Policy {
  kind: PolicyKind;
  version: '2012-10-17' | '2008-10-17';
  id?: string;
  statements: Statement[];
  /** A label such as "trust policy of role/net-plan" or "inline policy Deploy of role/x". */
  source?: string;
}

export interface ParseOptions {
  /** Size limit in characters excluding whitespace (e.g. 2048 for trust policies); default per kind. */
  maxSize?: number;
}

/** A string is single-valued; an array is a multi-valued key. Keys are matched case-insensitively. */
export type ContextValue = string | readonly string[];
export type RequestContext = Readonly<Record<string, ContextValue>>;

/** Who is calling, as resource/trust policy principals name it. */
export interface RequestPrincipal {
  /** 'AWS' for IAM users/roles/sessions/accounts; 'Federated' for web identity; 'Service'; 'Anonymous'. */
  type: 'AWS' | 'Federated' | 'Service' | 'Anonymous';
  /** Every identifier that names this caller (session ARN, role ARN, unique id, account id, root ARN). */
  ids: readonly string[];
  /** The caller's account id (absent for Federated/Service). */
  account?: string;
}

export interface AuthzRequest {
  action: string;
  resource: string;
  principal: RequestPrincipal;
  /** aws:CurrentTime etc. are in here: evaluation never reads a clock. */
  context: RequestContext;
}

export interface PolicySet {
  identity?: readonly Policy[];
  boundary?: Policy;
  /** Session policies (inline + managed); undefined = none passed. */
  session?: readonly Policy[];
  /** SCPs of the principal's account, one array per level (root, OUs, account); undefined = SCPs do not apply. */
  scp?: readonly (readonly Policy[])[];
  /** RCPs of the resource's account, per level; undefined = RCPs do not apply. */
  rcp?: readonly (readonly Policy[])[];
  /** Resource-based policy of the target (for roles: the trust policy, kind 'trust'). */
  resource?: Policy;
  /** Account owning the resource; with principal.account decides same- vs cross-account. */
  resourceAccount?: string;
  /** True when the caller is a role session. */
  principalIsSession?: boolean;
  /**
   * The resource policy must allow the caller itself, as a KMS key policy must (KMS Developer Guide,
   * "Key policies": IAM policies count only where the key policy allows them); trust policies always must.
   */
  resourceMustAllow?: boolean;
}

export type Effect = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
export type Layer = 'rcp' | 'scp' | 'resource' | 'identity' | 'boundary' | 'session';

export interface ConditionTrace {
  operator: string;
  key: string;
  expected: string[];
  /** null = key absent. */
  presented: string[] | null;
  matched: boolean;
  note?: string;
}

export interface StatementTrace {
  policy: string;
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  matched: boolean;
  /** Why it did not match. */
  reason?: 'action' | 'resource' | 'principal' | 'condition';
  conditions: ConditionTrace[];
}

export interface LayerTrace {
  layer: Layer;
  outcome: 'allow' | 'deny' | 'implicit' | 'not-applicable';
  statements: StatementTrace[];
  note?: string;
}

export interface Decision {
  effect: Effect;
  /** The explicit-deny layer, the first layer lacking an Allow, or null when allowed. */
  layer: Layer | null;
  /** Short machine reason, e.g. 'explicit-deny', 'no-allow-in-scp', 'trust-policy-does-not-allow'. */
  reason: string;
  layers: LayerTrace[];
  request: AuthzRequest;
}
