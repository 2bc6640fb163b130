// Policy variables (Version 2012-10-17 only): `${key}`, `${key, 'default'}` and the escapes `${*}`,
// `${?}`, `${$}`. Substituted text is literal: a `*` from a tag value or an escape is never a wildcard.

import type { Ctx } from './context.js';

/** A pattern after substitution; `literal` flags characters that must not act as wildcards. */
export interface Expanded {
  text: string;
  literal?: Uint8Array;
}

const ESCAPES: Readonly<Record<string, string>> = { '*': '*', '?': '?', $: '$' };
const WITH_DEFAULT = /^(.*?)\s*,\s*'([^']*)'$/s;

/**
 * Substitute variables from the request context. Returns null when a variable names a key that is
 * absent (or multi-valued) and has no default: such a value matches nothing.
 */
export function expand(pattern: string, ctx: Ctx, variables: boolean): Expanded | null {
  if (!variables || !pattern.includes('${')) return { text: pattern };
  let text = '';
  const lit: number[] = [];
  const push = (s: string, literal: boolean): void => {
    text += s;
    for (let k = 0; k < s.length; k++) lit.push(literal ? 1 : 0);
  };
  let i = 0;
  while (i < pattern.length) {
    const start = pattern.indexOf('${', i);
    const end = start < 0 ? -1 : pattern.indexOf('}', start + 2);
    if (start < 0 || end < 0) {
      push(pattern.slice(i), false);
      break;
    }
    push(pattern.slice(i, start), false);
    const inner = pattern.slice(start + 2, end).trim();
    const escaped = ESCAPES[inner];
    if (escaped !== undefined) {
      push(escaped, true);
    } else {
      const m = WITH_DEFAULT.exec(inner);
      const key = (m?.[1] ?? inner).trim();
      const value = key === '' ? undefined : ctx.get(key);
      if (typeof value === 'string') push(value, true);
      else if (m?.[2] !== undefined) push(m[2], true);
      else return null;
    }
    i = end + 1;
  }
  return { text, literal: Uint8Array.from(lit) };
}
