// Condition evaluation with AWS's rules for missing keys, negated operators, IfExists, the set
// operators ForAllValues/ForAnyValue and multi-valued keys. A presented value that cannot be read
// as the operator's type (a non-number for Numeric*, a non-date for Date*…) never counts as a match,
// not even for a negated operator. Written with plain loops: this is the engine's hot path.

import type { Ctx } from './context.js';
import { arnMatches, glob } from './match.js';
import { type OperatorSpec, operatorSpec } from './operators.js';
import type { ConditionClause, ConditionTrace } from './types.js';
import { base64Bytes, cidrContains, parseBool, parseCidr, parseDate, parseNumber } from './values.js';
import { expand } from './variables.js';

function ordered(compare: OperatorSpec['compare'], a: number, b: number): boolean {
  switch (compare) {
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    default:
      return a === b;
  }
}

/** String and ARN operators: policy values may hold variables; an unresolvable one matches nothing. */
function textMatch(
  spec: OperatorSpec,
  values: readonly string[],
  p: string,
  ctx: Ctx,
  variables: boolean,
): boolean {
  const lowerP = spec.compare === 'equalsIgnoreCase' ? p.toLowerCase() : p;
  for (const v of values) {
    let text = v;
    let literal: Uint8Array | undefined;
    if (variables && v.includes('${')) {
      const e = expand(v, ctx, true);
      if (e === null) continue;
      text = e.text;
      literal = e.literal;
    }
    if (spec.family === 'arn') {
      if (arnMatches(text, p, literal)) return true;
    } else if (spec.compare === 'like') {
      if (glob(text, p, false, literal)) return true;
    } else if (spec.compare === 'equalsIgnoreCase') {
      if (text.toLowerCase() === lowerP) return true;
    } else if (text === p) return true;
  }
  return false;
}

function orderedMatch(
  spec: OperatorSpec,
  values: readonly string[],
  n: number,
  read: (s: string) => number | undefined,
): boolean {
  for (const v of values) {
    const e = read(v);
    if (e !== undefined && ordered(spec.compare, n, e)) return true;
  }
  return false;
}

/** Positive comparison of one presented value with the policy values; undefined = unreadable value. */
function test(
  spec: OperatorSpec,
  values: readonly string[],
  p: string,
  ctx: Ctx,
  variables: boolean,
): boolean | undefined {
  switch (spec.family) {
    case 'string':
      return textMatch(spec, values, p, ctx, variables);
    case 'arn':
      return p.startsWith('arn:') ? textMatch(spec, values, p, ctx, variables) : undefined;
    case 'numeric': {
      const n = parseNumber(p);
      return n === undefined ? undefined : orderedMatch(spec, values, n, parseNumber);
    }
    case 'date': {
      const n = parseDate(p);
      return n === undefined ? undefined : orderedMatch(spec, values, n, parseDate);
    }
    case 'bool': {
      const b = parseBool(p);
      if (b === undefined) return undefined;
      for (const v of values) if (parseBool(v) === b) return true;
      return false;
    }
    case 'binary': {
      const b = base64Bytes(p);
      if (b === undefined) return undefined;
      for (const v of values) if (base64Bytes(v) === b) return true;
      return false;
    }
    case 'ip': {
      const addr = parseCidr(p);
      if (addr === undefined || addr.prefix !== addr.bytes.length * 8) return undefined;
      for (const v of values) {
        const net = parseCidr(v);
        if (net !== undefined && cidrContains(net, addr)) return true;
      }
      return false;
    }
    case 'null':
      return undefined;
  }
}

const ABSENT_NOTES = {
  ifExists: 'key absent: IfExists holds',
  all: 'key absent: ForAllValues holds vacuously',
  any: 'key absent: ForAnyValue needs a value',
  negated: 'key absent: a negated operator holds',
  plain: 'key absent',
} as const;

function absentResult(spec: OperatorSpec): [boolean, string] {
  if (spec.ifExists) return [true, ABSENT_NOTES.ifExists];
  if (spec.set === 'all') return [true, ABSENT_NOTES.all];
  if (spec.set === 'any') return [false, ABSENT_NOTES.any];
  if (spec.negated) return [true, ABSENT_NOTES.negated];
  return [false, ABSENT_NOTES.plain];
}

function trace(
  clause: ConditionClause,
  presented: string[] | null,
  matched: boolean,
  note?: string,
): ConditionTrace {
  const t: ConditionTrace = {
    operator: clause.operator,
    key: clause.key,
    expected: clause.values,
    presented,
    matched,
  };
  if (note !== undefined) t.note = note;
  return t;
}

/** Evaluate one clause against the request context. */
export function evaluateCondition(clause: ConditionClause, ctx: Ctx, variables: boolean): ConditionTrace {
  const raw = ctx.get(clause.key);
  const presented: string[] | null =
    raw === undefined ? null : typeof raw === 'string' ? [raw] : Array.isArray(raw) ? [...raw] : null;
  const spec = operatorSpec(clause.operator);
  if (spec === undefined) return trace(clause, presented, false, 'unknown operator');
  const absent = presented === null || presented.length === 0;

  if (spec.family === 'null') {
    // "true" asks for an absent key, "false" for a present one.
    let matched = false;
    for (const v of clause.values) if (parseBool(v) === absent) matched = true;
    return trace(clause, presented, matched);
  }
  if (presented === null || absent) {
    const [matched, note] = absentResult(spec);
    return trace(clause, presented, matched, note);
  }

  // Per presented value: does it "hold"? For a negated operator a value holds when it matches none
  // of the policy values; an unreadable value never holds.
  let holding = 0;
  let unreadable = false;
  for (const p of presented) {
    const r = test(spec, clause.values, p, ctx, variables);
    if (r === undefined) unreadable = true;
    else if (r !== spec.negated) holding++;
  }
  // ForAllValues and negated single-valued operators need every value; the rest need one.
  const every = spec.set === 'all' || (spec.set === null && spec.negated);
  const matched = every ? holding === presented.length : holding > 0;
  return unreadable
    ? trace(clause, presented, matched, `a presented value is not a valid ${spec.family} value`)
    : trace(clause, presented, matched);
}
