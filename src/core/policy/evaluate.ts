// Policy evaluation in AWS's order: explicit deny anywhere, RCPs, SCPs (an Allow at every level),
// the resource or trust policy with the same-/cross-account rules, identity policies, the permissions
// boundary and session policies. Pure: everything, including the time, comes from the request.

import { evaluateCondition } from './conditions.js';
import { Ctx } from './context.js';
import { actionMatches, resourceMatches } from './match.js';
import type {
  AuthzRequest,
  ConditionTrace,
  Decision,
  Layer,
  LayerTrace,
  Policy,
  PolicySet,
  PrincipalBlock,
  RequestPrincipal,
  Statement,
  StatementTrace,
} from './types.js';
import { expand } from './variables.js';

/**
 * How strongly a resource-policy Allow names the caller (same account only): naming the account
 * delegates to identity policies; naming a role still leaves the boundary and session policies in
 * force; naming the session, a user or '*' grants on its own.
 */
const Grant = { None: 0, Account: 1, Role: 2, Direct: 3 } as const;
type Grant = (typeof Grant)[keyof typeof Grant];

const ROOT = /^arn:[^:]+:iam::(\d{12}):root$/;
const ACCOUNT = /^\d{12}$/;

function grantOf(value: string, p: RequestPrincipal): Grant {
  const root = ROOT.exec(value);
  const account = root ? root[1] : ACCOUNT.test(value) ? value : undefined;
  if (account !== undefined)
    return p.account === account || p.ids.includes(account) ? Grant.Account : Grant.None;
  if (!p.ids.includes(value)) return Grant.None;
  return value.includes(':role/') || value.startsWith('AROA') ? Grant.Role : Grant.Direct;
}

/** The strongest grant the block gives this principal (None = the block does not name it). */
function principalGrant(block: PrincipalBlock, p: RequestPrincipal): Grant {
  if (block === '*') return Grant.Direct;
  let best: Grant = Grant.None;
  const aws = p.type === 'AWS' || p.type === 'Anonymous';
  for (const v of block.AWS ?? []) {
    if (v === '*') return aws ? Grant.Direct : best;
    if (p.type === 'AWS') {
      const g = grantOf(v, p);
      if (g > best) best = g;
    }
  }
  if (p.type === 'Federated' && names(block.Federated, p)) return Grant.Direct;
  if (p.type === 'Service' && names(block.Service, p)) return Grant.Direct;
  if (names(block.CanonicalUser, p)) return Grant.Direct;
  return best;
}

function names(values: readonly string[] | undefined, p: RequestPrincipal): boolean {
  if (values === undefined) return false;
  for (const v of values) if (p.ids.includes(v)) return true;
  return false;
}

function anyAction(patterns: readonly string[], action: string): boolean {
  for (const a of patterns) if (actionMatches(a, action)) return true;
  return false;
}

interface Env {
  request: AuthzRequest;
  ctx: Ctx;
  /** The caller has a permissions boundary (changes what a Deny with NotPrincipal excludes). */
  bounded: boolean;
}

interface StatementResult {
  trace: StatementTrace;
  grant: Grant;
}

function resourceHit(patterns: readonly string[], env: Env, variables: boolean): boolean {
  for (const pattern of patterns) {
    if (!variables || !pattern.includes('${')) {
      if (resourceMatches(pattern, env.request.resource)) return true;
      continue;
    }
    const e = expand(pattern, env.ctx, true);
    if (e !== null && resourceMatches(e.text, env.request.resource, e.literal)) return true;
  }
  return false;
}

function miss(trace: StatementTrace, reason: NonNullable<StatementTrace['reason']>): StatementResult {
  trace.reason = reason;
  return { trace, grant: Grant.None };
}

