// What the catalog tests read: src/ as text, the catalogs' golden renderings, and the two checks that
// keep the words in the catalogs (no sentence of a template written out by hand elsewhere, and no
// error constructed with words of its own).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scan } from '../../scripts/check-layers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The error catalogs: the only files that may write an error's words. */
export const QUERY_CATALOG = 'src/core/query/errors.ts';
export const JSON_CATALOG = 'src/core/json/errors.ts';
export const CATALOGS = [QUERY_CATALOG, JSON_CATALOG, 'src/issuer/errors.ts'];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** src/ by path (relative to the repository), as text. */
export const srcFiles: ReadonlyMap<string, string> = new Map(
  sources(join(root, 'src')).map((p) => [relative(root, p), readFileSync(p, 'utf8')]),
);

/** Where `text` occurs in src/, outside `except`. */
export const usedOutside = (text: string, except: readonly string[]): string[] =>
  [...srcFiles].filter(([path, body]) => !except.includes(path) && body.includes(text)).map(([path]) => path);

/** Where `fn('key'` is called in src/ (the key on the next line or not), outside `except`. */
export const calledOutside = (fn: string, key: string, except: readonly string[]): string[] => {
  const call = new RegExp(`\\b${fn}\\(\\s*'${key}'`);
  return [...srcFiles]
    .filter(([path, body]) => !except.includes(path) && call.test(body))
    .map(([path]) => path);
};

export interface GoldenMessage {
  code: string;
  reason?: string;
  args: unknown[];
  message: string;
}

/** A catalog's golden renderings: one per template, with the values it is rendered with. */
export const goldenMessages = (file: string): Record<string, GoldenMessage> =>
  JSON.parse(readFileSync(join(root, 'test/vectors', file), 'utf8')) as Record<string, GoldenMessage>;

type Words = (...args: never[]) => string;

/**
 * The fixed parts of a template's sentence, in order: rendered with its golden values, every string
 * value (alone or in a list) replaced by a marker and every number by one the sentence cannot
 * otherwise contain, then cut at the markers.
 */
export function fixedParts(words: Words, args: readonly unknown[]): string[] {
  const MARK = '\u0001';
  const NUMBER = 7_654_321_987;
  const marked = args.map((a) =>
    typeof a === 'string' ? MARK : typeof a === 'number' ? NUMBER : Array.isArray(a) ? a.map(() => MARK) : a,
  );
  const text = (words as (...a: unknown[]) => string)(...marked).replaceAll(String(NUMBER), MARK);
  return text.split(MARK).filter((part) => part !== '');
}

/** Where the sentence is written out in src/ (its fixed parts in order on one line), outside `except`. */
export function writtenOutside(parts: readonly string[], except: readonly string[]): string[] {
  const literal = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const sentence = new RegExp(parts.map(literal).join('[^\\n]*?'));
  return [...srcFiles]
    .filter(([path, body]) => !except.includes(path) && sentence.test(body))
    .map(([path]) => path);
}

type Templates = Readonly<Record<string, { words: Words }>>;

/** Templates that no src file outside `catalog` calls as `fn('key', …)` (or names as `alias.key`). */
export const unusedTemplates = (
  templates: Templates,
  fn: string,
  catalog: string,
  alias?: string,
): string[] =>
  Object.keys(templates).filter(
    (key) =>
      calledOutside(fn, key, [catalog]).length === 0 &&
      (alias === undefined || usedOutside(`${alias}.${key}`, [catalog]).length === 0),
  );

/**
 * Templates whose sentence has too few fixed words to be recognised, or is written out by hand in
 * src/ outside the catalogs (and the files `alsoWritten` names for a template, with why).
 */
export function handWritten(
  templates: Templates,
  golden: Readonly<Record<string, GoldenMessage>>,
  alsoWritten: Readonly<Record<string, readonly string[]>> = {},
): string[] {
  const found: string[] = [];
  for (const [key, t] of Object.entries(templates)) {
    const parts = fixedParts(t.words, golden[key]?.args ?? []);
    if (Math.max(0, ...parts.map((part) => part.length)) < 12) {
      found.push(`${key}: too few fixed words ${JSON.stringify(parts)}`);
    }
    for (const path of writtenOutside(parts, [...CATALOGS, ...(alsoWritten[key] ?? [])])) {
      found.push(`${key}: ${JSON.stringify(parts)} written by hand in ${path}`);
    }
  }
  return found;
}

export interface FreeText {
  file: string;
  line: number;
  /** The source line where the construction starts. */
  source: string;
}

/** The arguments of the call whose `(` is at `open`, split at top-level commas. */
function argumentsAt(code: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        args.push(code.slice(start, i));
        break;
      }
    } else if (c === ',' && depth === 1) {
      args.push(code.slice(start, i));
      start = i + 1;
    }
  }
  return args.map((a) => a.trim());
}

/** Another error's words passed on as they are (the policy parser's findings). */
const PASSED_ON = /^[\w$]+(\.[\w$]+)*\.message$/;

/**
 * Every call matched by `call` (a pattern ending at its opening parenthesis) in `text` whose argument
 * `index` writes its own words: anything but absent, `undefined`, or another error's `.message`. A
 * literal, a template literal, a constant or a parameter holding words all count: those words
 * belong in the catalog as a template, and the caller calls it.
 */
export function freeTextArguments(file: string, text: string, call: RegExp, index: number): FreeText[] {
  const { code } = scan(text);
  const found: FreeText[] = [];
  for (const m of code.matchAll(new RegExp(call.source, 'g'))) {
    const arg = argumentsAt(code, m.index + m[0].length - 1)[index] ?? '';
    if (arg === '' || arg === 'undefined' || PASSED_ON.test(arg)) continue;
    // A constraint from the catalog (CONSTRAINTS.x(…)) is words the catalog wrote.
    if (/^CONSTRAINTS\.\w+\(/.test(arg) && !/['"`]/.test(arg)) continue;
    const line = code.slice(0, m.index).split('\n').length;
    found.push({ file, line, source: (text.split('\n')[line - 1] ?? '').trim() });
  }
  return found;
}

/** `new AwsError(code, message)`, `new JsonError(code, message)`: the message argument. */
export const constructed = (ctor: string): RegExp => new RegExp(`\\bnew\\s+${ctor}\\s*\\(`);
/** `reader.violation(path, value, constraint)`: the constraint a ValidationError lists. */
export const VIOLATION = /\.violation\s*\(/;

/** Every call in src/, outside the catalogs, whose argument `index` writes its own words. */
export const freeTextInSrc = (call: RegExp, index: number): string[] =>
  [...srcFiles]
    .filter(([path]) => !CATALOGS.includes(path))
    .flatMap(([path, body]) => freeTextArguments(path, body, call, index))
    .map((f) => `${f.file}:${f.line}: ${f.source}`);
