// Reading a YAML (or JSON) file into typed values with every problem at once, each with its field
// path and line: the parse with positions, and a reader that checks shapes and records problems
// instead of throwing. Knows nothing of what the file describes.
import { type Document, isMap, isScalar, LineCounter, parseDocument } from 'yaml';

export interface Problem {
  path: string;
  line?: number;
  message: string;
}

/** Keys and list indexes from the document's root to a value. */
export type Path = (string | number)[];

const show = (path: Path): string =>
  path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part),
    '',
  );

/** A parsed document: its plain value, whether its root is a mapping, and where each path is. */
export interface YamlSource {
  value(): unknown;
  isMapping: boolean;
  /** The line of a path's key, or of the nearest enclosing node that exists. */
  lineOf(path: Path): number | undefined;
}

export type YamlParse = { ok: true; source: YamlSource } | { ok: false; problems: Problem[] };

/** Parse YAML (JSON is YAML) with duplicate keys refused and merge keys (`<<`) honoured. */
export function parseYaml(text: string): YamlParse {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '(document)',
        line: e.linePos?.[0].line ?? 0,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  }
  return {
    ok: true,
    source: {
      value: () => doc.toJS(),
      isMapping: isMap(doc.contents),
      lineOf: (path) => lineOf(doc, lineCounter, path),
    },
  };
}

// The line of a path's key (not of its value: a block value starts on the line after its key),
// or of the nearest enclosing node that exists.
function lineOf(doc: Document, lineCounter: LineCounter, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : undefined;
    const key = n > 0 ? path[n - 1] : undefined;
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
    const node = (isScalar(pair?.key) ? pair.key : doc.getIn(path.slice(0, n), true)) as
      | { range?: [number, number, number] }
      | undefined;
    if (node && typeof node === 'object' && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** A reader over a parsed value that records problems (with their lines) instead of throwing. */
export class Reader {
  readonly problems: Problem[] = [];
  constructor(private readonly lineOf: (path: Path) => number | undefined) {}

  problem(path: Path, message: string): void {
    const line = this.lineOf(path);
    this.problems.push(
      line !== undefined ? { path: show(path), line, message } : { path: show(path), message },
    );
  }

  object(value: unknown, path: Path, keys: readonly string[]): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.problem(path, 'must be a mapping');
      return undefined;
    }
    for (const key of Object.keys(value))
      if (!keys.includes(key))
        this.problem([...path, key], `unknown key (expected one of ${keys.join(', ')})`);
    return value as Record<string, unknown>;
  }

  string(
    value: unknown,
    path: Path,
    rule: { required?: boolean; re?: RegExp; hint?: string; max?: number } = {},
  ): string | undefined {
    if (value === undefined || value === null) {
      if (rule.required) this.problem(path, 'is required');
      return undefined;
    }
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text !== 'string') {
      this.problem(path, 'must be a string');
      return undefined;
    }
    if (rule.max !== undefined && text.length > rule.max)
      this.problem(path, `must be at most ${rule.max} characters`);
    else if (rule.re && !rule.re.test(text)) this.problem(path, `must match ${rule.hint ?? rule.re.source}`);
    return text;
  }

  list<T>(value: unknown, path: Path, item: (v: unknown, p: Path) => T | undefined): T[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.problem(path, 'must be a list');
      return [];
    }
    return value.flatMap((v, i) => {
      const r = item(v, [...path, i]);
      return r === undefined ? [] : [r];
    });
  }

  /** A mapping of any keys, each value read by `item` (entries it rejects are left out). */
  mapOf<T>(value: unknown, path: Path, item: (v: unknown, p: Path) => T | undefined): Record<string, T> {
    const obj = this.object(value, path, Object.keys((value as object | null) ?? {}));
    const out: Record<string, T> = {};
    for (const [k, v] of Object.entries(obj ?? {})) {
      const r = item(v, [...path, k]);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }

  stringMap(value: unknown, path: Path): Record<string, string> {
    return this.mapOf(value, path, (v, p) => this.string(v, p, { required: true }));
  }

  int(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(path, `must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return value;
  }

  bool(value: unknown, path: Path): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.problem(path, 'must be true or false');
      return undefined;
    }
    return value;
  }
}
