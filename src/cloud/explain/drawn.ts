// A decision as the operator UI draws it: the evaluation layers in order as pass/fail steps, the
// statement that decided with each condition's expected and presented values, and the one-line why.
// Built from the stored trace (never from the text), so the picture and `gatepass explain` agree.
import { explain, type StatementTrace } from '../../core/policy/index.js';
import { asDecision, type StoredTrace } from '../../core/policy/stored-trace.js';
import type { ConditionTrace, Layer } from '../../core/policy/types.js';
import { layerName } from './story.js';

/** Guard rails first, then the caller's side, then the target's: the order a request meets them. */
const ORDER: readonly Layer[] = ['scp', 'rcp', 'identity', 'boundary', 'session', 'resource'];

/** `none`: no statement of the layer applied, and another layer decided (same-account trust). */
export type StepOutcome = 'pass' | 'fail' | 'none' | 'skipped';

export interface DrawnStep {
  layer: Layer;
  /** `service control policies (SCPs)`, `trust policy`, … as `gatepass explain` words it. */
  name: string;
  outcome: StepOutcome;
  /** The engine's outcome: allow, deny (explicit), implicit (nothing allows), not-applicable. */
  detail: string;
  deciding: boolean;
  note?: string;
}

/** A condition with the values it expected and those the request presented (null: absent). */
export type DrawnCondition = ConditionTrace;

export interface DrawnStatement {
  layer: Layer;
  policy: string;
  index: number;
  sid?: string;
  effect: 'Allow' | 'Deny';
  matched: boolean;
  /** Why it did not match (action, resource, principal, condition). */
  reason?: string;
  conditions: DrawnCondition[];
}

export interface DrawnDecision {
  action: string;
  resource: string;
  principal: { type: string; id?: string };
  effect: StoredTrace['effect'];
  /** The layer that decided a denial; for an allow, null. */
  decidingLayer: string | null;
  steps: DrawnStep[];
  /** The statement that decided (or, for a denial nothing allowed, the nearest miss). */
  statement?: DrawnStatement;
  why: string;
}

const OUTCOME: Readonly<Record<string, StepOutcome>> = {
  allow: 'pass',
  deny: 'fail',
  implicit: 'fail',
  'not-applicable': 'skipped',
};

/** How close a statement came, best first: a match, then a failed condition, then the others. */
function closeness(s: StatementTrace): number {
  if (s.matched) return 0;
  if (s.reason === 'condition') return 1;
  if (s.reason === 'principal') return 2;
  if (s.reason === 'resource') return 3;
  return 4;
}

function decidingStatement(t: StoredTrace): DrawnStatement | undefined {
  // An allow is decided by the target's policy when it allows, else by the caller's identity.
  const layer =
    t.layer ??
    (t.layers.find((l) => l.layer === 'resource' && l.outcome === 'allow') ? 'resource' : 'identity');
  const trace = t.layers.find((l) => l.layer === layer);
  if (!trace) return undefined;
  const wanted = t.effect === 'ExplicitDeny' ? 'Deny' : 'Allow';
  const candidates = trace.statements.filter((s) => s.effect === wanted);
  const best = [...candidates].sort((a, b) => closeness(a) - closeness(b))[0];
  if (!best) return undefined;
  return {
    layer,
    policy: best.policy,
    index: best.index,
    ...(best.sid !== undefined ? { sid: best.sid } : {}),
    effect: best.effect,
    matched: best.matched,
    ...(best.reason !== undefined ? { reason: best.reason } : {}),
    conditions: best.conditions.map((c) => ({
      operator: c.operator,
      key: c.key,
      expected: [...c.expected],
      presented: c.presented === null ? null : [...c.presented],
      matched: c.matched,
      ...(c.note !== undefined ? { note: c.note } : {}),
    })),
  };
}

export function drawDecision(t: StoredTrace): DrawnDecision {
  const byLayer = new Map(t.layers.map((l) => [l.layer, l]));
  const steps: DrawnStep[] = ORDER.map((layer) => {
    const l = byLayer.get(layer);
    const detail = l?.outcome ?? 'not-applicable';
    const deciding = t.layer === layer;
    const outcome = detail === 'implicit' && !deciding ? 'none' : (OUTCOME[detail] ?? 'skipped');
    return {
      layer,
      name: layerName(layer, t.action),
      outcome,
      detail,
      deciding,
      ...(l?.note !== undefined ? { note: l.note } : {}),
    };
  });
  const statement = decidingStatement(t);
  return {
    action: t.action,
    resource: t.resource,
    principal: { ...t.principal },
    effect: t.effect,
    decidingLayer: t.layer === null ? null : layerName(t.layer, t.action),
    steps,
    ...(statement ? { statement } : {}),
    why: explain(asDecision(t)),
  };
}