function evaluateStatement(st: Statement, policy: Policy, label: string, env: Env): StatementResult {
  const trace: StatementTrace = {
    policy: label,
    index: st.index,
    effect: st.effect,
    matched: false,
    conditions: [],
  };
  if (st.sid !== undefined) trace.sid = st.sid;
  const { action } = env.request;
  if (st.action !== undefined && !anyAction(st.action, action)) return miss(trace, 'action');
  if (st.notAction !== undefined && anyAction(st.notAction, action)) return miss(trace, 'action');

  const variables = policy.version === '2012-10-17';
  if (st.resource !== undefined && !resourceHit(st.resource, env, variables)) return miss(trace, 'resource');
  if (st.notResource !== undefined && resourceHit(st.notResource, env, variables))
    return miss(trace, 'resource');

  // No Principal element (identity, boundary, session, SCP): the policy is already the caller's own.
  let grant: Grant = Grant.Direct;
  if (st.principal !== undefined) grant = principalGrant(st.principal, env.request.principal);
  else if (st.notPrincipal !== undefined) {
    // IAM User Guide, "NotPrincipal": it "must be used with Effect: Deny; using it with Allow is not
    // supported", so an Allow with NotPrincipal grants nothing to anyone (it could otherwise open a
    // resource to every other account, or to anonymous callers). Recorded disagreement with
    // cloud-copilot/iam-simulate, which lets it grant to everyone not named (its notPrincipal
    // scenarios); `gatepass lint` warns (rule allow-with-not-principal).
    // Same page: a Deny with NotPrincipal always denies a principal that has a permissions
    // boundary, even one it names.
    const excluded = principalGrant(st.notPrincipal, env.request.principal) !== Grant.None;
    if (st.effect === 'Allow') grant = Grant.None;
    else grant = excluded && !env.bounded ? Grant.None : Grant.Account;
  }
  if (grant === Grant.None) return miss(trace, 'principal');

  let ok = true;
  const conditions: ConditionTrace[] = [];
  for (const clause of st.condition) {
    const c = evaluateCondition(clause, env.ctx, variables);
    conditions.push(c);
    if (!c.matched) ok = false;
  }
  trace.conditions = conditions;
  if (!ok) return miss(trace, 'condition');
  trace.matched = true;
  return { trace, grant };
}

interface LayerResult {
  layer: Layer;
  statements: StatementTrace[];
  deny: boolean;
  allow: boolean;
  grant: Grant;
  note?: string;
}

const labelOf = (p: Policy, i: number, count: number): string =>
  p.source ?? `${p.kind} policy${p.id !== undefined ? ` ${p.id}` : count > 1 ? ` #${i + 1}` : ''}`;

/** One layer of ordinary policies: any Allow in any of them allows. */
function evaluateLayer(layer: Layer, policies: readonly Policy[], env: Env): LayerResult {
  const r: LayerResult = { layer, statements: [], deny: false, allow: false, grant: Grant.None };
  for (let i = 0; i < policies.length; i++) {
    const p = policies[i];
    if (p === undefined) continue;
    const label = labelOf(p, i, policies.length);
    for (const st of p.statements) {
      const s = evaluateStatement(st, p, label, env);
      r.statements.push(s.trace);
      if (!s.trace.matched) continue;
      if (st.effect === 'Deny') r.deny = true;
      else {
        r.allow = true;
        if (s.grant > r.grant) r.grant = s.grant;
      }
    }
  }
  return r;
}

const levelName = (i: number, n: number): string => (i === 0 ? 'root' : i === n - 1 ? 'account' : `OU ${i}`);

/** SCPs/RCPs: a guardrail needs an Allow at every level (root, each OU, the account). */
function evaluateLevels(layer: 'scp' | 'rcp', levels: readonly (readonly Policy[])[], env: Env): LayerResult {
  const r: LayerResult = { layer, statements: [], deny: false, allow: true, grant: Grant.None };
  const missing: string[] = [];
  levels.forEach((policies, i) => {
    const l = evaluateLayer(layer, policies, env);
    r.statements.push(...l.statements);
    if (l.deny) r.deny = true;
    if (!l.allow) {
      r.allow = false;
      missing.push(levelName(i, levels.length));
    }
  });
  if (missing.length > 0) r.note = `no Allow at level ${missing.join(', ')}`;
  return r;
}

function traceOf(layer: Layer, r: LayerResult | undefined, skipped?: string): LayerTrace {
  if (r === undefined) return { layer, outcome: 'not-applicable', statements: [] };
  const t: LayerTrace = {
    layer,
    outcome: r.deny ? 'deny' : r.allow ? 'allow' : 'implicit',
    statements: r.statements,
  };
  const note = r.note !== undefined && skipped !== undefined ? `${r.note}; ${skipped}` : (r.note ?? skipped);
  if (note !== undefined) t.note = note;
  return t;
}

/** The account component of an ARN (the fifth), or undefined when empty or not an ARN. */
function accountOfArn(arn: string): string | undefined {
  let start = 0;
  for (let n = 0; n < 4; n++) {
    start = arn.indexOf(':', start) + 1;
    if (start === 0) return undefined;
  }
  const end = arn.indexOf(':', start);
  return end > start ? arn.slice(start, end) : undefined;
}

