// AWS Query parameters: the form body (or GET query string) as a flat map, read through typed
// accessors that collect AWS-worded constraint violations. `done()` throws them as one
// ValidationError ("N validation errors detected: …; …"), so a client learns every problem at once.
import { awsError, CONSTRAINTS, violation } from './errors.js';

export type FormMap = ReadonlyMap<string, string>;

/** One name or value of a form, decoded as URLSearchParams does; undefined when it needs its fallback. */
function decodeComponent(raw: string): string | undefined {
  const text = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!text.includes('%')) return text;
  try {
    // Equal to URLSearchParams' decoding for well-formed UTF-8; anything else throws and falls back.
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The pairs of a form. Split and decoded directly (URLSearchParams costs microseconds per request);
 * text with malformed escapes goes through URLSearchParams itself, which replaces what it cannot decode.
 */
function formPairs(text: string): Iterable<[string, string]> {
  const pairs: [string, string][] = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    if (key === undefined || value === undefined) return new URLSearchParams(text);
    pairs.push([key, value]);
  }
  return pairs;
}

/** Parse `application/x-www-form-urlencoded` text; a repeated key is an error, not a silent overwrite. */
export function parseForm(text: string, into: Map<string, string> = new Map()): Map<string, string> {
  for (const [key, value] of formPairs(text)) {
    if (into.has(key)) {
      throw awsError('parameterRepeated', clip(key));
    }
    into.set(key, value);
  }
  return into;
}

/** Length in code points; a surrogate pair counts once (a 20,000-character token is not spread into an array). */
function codePoints(s: string): number {
  let pairs = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        pairs++;
        i++;
      }
    }
  }
  return s.length - pairs;
}

const clip = (s: string, n = 256): string => (s.length > n ? `${s.slice(0, n)}…` : s);

/** Member names in messages are the camelCase shape names AWS uses ('RoleSessionName' → 'roleSessionName'). */
const member = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  /** Anchored pattern the whole value must match, and its source as AWS prints it. */
  pattern?: { re: RegExp; text: string };
  /** Never echo the value (tokens, policies with secrets): the message says "Value at 'x'". */
  sensitive?: boolean;
}

export interface IntRule {
  required?: boolean;
  min?: number;
  max?: number;
}

export interface ListRule extends StringRule {
  maxItems?: number;
}

/** Typed, validating reader over one request's parameters. */
export class FormReader {
  readonly #form: FormMap;
  readonly #errors: string[] = [];

  constructor(form: FormMap) {
    this.#form = form;
  }

  /** The raw value of a parameter, unvalidated. */
  raw(name: string): string | undefined {
    return this.#form.get(name);
  }

  /** Record a violation for `path` (AWS wording); used by accessors and by action-specific checks. */
  violation(path: string, value: string | null | undefined, constraint: string, sensitive = false): void {
    // null: the member is absent; undefined or sensitive: present but not shown.
    const shown = value === null ? null : value === undefined || sensitive ? undefined : clip(value);
    this.#errors.push(violation(shown, path, constraint));
  }

  str(name: string, rule: StringRule & { required: true }): string;
  str(name: string, rule?: StringRule): string | undefined;
  str(name: string, rule: StringRule = {}): string | undefined {
    return this.#checkString(this.#form.get(name), member(name), rule);
  }

  int(name: string, rule: IntRule & { required: true }): number;
  int(name: string, rule?: IntRule): number | undefined;
  int(name: string, rule: IntRule = {}): number | undefined {
    const text = this.#form.get(name);
    const path = member(name);
    if (text === undefined) {
      if (rule.required) this.violation(path, null, CONSTRAINTS.notNull());
      return undefined;
    }
    if (!/^-?\d{1,15}$/.test(text)) {
      this.violation(path, text, CONSTRAINTS.integer());
      return undefined;
    }
    const n = Number(text);
    if (rule.min !== undefined && n < rule.min) {
      this.violation(path, text, CONSTRAINTS.valueAtLeast(rule.min));
    }
    if (rule.max !== undefined && n > rule.max) {
      this.violation(path, text, CONSTRAINTS.valueAtMost(rule.max));
    }
    return n;
  }

  bool(name: string): boolean | undefined {
    const text = this.#form.get(name);
    if (text === undefined) return undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    this.violation(member(name), text, CONSTRAINTS.boolean());
    return undefined;
  }

