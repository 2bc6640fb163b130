// The decision trace as it is kept on an audit event and carried to `gatepass explain`: the deciding
// layer and every evaluated statement and condition with the values presented, so a denial can be
// explained later exactly as it was decided (policies may have changed since). No token or secret
// is ever in a request context; values some treat as shared secrets (sts:ExternalId) are masked.
import type { Decision, Effect, Layer, LayerTrace } from './types.js';

export interface StoredTrace {
  effect: Effect;
  layer: Layer | null;
  reason: string;
  action: string;
  resource: string;
  principal: { type: string; id?: string };
  layers: LayerTrace[];
}

const MASKED = new Set(['sts:externalid']);
export const MASK = '(masked)';

/** A JSON-safe copy of the decision for the audit log. */
export function storedTrace(decision: Decision): StoredTrace {
  const { principal } = decision.request;
  const id = principal.ids[0];
  return {
    effect: decision.effect,
    layer: decision.layer,
    reason: decision.reason,
    action: decision.request.action,
    resource: decision.request.resource,
    principal: id !== undefined ? { type: principal.type, id } : { type: principal.type },
    layers: decision.layers.map((l) => ({
      ...l,
      statements: l.statements.map((s) => ({
        ...s,
        conditions: s.conditions.map((c) =>
          MASKED.has(c.key.toLowerCase()) && c.presented !== null
            ? { ...c, presented: c.presented.map(() => MASK) }
            : c,
        ),
      })),
    })),
  };
}

/** Back to the engine's Decision shape, so the engine's own one-line `explain` can word it. */
export function asDecision(t: StoredTrace): Decision {
  return {
    effect: t.effect,
    layer: t.layer,
    reason: t.reason,
    layers: t.layers,
    request: {
      action: t.action,
      resource: t.resource,
      principal: {
        type: t.principal.type as Decision['request']['principal']['type'],
        ids: t.principal.id !== undefined ? [t.principal.id] : [],
      },
      context: {},
    },
  };
}

/** Reads a trace back from untyped JSON (an audit event's detail, an API response). */
export function isStoredTrace(v: unknown): v is StoredTrace {
  if (!v || typeof v !== 'object') return false;
  const t = v as Record<string, unknown>;
  return (
    typeof t.effect === 'string' &&
    typeof t.reason === 'string' &&
    typeof t.action === 'string' &&
    typeof t.resource === 'string' &&
    Array.isArray(t.layers) &&
    !!t.principal &&
    typeof t.principal === 'object'
  );
}
