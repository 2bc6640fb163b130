// One scenario of cloud-copilot/iam-simulate's core-engine suite (their JSON test data, read at run
// time from ../shared/peer-iam-simulate/, never copied here) as a SimulatePrincipalPolicy call: the
// principal becomes a user or role of the node's own account (a role session becomes its role, with
// the session ARN as CallerArn), its identity policies and boundary go in as policy inputs, and the
// resource policy, resource owner and context entries go in as AWS defines them. What the IAM
// simulator API cannot carry (SCPs, RCPs, session and endpoint policies, anonymous or service
// callers, the peer's discovery mode) is skipped with the reason.

export type EvalDecision = 'allowed' | 'implicitDeny' | 'explicitDeny';

/** The fields of a peer scenario this translator reads; anything else present makes it skip. */
export interface PeerScenario {
  name: string;
  request: {
    action: string;
    resource: { resource: string; accountId: string };
    principal: string | { type: string };
    context?: Record<string, string | string[]>;
    wildcardOnlyAction?: boolean;
  };
  identityPolicies: unknown[];
  resourcePolicy?: unknown;
  permissionBoundaries?: unknown[];
  serviceControlPolicies?: unknown[];
  resourceControlPolicies?: unknown[];
  endpointPolicies?: unknown[];
  sessionPolicy?: unknown;
  resourcePolicies?: unknown;
  simulation?: { mode?: string };
  expected: { response: string };
}

export interface Entity {
  kind: 'user' | 'role';
  name: string;
  path: string;
  arn: string;
}

export interface ContextEntry {
  ContextKeyName: string;
  ContextKeyValues: string[];
  ContextKeyType: 'string' | 'stringList';
}

/** A SimulatePrincipalPolicy call on an entity created for it. */
export interface PeerRun {
  entity: Entity;
  /** CallerArn: the role session the scenario's request comes from, when it is one. */
  callerArn?: string;
  action: string;
  resource: string;
  /** ResourceOwner, as the account ARN AWS's simulator takes. */
  resourceOwner: string;
  policies: string[];
  boundary?: string;
  resourcePolicy?: string;
  context: ContextEntry[];
  expected: EvalDecision;
}

export type Translation = { run: PeerRun } | { skip: string };

const EXPECTED: Readonly<Record<string, EvalDecision>> = {
  Allowed: 'allowed',
  ImplicitlyDenied: 'implicitDeny',
  ExplicitlyDenied: 'explicitDeny',
};

const PRINCIPAL =
  /^arn:aws:(?:iam::(\d{12}):(user|role)((?:\/[^/]+)*)\/([^/]+)|sts::(\d{12}):assumed-role\/([^/]+)\/(.+))$/;

/** Why the simulator API cannot express this scenario, or undefined when it can. */
function unsupported(s: PeerScenario): string | undefined {
  const nonEmpty = (v: unknown) => v !== undefined && (!Array.isArray(v) || v.length > 0);
  if (s.simulation?.mode !== undefined && s.simulation.mode !== 'Strict')
    return `the peer's ${s.simulation.mode} mode (no AWS counterpart)`;
  if (nonEmpty(s.serviceControlPolicies)) return 'SCPs (not simulator inputs)';
  if (nonEmpty(s.resourceControlPolicies)) return 'RCPs (not simulator inputs)';
  if (nonEmpty(s.endpointPolicies)) return 'VPC endpoint policies (not simulator inputs)';
  if (s.sessionPolicy !== undefined) return 'session policies (not simulator inputs)';
  if (s.resourcePolicies !== undefined) return 'several resource policies (the simulator takes one)';
  if ((s.permissionBoundaries?.length ?? 0) > 1) return 'several permissions boundaries';
  if (typeof s.request.principal !== 'string') return `a caller of type ${s.request.principal.type}`;
  if (!PRINCIPAL.test(s.request.principal)) return 'a service principal caller';
  if (EXPECTED[s.expected.response] === undefined) return `expected response ${s.expected.response}`;
  return undefined;
}

/** The scenario with its caller's account renamed to `local` everywhere (policies, ARNs, context). */
function rehome(s: PeerScenario, from: string, local: string): PeerScenario {
  if (from === local) return s;
  return JSON.parse(JSON.stringify(s).replaceAll(from, local)) as PeerScenario;
}

export function translate(scenario: PeerScenario, localAccount: string): Translation {
  const why = unsupported(scenario);
  if (why !== undefined) return { skip: why };
  const m = PRINCIPAL.exec(scenario.request.principal as string);
  if (!m) return { skip: 'a service principal caller' };
  const from = m[1] ?? m[5] ?? '';
  const s = rehome(scenario, from, localAccount);
  const principal = s.request.principal as string;
  const entity: Entity = m[6]
    ? { kind: 'role', name: m[6], path: '/', arn: `arn:aws:iam::${localAccount}:role/${m[6]}` }
    : {
        kind: m[2] as 'user' | 'role',
        name: m[4] ?? '',
        path: `${m[3] ?? ''}/`,
        arn: principal,
      };
  const context = Object.entries(s.request.context ?? {}).map(
    ([k, v]): ContextEntry =>
      Array.isArray(v)
        ? { ContextKeyName: k, ContextKeyValues: v, ContextKeyType: 'stringList' }
        : { ContextKeyName: k, ContextKeyValues: [v], ContextKeyType: 'string' },
  );
  const [boundary] = s.permissionBoundaries ?? [];
  const run: PeerRun = {
    entity,
    action: s.request.action,
    resource: s.request.resource.resource,
    resourceOwner: `arn:aws:iam::${s.request.resource.accountId}:root`,
    policies: s.identityPolicies.map((p) => JSON.stringify(p)),
    context,
    expected: EXPECTED[s.expected.response] as EvalDecision,
  };
  if (m[6]) run.callerArn = principal;
  if (boundary !== undefined) run.boundary = JSON.stringify(boundary);
  if (s.resourcePolicy !== undefined) run.resourcePolicy = JSON.stringify(s.resourcePolicy);
  return { run };
}

