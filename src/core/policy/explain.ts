// A short human explanation of a decision: which policy and statement decided, and for a denial
// the nearest miss: the condition that failed, with the presented and the expected values.

import type { ConditionTrace, Decision, LayerTrace, StatementTrace } from './types.js';

const REASONS: Readonly<Record<string, string>> = {
  'explicit-deny': 'an explicit Deny applies',
  'no-allow-in-rcp': 'no resource control policy (RCP) allows it',
  'no-allow-in-scp': 'no service control policy (SCP) allows it',
  'trust-policy-does-not-allow': 'the trust policy does not allow this caller',
  'resource-policy-does-not-allow': 'the resource policy does not allow this caller',
  'key-policy-does-not-allow': 'the key policy allows neither this caller nor its account',
  'no-resource-policy-allow': 'only a resource policy could allow this caller, and none does',
  'cross-account-needs-identity-allow':
    "cross-account access also needs an Allow in the caller's identity policies, and none allows it",
  'no-allow-in-identity': 'no identity policy allows it',
  'no-allow-in-boundary': 'the permissions boundary does not allow it',
  'no-allow-in-session': 'the session policies do not allow it',
};

const MAX_VALUES = 3;

const statementName = (s: StatementTrace): string => (s.sid ? `statement ${s.sid}` : `statement #${s.index}`);

const list = (values: readonly string[]): string => {
  const shown = values.slice(0, MAX_VALUES).join(' or ');
  return values.length > MAX_VALUES ? `${shown} (+${values.length - MAX_VALUES} more)` : shown;
};

function conditionText(c: ConditionTrace, holder: string): string {
  const has =
    c.presented === null || c.presented.length === 0
      ? `${holder} has no ${c.key}`
      : `${holder} has ${c.presented.join(', ')}`;
  const note = c.note !== undefined ? ` (${c.note})` : '';
  return `${c.operator} on ${c.key} expected ${list(c.expected)}, ${has}${note}`;
}

function missText(s: StatementTrace, holder: string, d: Decision): string {
  const where = `${s.policy}, ${statementName(s)}`;
  switch (s.reason) {
    case 'condition': {
      const failed = s.conditions.filter((c) => !c.matched);
      return `${where}: ${failed.map((c) => conditionText(c, holder)).join('; ')}`;
    }
    case 'principal':
      return `${where}: does not name the caller (${d.request.principal.ids[0] ?? d.request.principal.type})`;
    case 'resource':
      return `${where}: does not cover ${d.request.resource}`;
    default:
      return `${where}: does not cover ${d.request.action}`;
  }
}

/** Allow statements that failed latest in the pipeline (condition > principal > resource > action). */
function nearestMisses(layer: LayerTrace): StatementTrace[] {
  const rank = { condition: 3, principal: 2, resource: 1, action: 0 } as const;
  const allows = layer.statements.filter((s) => s.effect === 'Allow' && !s.matched && s.reason !== undefined);
  const best = Math.max(-1, ...allows.map((s) => rank[s.reason ?? 'action']));
  if (best <= rank.action) return [];
  return allows.filter((s) => rank[s.reason ?? 'action'] === best).slice(0, 2);
}

function matchedText(s: StatementTrace, holder: string): string {
  const conds = s.conditions.map((c) => conditionText(c, holder)).join('; ');
  return `${s.policy}, ${statementName(s)} (${s.effect})${conds ? `: ${conds}` : ''}`;
}

/** Short human text naming the policy, statement and condition with presented vs expected values. */
export function explain(decision: Decision): string {
  const { action, resource, principal } = decision.request;
  const holder = principal.type === 'Federated' ? 'the token' : 'the request';
  const subject = `${action} on ${resource}`;
  if (decision.effect === 'Allow') {
    // Name the granting statement on each side that took part: the resource/trust policy and,
    // unless the resource policy sufficed alone, the identity policies.
    const sides = decision.reason === 'allowed-by-resource-policy' ? ['resource'] : ['resource', 'identity'];
    const grants: string[] = [];
    for (const l of decision.layers) {
      if (!sides.includes(l.layer)) continue;
      const by = l.statements.find((s) => s.matched && s.effect === 'Allow');
      if (by) grants.push(matchedText(by, holder));
    }
    return grants.length > 0 ? `Allowed ${subject}: ${grants.join('; and ')}.` : `Allowed ${subject}.`;
  }
  const layer = decision.layers.find((l) => l.layer === decision.layer);
  const why = REASONS[decision.reason] ?? decision.reason;
  if (decision.effect === 'ExplicitDeny') {
    const deny = layer?.statements.find((s) => s.matched && s.effect === 'Deny');
    return `Denied ${subject}: ${why}: ${deny ? matchedText(deny, holder) : decision.layer}.`;
  }
  const notes = layer?.note !== undefined ? ` (${layer.note})` : '';
  const misses = layer ? nearestMisses(layer).map((s) => missText(s, holder, decision)) : [];
  return `Denied ${subject}: ${why}${notes}${misses.length > 0 ? `. Nearest: ${misses.join('. ')}` : ''}.`;
}