  /** `Name.member.1`, `Name.member.2`, … (contiguous from 1); `Name=` alone is an empty list. */
  list(name: string, rule: ListRule = {}): string[] | undefined {
    const indexes = this.#memberIndexes(`${name}.member.`, false);
    if (indexes === undefined) return undefined;
    const path = member(name);
    const out: string[] = [];
    for (const n of indexes) {
      const v = this.#checkString(this.#form.get(`${name}.member.${n}`), `${path}.${n}.member`, rule);
      if (v !== undefined) out.push(v);
    }
    if (rule.maxItems !== undefined && indexes.length > rule.maxItems) {
      this.violation(path, `[${out.join(', ')}]`, CONSTRAINTS.lengthAtMost(rule.maxItems));
    }
    return out;
  }

  /**
   * `Name.member.N.Field` structures, e.g. Tags.member.1.Key / Tags.member.1.Value or
   * PolicyArns.member.1.arn. Each field is checked with its rule; fields not listed are ignored.
   */
  structList<F extends string>(
    name: string,
    fields: Readonly<Record<F, StringRule>>,
    opts: { maxItems?: number } = {},
  ): Array<Partial<Record<F, string>>> | undefined {
    const indexes = this.#memberIndexes(`${name}.member.`, true);
    if (indexes === undefined) return undefined;
    const path = member(name);
    const out: Array<Partial<Record<F, string>>> = [];
    for (const n of indexes) {
      const item: Partial<Record<F, string>> = {};
      for (const field of Object.keys(fields) as F[]) {
        const v = this.#checkString(
          this.#form.get(`${name}.member.${n}.${field}`),
          `${path}.${n}.member.${member(field)}`,
          fields[field],
        );
        if (v !== undefined) item[field] = v;
      }
      out.push(item);
    }
    if (opts.maxItems !== undefined && indexes.length > opts.maxItems) {
      this.violation(path, undefined, CONSTRAINTS.lengthAtMost(opts.maxItems));
    }
    return out;
  }

  /** Throw every collected violation as one ValidationError. */
  done(): void {
    if (this.#errors.length === 0) return;
    throw awsError('validationErrors', this.#errors);
  }

  #checkString(value: string | undefined, path: string, rule: StringRule): string | undefined {
    if (value === undefined) {
      if (rule.required) this.violation(path, null, CONSTRAINTS.notNull());
      return undefined;
    }
    const sensitive = rule.sensitive ?? false;
    // Lengths count Unicode code points, as AWS's Java validators do. n UTF-16 units hold between
    // n/2 and n code points: they are counted only when those bounds leave the rule open (a web
    // identity token is ~1,000 units, and every call checked it unit by unit).
    const n = value.length;
    if ((rule.max !== undefined && n > rule.max) || (rule.min !== undefined && Math.ceil(n / 2) < rule.min)) {
      const length = codePoints(value);
      if (rule.min !== undefined && length < rule.min) {
        this.violation(path, value, CONSTRAINTS.lengthAtLeast(rule.min), sensitive);
      }
      if (rule.max !== undefined && length > rule.max) {
        this.violation(path, value, CONSTRAINTS.lengthAtMost(rule.max), sensitive);
      }
    }
    if (rule.pattern && !rule.pattern.re.test(value)) {
      this.violation(path, value, CONSTRAINTS.pattern(rule.pattern.text), sensitive);
    }
    return value;
  }

  /** Sorted member numbers under `prefix`, checked to run 1..n; undefined when the list is absent. */
  #memberIndexes(prefix: string, structured: boolean): number[] | undefined {
    const seen = new Set<number>();
    for (const key of this.#form.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const dot = rest.indexOf('.');
      const digits = structured ? (dot < 0 ? '' : rest.slice(0, dot)) : dot < 0 ? rest : '';
      if (!/^[1-9]\d{0,5}$/.test(digits)) {
        throw awsError('invalidListMember', clip(key, 128));
      }
      seen.add(Number(digits));
    }
    const listName = prefix.slice(0, -'.member.'.length);
    if (seen.size === 0) return this.#form.has(listName) ? [] : undefined;
    const indexes = [...seen].sort((a, b) => a - b);
    for (let i = 0; i < indexes.length; i++) {
      if (indexes[i] !== i + 1) {
        throw awsError('listNotContiguous', listName, i + 1);
      }
    }
    return indexes;
  }
}

/** Common AWS patterns, with the source text AWS prints in messages. */
export const PATTERNS = {
  roleSessionName: { re: /^[\w+=,.@-]*$/, text: '[\\w+=,.@-]*' },
  /** IAM/STS policy text: tab, LF, CR and U+0020–U+00FF. */
  policyText: { re: /^[\t\n\r\u0020-\u00FF]+$/, text: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' },
  arnChars: {
    re: /^[\t\n\r\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u,
    text: '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+',
  },
  tagKey: { re: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, text: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+' },
  tagValue: { re: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, text: '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*' },
} as const;
