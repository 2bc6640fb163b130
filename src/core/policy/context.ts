// Request context lookup. Condition keys (including the tag-key part of aws:PrincipalTag/<k>) are
// case-insensitive: an exact hit is tried first, and the lower-cased index is built only on a miss.

import type { ContextValue, RequestContext } from './types.js';

export class Ctx {
  private readonly context: RequestContext;
  private lower: Map<string, ContextValue> | undefined;

  constructor(context: RequestContext) {
    this.context = context;
  }

  get(key: string): ContextValue | undefined {
    if (Object.hasOwn(this.context, key)) return this.context[key];
    if (this.lower === undefined) {
      this.lower = new Map();
      for (const k of Object.keys(this.context)) {
        const v = this.context[k];
        if (v !== undefined) this.lower.set(k.toLowerCase(), v);
      }
    }
    return this.lower.get(key.toLowerCase());
  }
}
