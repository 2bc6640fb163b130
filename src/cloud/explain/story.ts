// A decision told as a story: the deciding layer first, then every layer that took part, statement
// by statement and condition by condition with the expected and presented values. Plain text lines,
// so the CLI, golden tests and the API all show the same words.
import { explain, type LayerTrace, type StatementTrace } from '../../core/policy/index.js';
import { asDecision, type StoredTrace } from '../../core/policy/stored-trace.js';

const LAYER_NAMES: Readonly<Record<string, string>> = {
  rcp: 'resource control policies (RCPs)',
  scp: 'service control policies (SCPs)',
  identity: 'identity policies',
  boundary: 'permissions boundary',
  session: 'session policies',
};

export const layerName = (layer: string, action: string): string =>
  layer === 'resource'
    ? /^sts:(AssumeRole|TagSession|SetSourceIdentity)/i.test(action)
      ? 'trust policy'
      : 'resource policy'
    : (LAYER_NAMES[layer] ?? layer);

const VERDICT: Readonly<Record<string, string>> = {
  Allow: 'ALLOWED',
  ExplicitDeny: 'DENIED (explicit deny)',
  ImplicitDeny: 'DENIED (no statement allows it)',
};

const MISS: Readonly<Record<NonNullable<StatementTrace['reason']>, string>> = {
  action: 'does not cover the action',
  resource: 'does not cover the resource',
  principal: 'does not name the caller',
  condition: 'a condition failed',
};

const statementLabel = (s: StatementTrace): string =>
  `statement ${s.sid !== undefined ? `${s.sid} (#${s.index})` : `#${s.index}`} ${s.effect}`;

const values = (v: readonly string[] | null): string =>
  v === null || v.length === 0 ? '(absent)' : v.map((x) => (x === '' ? '""' : x)).join(' | ');

function statementLines(s: StatementTrace): string[] {
  const outcome = s.matched
    ? s.effect === 'Deny'
      ? 'matches: denies'
      : 'matches: allows'
    : MISS[s.reason ?? 'action'];
  const lines = [`    ${statementLabel(s)}: ${outcome}`];
  for (const c of s.conditions) {
    lines.push(`      ${c.matched ? 'ok  ' : 'FAIL'} ${c.operator} ${c.key}${c.note ? ` (${c.note})` : ''}`);
    lines.push(`           expected:  ${values(c.expected)}`);
    lines.push(`           presented: ${values(c.presented)}`);
  }
  return lines;
}

/** `SCP FullAWSAccess (p-…) on ou-…` → `FullAWSAccess`: the policy, not where it is attached. */
const policyName = (label: string): string => label.replace(/^(SCP|RCP) /, '').replace(/ \(.*$/, '');

/**
 * Guard-rail statements stay in level order (root, OUs, account: the `on <target>` of the label),
 * and within a level by policy name rather than by the random policy id the store orders them by.
 */
function byLevel(statements: readonly StatementTrace[]): StatementTrace[] {
  const target = (s: StatementTrace): string => / on (\S+)$/.exec(s.policy)?.[1] ?? '';
  const levels = [...new Set(statements.map(target))];
  return statements
    .map((s, i) => ({ s, i }))
    .sort(
      (a, b) =>
        levels.indexOf(target(a.s)) - levels.indexOf(target(b.s)) ||
        (target(a.s) === '' ? 0 : policyName(a.s.policy).localeCompare(policyName(b.s.policy))) ||
        a.i - b.i,
    )
    .map((x) => x.s);
}

/**
 * The deciding layer shows every statement; the others only the statements that matched, and the
 * organization's guard rails that did not decide just name the policies that allowed.
 */
function layerLines(l: LayerTrace, action: string, deciding: boolean): string[] {
  const mark = deciding ? ' <- decided here' : '';
  const head = `  ${layerName(l.layer, action)}: ${l.outcome}${l.note ? ` (${l.note})` : ''}`;
  const shown = byLevel(deciding ? l.statements : l.statements.filter((s) => s.matched));
  if (!deciding && (l.layer === 'scp' || l.layer === 'rcp')) {
    const names = [...new Set(shown.map((s) => policyName(s.policy)))];
    return [`${head}${names.length > 0 ? ` (by ${names.join(', ')})` : ''}`];
  }
  const lines = [`${head}${mark}`];
  let policy: string | undefined;
  for (const s of shown) {
    if (s.policy !== policy) {
      policy = s.policy;
      lines.push(`   ${policy}`);
    }
    lines.push(...statementLines(s));
  }
  return lines;
}

/** The whole story of one decision. */
export function decisionStory(t: StoredTrace): string[] {
  const lines = [`${t.action} on ${t.resource}: ${VERDICT[t.effect] ?? t.effect}`];
  if (t.principal.id !== undefined) lines.push(`  caller: ${t.principal.id} (${t.principal.type})`);
  if (t.layer !== null) lines.push(`  deciding layer: ${layerName(t.layer, t.action)}`);
  lines.push(`  why: ${explain(asDecision(t))}`);
  for (const l of t.layers) {
    if (l.outcome === 'not-applicable') continue;
    lines.push(...layerLines(l, t.action, l.layer === t.layer));
  }
  return lines;
}
