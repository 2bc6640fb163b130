// Suggested fixes for a denial, when the trace makes one obvious: which `sub` segment differs from
// what the trust pins (and which role pins the token's value instead), a wrong audience, a missing
// sts:TagSession, the guard rail that denied, the identity policy that lacks an Allow.
import type { ConditionTrace, LayerTrace, StatementTrace } from '../../core/policy/index.js';
import type { StoredTrace } from '../../core/policy/stored-trace.js';
import { layerName } from './story.js';

export interface Alternative {
  arn: string;
  trustPolicy: string;
}

export interface HintContext {
  /** Roles of the same account whose trust allows the values this request presented. */
  alternatives?: readonly Alternative[];
}

const MAX_ALTERNATIVES = 3;

/** Roles to suggest: those whose trust names `prefer` (e.g. run_phase:apply) first, at most three. */
function suggest(alternatives: readonly Alternative[] | undefined, prefer?: string): string {
  if (!alternatives?.length) return '';
  const preferred = prefer ? alternatives.filter((a) => a.trustPolicy.includes(prefer)) : [];
  const pick = (preferred.length > 0 ? preferred : alternatives).map((a) => a.arn).sort();
  const more = pick.length > MAX_ALTERNATIVES ? `, +${pick.length - MAX_ALTERNATIVES} more` : '';
  return `${pick.slice(0, MAX_ALTERNATIVES).join(', ')}${more}`;
}

const SUB_KEYS = ['organization', 'project', 'workspace', 'run_phase'] as const;

/** `organization:a:project:b:workspace:c:run_phase:d` → its segments, or undefined for other shapes. */
function segments(sub: string): Map<string, string> | undefined {
  const parts = sub.split(':');
  if (parts.length % 2 !== 0 || parts.length < 2) return undefined;
  const out = new Map<string, string>();
  for (let i = 0; i < parts.length; i += 2) out.set(parts[i] ?? '', parts[i + 1] ?? '');
  return out.has('organization') ? out : undefined;
}