/** Pure, synchronous, deterministic. */
export function evaluate(request: AuthzRequest, set: PolicySet): Decision {
  const env: Env = { request, ctx: new Ctx(request.context), bounded: set.boundary !== undefined };
  const rcp = set.rcp && evaluateLevels('rcp', set.rcp, env);
  const scp = set.scp && evaluateLevels('scp', set.scp, env);
  const resource = set.resource && evaluateLayer('resource', [set.resource], env);
  const identity = set.identity && evaluateLayer('identity', set.identity, env);
  const boundary = set.boundary && evaluateLayer('boundary', [set.boundary], env);
  const session = set.session && evaluateLayer('session', set.session, env);

  const p = request.principal;
  const resourceAccount = set.resourceAccount ?? accountOfArn(request.resource);
  const cross =
    p.type === 'AWS' &&
    p.account !== undefined &&
    resourceAccount !== undefined &&
    p.account !== resourceAccount;
  const trust = set.resource?.kind === 'trust';
  const mustAllow = trust || set.resourceMustAllow === true;

  // Which identity-side layers the resource policy's Allow makes unnecessary (same account only).
  let skip: 'all' | 'identity' | 'none' = 'none';
  if (resource?.allow && !cross) {
    if (p.type !== 'AWS' || resource.grant === Grant.Direct) skip = 'all';
    else if (resource.grant === Grant.Role) skip = 'identity';
  }
  const bypass = 'not needed: the resource policy names the principal';
  const layers: LayerTrace[] = [
    traceOf('rcp', rcp),
    traceOf('scp', scp),
    traceOf('resource', resource),
    traceOf('identity', identity, skip !== 'none' ? bypass : undefined),
    traceOf('boundary', boundary, skip === 'all' ? bypass : undefined),
    traceOf('session', session, skip === 'all' ? bypass : undefined),
  ];
  const [effect, layer, reason] = verdict(
    [rcp, scp, resource, identity, boundary, session],
    cross,
    trust,
    mustAllow,
    skip,
    p,
  );
  return { effect, layer, reason, layers, request };
}

type Verdict = [effect: Decision['effect'], layer: Layer | null, reason: string];
type Results = [
  rcp: LayerResult | undefined,
  scp: LayerResult | undefined,
  resource: LayerResult | undefined,
  identity: LayerResult | undefined,
  boundary: LayerResult | undefined,
  session: LayerResult | undefined,
];

/** The decision in AWS's order, from the per-layer results. */
function verdict(
  results: Results,
  cross: boolean,
  trust: boolean,
  mustAllow: boolean,
  skip: 'all' | 'identity' | 'none',
  p: RequestPrincipal,
): Verdict {
  for (const r of results) {
    if (r?.deny) return ['ExplicitDeny', r.layer, 'explicit-deny'];
  }
  const [rcp, scp, resource, identity, boundary, session] = results;
  if (rcp && !rcp.allow) return ['ImplicitDeny', 'rcp', 'no-allow-in-rcp'];
  if (scp && !scp.allow) return ['ImplicitDeny', 'scp', 'no-allow-in-scp'];

  if (!resource?.allow) {
    // A trust policy must always allow the principal itself; across accounts so must the resource's policy.
    if (trust) return ['ImplicitDeny', 'resource', 'trust-policy-does-not-allow'];
    if (mustAllow) return ['ImplicitDeny', 'resource', 'key-policy-does-not-allow'];
    if (cross || (resource && p.type !== 'AWS'))
      return ['ImplicitDeny', 'resource', 'resource-policy-does-not-allow'];
  }
  if (skip === 'all') return ['Allow', null, 'allowed-by-resource-policy'];
  if (p.type !== 'AWS') return ['ImplicitDeny', 'resource', 'no-resource-policy-allow'];

  if (skip === 'none' && !identity?.allow) {
    const reason = cross && resource?.allow ? 'cross-account-needs-identity-allow' : 'no-allow-in-identity';
    return ['ImplicitDeny', 'identity', reason];
  }
  if (boundary && !boundary.allow) return ['ImplicitDeny', 'boundary', 'no-allow-in-boundary'];
  if (session && !session.allow) return ['ImplicitDeny', 'session', 'no-allow-in-session'];
  return ['Allow', null, 'allowed'];
}