type Statement = Record<string, unknown>;

function statementsOf(policy: unknown): Statement[] {
  const st = (policy as { Statement?: unknown } | null)?.Statement;
  const list = Array.isArray(st) ? st : st === undefined ? [] : [st];
  return list.filter((x): x is Statement => typeof x === 'object' && x !== null);
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];

const identitySide = (s: PeerScenario): Statement[] =>
  [...s.identityPolicies, ...(s.permissionBoundaries ?? [])].flatMap(statementsOf);
const resourceSide = (s: PeerScenario): Statement[] => statementsOf(s.resourcePolicy);
const refused = (got: string) => got.startsWith('error MalformedPolicyDocument');

/** An action string that is not `service:name` (a comma, whitespace, nothing after the colon). */
const badAction = (a: string) => a !== '*' && /[,\s]|:$/.test(a);

interface Recorded {
  applies: (s: PeerScenario, got: string) => boolean;
  reason: string;
}

/**
 * Where gatepass decides otherwise on purpose. Each decision, its evidence and its source are
 * recorded next to the code that makes it; the reason here says where.
 */
const RECORDED: readonly Recorded[] = [
  {
    applies: (s, got) =>
      refused(got) &&
      [...identitySide(s), ...resourceSide(s)].some((st) =>
        [...strings(st.Action), ...strings(st.NotAction)].some(badAction),
      ),
    reason:
      'an action with a comma, whitespace or no name is refused as MalformedPolicyDocument: IAM User Guide, "IAM JSON policy elements: Action" and the policy grammar (<action_string> is a service prefix, a colon and the name of an action the service supports) (src/core/policy/parse.ts, ACTION)',
  },
  {
    applies: (s, got) =>
      refused(got) && identitySide(s).some((st) => 'Principal' in st || 'NotPrincipal' in st),
    reason:
      'an identity policy may not name a principal; IAM refuses it (IAM User Guide, "Principal"; src/core/policy/parse.ts, statement)',
  },
  {
    applies: (s, got) =>
      refused(got) && resourceSide(s).some((st) => !('Principal' in st) && !('NotPrincipal' in st)),
    reason:
      'a resource policy statement must name a principal; IAM refuses it without (IAM User Guide, "Principal"; src/core/policy/parse.ts, statement)',
  },
  {
    applies: (s, got) =>
      refused(got) &&
      resourceSide(s).some((st) =>
        [st.Principal, st.NotPrincipal].some((p) => typeof p === 'string' && p !== '*'),
      ),
    reason:
      'Principal is "*" or a map of principal types in the IAM policy grammar, never a bare ARN (IAM User Guide, "Grammar of the IAM JSON policy language"; src/core/policy/parse.ts, principal)',
  },
  {
    applies: (s, got) =>
      got === 'implicitDeny' && resourceSide(s).some((st) => st.Effect === 'Allow' && 'NotPrincipal' in st),
    reason:
      'an Allow with NotPrincipal grants nothing: NotPrincipal "must be used with Deny; using it with Allow is not supported" (IAM User Guide, "NotPrincipal"; src/core/policy/evaluate.ts, evaluateStatement)',
  },
  {
    applies: (s, got) => got === 'implicitDeny' && /[*?]/.test(s.request.resource.resource),
    reason:
      'the requested resource is a literal name: "*" asks for all resources, not for some (botocore SimulateCustomPolicy ResourceArns; src/core/policy/match.ts, resourceMatches)',
  },
];

/**
 * The scenario with the two grammar points IAM refuses rewritten as the peer reads them: a bare ARN
 * as Principal becomes `{"AWS": ARN}`, and a Principal in an identity policy or boundary is dropped.
 * Running it asks whether the decision itself agrees, once the document is one IAM accepts.
 * Undefined when there is nothing to rewrite.
 */
export function normalized(scenario: PeerScenario): PeerScenario | undefined {
  const copy = JSON.parse(JSON.stringify(scenario)) as PeerScenario;
  let changed = false;
  for (const st of [...copy.identityPolicies, ...(copy.permissionBoundaries ?? [])].flatMap(statementsOf)) {
    for (const field of ['Principal', 'NotPrincipal'])
      if (field in st) {
        delete st[field];
        changed = true;
      }
  }
  for (const st of statementsOf(copy.resourcePolicy)) {
    for (const field of ['Principal', 'NotPrincipal']) {
      const p = st[field];
      if (typeof p === 'string' && p !== '*') {
        st[field] = { AWS: p };
        changed = true;
      }
    }
  }
  return changed ? copy : undefined;
}

/** The reason gatepass records for deciding `got` where the peer decides otherwise, if it has one. */
export function recordedReason(scenario: PeerScenario, got: string): string | undefined {
  return RECORDED.find((r) => r.applies(scenario, got))?.reason;
}