function glob(pattern: string, value: string, like: boolean): boolean {
  if (!like) return pattern === value;
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

const quote = (v: string): string => `"${v}"`;

function subHints(c: ConditionTrace, ctx: HintContext): string[] {
  const presented = c.presented?.[0];
  if (presented === undefined) return [`the request has no ${c.key}; the trust policy requires one`];
  const like = /like/i.test(c.operator);
  if (c.expected.some((e) => glob(e.toLowerCase(), presented.toLowerCase(), like))) {
    return [
      `the token's sub ${quote(presented)} differs from the trust policy only in letter case; ${c.operator} is case-sensitive`,
    ];
  }
  const have = segments(presented);
  let best: { diffs: string[]; expected: Map<string, string> } | undefined;
  for (const e of c.expected) {
    const want = segments(e);
    if (!have || !want) continue;
    const keys = [...new Set([...want.keys(), ...have.keys()])];
    const diffs = keys.filter((k) => !glob(want.get(k) ?? '\u0000', have.get(k) ?? '', like));
    if (!best || diffs.length < best.diffs.length) best = { diffs, expected: want };
  }
  if (!have || !best) {
    return [
      `the token's sub is ${quote(presented)}; the trust policy expects ${c.expected.map(quote).join(' or ')}`,
    ];
  }
  const { diffs, expected } = best;
  const shapeOf = (m: Map<string, string>) => [...m.keys()].join(':');
  if (shapeOf(expected) !== shapeOf(have) && diffs.some((k) => !expected.has(k) || !have.has(k))) {
    return [
      `the token's sub has the segments ${shapeOf(have)}, the trust policy expects ${shapeOf(expected)}: update the condition to the issuer's sub format`,
    ];
  }
  if (diffs.length === 1 && diffs[0] === 'run_phase') {
    const phase = have.get('run_phase') ?? '';
    const roles = suggest(ctx.alternatives, `run_phase:${phase}"`);
    const also = roles ? ` (${roles})` : '';
    return [
      `the token's phase is ${phase}; this role's trust pins run_phase:${expected.get('run_phase')} — use the ${phase} role${also}`,
    ];
  }
  const lines = diffs
    .filter((k) => (SUB_KEYS as readonly string[]).includes(k) || expected.has(k))
    .map(
      (k) =>
        `the token's ${k} is ${quote(have.get(k) ?? '')}; the trust policy expects ${k}:${expected.get(k) ?? '(none)'}`,
    );
  const roles = suggest(ctx.alternatives);
  if (roles) lines.push(`roles of this account whose trust allows this token: ${roles}`);
  return lines;
}

function conditionHints(c: ConditionTrace, ctx: HintContext): string[] {
  const key = c.key.toLowerCase();
  if (key.endsWith(':sub')) return subHints(c, ctx);
  const presented = values(c.presented);
  if (key.endsWith(':aud')) {
    return [
      `the token's aud is ${presented}; the trust policy expects ${c.expected.join(' or ')}: mint the token for that audience (TFC_WORKLOAD_IDENTITY_AUDIENCE, or --audience) or change the condition`,
    ];
  }
  return [`${c.key} is ${presented}; ${c.operator} expects ${c.expected.join(' or ')}`];
}

const values = (v: readonly string[] | null): string =>
  v === null || v.length === 0 ? '(absent)' : v.map(quote).join(', ');

/** Allow statements of a layer that failed latest (condition > principal > resource > action). */
function nearest(layer: LayerTrace): StatementTrace[] {
  const rank = { condition: 3, principal: 2, resource: 1, action: 0 } as const;
  const allows = layer.statements.filter((s) => s.effect === 'Allow' && !s.matched);
  const best = Math.max(-1, ...allows.map((s) => rank[s.reason ?? 'action']));
  return allows.filter((s) => rank[s.reason ?? 'action'] === best);
}

const TAG_ACTIONS: Readonly<Record<string, string>> = {
  'sts:tagsession':
    'the request carries session tags (for a token: the https://aws.amazon.com/tags claim): add sts:TagSession to the Action of the trust statement, or turn session tags off for the workspace',
  'sts:setsourceidentity':
    'the request sets a source identity (for a token: the https://aws.amazon.com/source_identity claim): add sts:SetSourceIdentity to the Action of the trust statement, or turn source identity off for the workspace',
};

function trustHints(t: StoredTrace, layer: LayerTrace, ctx: HintContext): string[] {
  const tagHint = TAG_ACTIONS[t.action.toLowerCase()];
  if (tagHint) return [tagHint];
  const misses = nearest(layer);
  const reason = misses[0]?.reason;
  if (misses.length === 0 || reason === 'action') {
    return [`no statement of the trust policy allows ${t.action}: add one that names the caller`];
  }
  if (reason === 'principal') {
    return [
      `the trust policy does not name the caller${t.principal.id ? ` ${t.principal.id}` : ''}: add it to the Principal of the statement that allows ${t.action}`,
    ];
  }
  const out: string[] = [];
  for (const s of misses.slice(0, 2)) {
    for (const c of s.conditions) if (!c.matched) out.push(...conditionHints(c, ctx));
  }
  return [...new Set(out)];
}

/** A session ARN names the role whose policies must change: `…:assumed-role/net/s` → `role/net`. */
function callerName(id: string | undefined): string {
  const m = id ? /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(id) : null;
  return m ? `role/${m[2]} of account ${m[1]}` : (id ?? 'the caller');
}

/** Fixes worth trying, most specific first; empty when nothing is obvious. */
export function hintsFor(t: StoredTrace, ctx: HintContext = {}): string[] {
  if (t.effect === 'Allow' || t.layer === null) return [];
  const layer = t.layers.find((l) => l.layer === t.layer);
  if (!layer) return [];
  const where = layerName(t.layer, t.action);
  if (t.effect === 'ExplicitDeny') {
    const deny = layer.statements.find((s) => s.matched && s.effect === 'Deny');
    const which = deny ? `${deny.policy}, statement ${deny.sid ?? `#${deny.index}`}` : where;
    if (t.layer === 'scp' || t.layer === 'rcp') {
      return [
        `${which} denies ${t.action}: it is an organization guard rail; change it in the management account, or act from an account it does not cover`,
      ];
    }
    return [`${which} denies ${t.action}: remove or narrow that Deny statement`];
  }
  switch (t.layer) {
    case 'resource':
      return trustHints(t, layer, ctx);
    case 'scp':
    case 'rcp':
      return [
        `no ${where.replace(/ \(.*\)$/, '')} ${layer.note ? `(${layer.note}) ` : ''}allows ${t.action}: attach one that allows it (FullAWSAccess allows everything)`,
      ];
    case 'identity':
      return [
        t.reason === 'cross-account-needs-identity-allow'
          ? `the target trusts the caller, but across accounts the caller's identity policies must also allow ${t.action} on ${t.resource}: add that Allow to ${callerName(t.principal.id)}`
          : `no identity policy of ${callerName(t.principal.id)} allows ${t.action} on ${t.resource}: add an Allow statement for it`,
      ];
    case 'boundary':
      return [`the permissions boundary does not allow ${t.action}: widen the boundary or remove it`];
    case 'session':
      return [`the session policies passed when the session was created do not allow ${t.action}`];
    default:
      return [];
  }
}

/** Condition values a trace saw, as a request context (to try other roles with the same token). */
export function presentedContext(t: StoredTrace): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const l of t.layers)
    for (const s of l.statements)
      for (const c of s.conditions) {
        if (c.presented === null) continue;
        out[c.key] = c.presented.length === 1 ? (c.presented[0] ?? '') : c.presented;
      }
  return out;
}
