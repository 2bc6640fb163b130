// A decision trace sent back by a client (the UI posts a reachability edge's decision to have it
// explained): checked field by field, so a malformed one is a named bad field rather than a crash
// in the story or the hints. Returns the first problem's path, or the trace.

import type { StoredTrace } from '../../core/policy/stored-trace.js';
import type { Layer, LayerTrace, StatementTrace } from '../../core/policy/types.js';

const LAYERS: readonly Layer[] = ['rcp', 'scp', 'resource', 'identity', 'boundary', 'session'];
const OUTCOMES = ['allow', 'deny', 'implicit', 'not-applicable'] as const;
const EFFECTS = ['Allow', 'ExplicitDeny', 'ImplicitDeny'] as const;
const REASONS = ['action', 'resource', 'principal', 'condition'] as const;
const MAX_TEXT = 4096;
const MAX_ITEMS = 500;

export class TraceInputError extends Error {
  constructor(readonly field: string) {
    super(`${field} is not what a decision trace holds`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const oneOf = <T extends string>(v: unknown, of: readonly T[]): v is T =>
  typeof v === 'string' && (of as readonly string[]).includes(v);

function list(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v) || v.length > MAX_ITEMS) throw new TraceInputError(at);
  return v;
}

function texts(v: unknown, at: string): string[] {
  const l = list(v, at);
  if (!l.every(isText)) throw new TraceInputError(at);
  return l as string[];
}

function statement(v: unknown, at: string): StatementTrace {
  if (!isObj(v)) throw new TraceInputError(at);
  const { policy, index, sid, effect, matched, reason } = v;
  if (!isText(policy)) throw new TraceInputError(`${at}.policy`);
  if (!Number.isInteger(index) || (index as number) < 0) throw new TraceInputError(`${at}.index`);
  if (sid !== undefined && !isText(sid)) throw new TraceInputError(`${at}.sid`);
  if (effect !== 'Allow' && effect !== 'Deny') throw new TraceInputError(`${at}.effect`);
  if (typeof matched !== 'boolean') throw new TraceInputError(`${at}.matched`);
  if (reason !== undefined && !oneOf(reason, REASONS)) throw new TraceInputError(`${at}.reason`);
  const conditions = list(v.conditions, `${at}.conditions`).map((c, i) => {
    const p = `${at}.conditions[${i}]`;
    if (!isObj(c) || !isText(c.operator) || !isText(c.key) || typeof c.matched !== 'boolean')
      throw new TraceInputError(p);
    if (c.note !== undefined && !isText(c.note)) throw new TraceInputError(`${p}.note`);
    return {
      operator: c.operator,
      key: c.key,
      expected: texts(c.expected, `${p}.expected`),
      presented: c.presented === null ? null : texts(c.presented, `${p}.presented`),
      matched: c.matched,
      ...(c.note !== undefined ? { note: c.note } : {}),
    };
  });
  return {
    policy,
    index: index as number,
    ...(sid !== undefined ? { sid } : {}),
    effect,
    matched,
    ...(reason !== undefined ? { reason } : {}),
    conditions,
  };
}

function layer(v: unknown, at: string): LayerTrace {
  if (!isObj(v) || !oneOf(v.layer, LAYERS)) throw new TraceInputError(`${at}.layer`);
  if (!oneOf(v.outcome, OUTCOMES)) throw new TraceInputError(`${at}.outcome`);
  if (v.note !== undefined && !isText(v.note)) throw new TraceInputError(`${at}.note`);
  return {
    layer: v.layer,
    outcome: v.outcome,
    statements: list(v.statements, `${at}.statements`).map((s, i) => statement(s, `${at}.statements[${i}]`)),
    ...(v.note !== undefined ? { note: v.note } : {}),
  };
}

/** A fresh, fully checked copy of the trace under `at` (the request field's name). */
export function parseTrace(v: unknown, at = 'trace'): StoredTrace {
  if (!isObj(v)) throw new TraceInputError(at);
  if (!oneOf(v.effect, EFFECTS)) throw new TraceInputError(`${at}.effect`);
  if (v.layer !== null && !oneOf(v.layer, LAYERS)) throw new TraceInputError(`${at}.layer`);
  for (const k of ['reason', 'action', 'resource'] as const)
    if (!isText(v[k])) throw new TraceInputError(`${at}.${k}`);
  const p = v.principal;
  if (!isObj(p) || !isText(p.type) || (p.id !== undefined && !isText(p.id)))
    throw new TraceInputError(`${at}.principal`);
  return {
    effect: v.effect,
    layer: v.layer as Layer | null,
    reason: v.reason as string,
    action: v.action as string,
    resource: v.resource as string,
    principal: p.id !== undefined ? { type: p.type, id: p.id } : { type: p.type },
    layers: list(v.layers, `${at}.layers`).map((l, i) => layer(l, `${at}.layers[${i}]`)),
  };
}
