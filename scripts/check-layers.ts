// The layering of src/, checked (docs/design.md "Layout" describes the same table). Run by
// `npm test` before the tests; `node --import tsx scripts/check-layers.ts [ROOT]` checks another tree.
// It fails on
// - an import against the arrows below (each top-level folder of src/ is a layer),
// - I/O or ambient time/randomness in `core` (a module other than PURE_CORE_MODULES, Date.now(),
//   new Date() without an argument, Math.random, timers, process, global fetch, node:crypto's
//   random sources),
// - a cycle between layers, or between the folders of one layer at any depth (the files directly in
//   a folder belong to it, so a folder and its own subfolders count: cloud <-> cloud/sts is one),
// - a layer that is not a composition root importing a store engine instead of the store interface.
// It reads files as text (comments and string contents blanked), so it needs no compiler API.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What each layer may import besides itself. `''` is src/index.ts, the library's entry. */
export const ARROWS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  runtime: ['core'],
  http: ['core'],
  store: ['core'],
  issuer: ['core', 'http', 'store'],
  cloud: ['core', 'http', 'store'],
  agent: ['core', 'http'],
  server: ['core', 'runtime', 'http', 'store', 'issuer', 'cloud', 'agent'],
  cli: ['core', 'runtime', 'http', 'store', 'issuer', 'cloud', 'agent', 'server'],
  '': ['core', 'runtime', 'http', 'store', 'issuer', 'cloud', 'agent', 'server', 'cli'],
};

/** Layers that assemble the process and so may open a store engine. */
const COMPOSITION_ROOTS = new Set(['server', 'cli', '']);
/** The store's engines: everyone else goes through store/types.ts and the record modules. */
const STORE_ENGINES = [/^store\/(sqlite|postgres|open)\.ts$/, /^store\/sql\//];

/** The only modules outside src/ that `core` may import: computation, no I/O. */
const PURE_CORE_MODULES = new Set(['node:crypto', 'node:buffer']);
/** node:crypto's random sources and key generators: core receives a `Random` instead. */
const CORE_BANNED_CRYPTO = /\b(random\w*|getRandomValues|generateKey\w*|generatePrime\w*)\b/;
const CORE_AMBIENT: readonly [RegExp, string][] = [
  [/\bDate\.now\s*\(/, 'Date.now() (take a Clock)'],
  [/\bnew\s+Date\s*\(\s*\)/, 'new Date() without an argument (take a Clock)'],
  [/(?<!new\s*)\bDate\s*\(\s*\)/, 'Date() (take a Clock)'],
  [/\bperformance\s*\.\s*now\s*\(/, 'performance.now() (take a Clock)'],
  [/\bMath\s*\.\s*random\s*\(/, 'Math.random() (take a Random)'],
  [/\bcrypto\s*\.\s*(getRandomValues|randomUUID|subtle)\b/, 'global crypto (take a Random)'],
  [/(?<![.\w$])(setTimeout|setInterval|setImmediate)\s*\(/, 'a timer'],
  [/(?<![.\w$])process\s*\./, 'process (ambient state)'],
  [/(?<![.\w$])fetch\s*\(/, 'global fetch (take a Fetch)'],
  [/(?<![.\w$])require\s*\(/, 'require()'],
];

export interface Violation {
  file: string;
  rule: 'arrow' | 'core-purity' | 'cycle' | 'store-engine' | 'unresolved';
  message: string;
}

interface ImportRef {
  specifier: string;
  /** The named bindings when the statement lists them, for node:crypto. */
  names: string;
}

/**
 * Source text with comments removed and every string, template and regex literal's content
 * blanked, plus the string literals in order (imports are read from those).
 */
export function scan(text: string): { code: string; strings: { at: number; value: string }[] } {
  let code = '';
  const strings: { at: number; value: string }[] = [];
  let i = 0;
  let lastSignificant = '';
  while (i < text.length) {
    const c = text[i] ?? '';
    const next = text[i + 1] ?? '';
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      code += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      strings.push({ at: code.length, value: text.slice(i + 1, j) });
      code += `${c}${' '.repeat(Math.max(0, j - i - 1))}${c}`;
      i = j + 1;
      lastSignificant = c;
      continue;
    }
    if (c === '/' && (lastSignificant === '' || '(,=:[!&|?{};+-*%<>~^'.includes(lastSignificant))) {
      let j = i + 1;
      let inClass = false;
      while (j < text.length && text[j] !== '\n') {
        const d = text[j];
        if (d === '\\') j++;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        j++;
      }
      code += `/${' '.repeat(Math.max(0, j - i - 1))}/`;
      i = j + 1;
      lastSignificant = '/';
      continue;
    }
    code += c;
    if (!/\s/.test(c)) lastSignificant = c;
    i++;
  }
  return { code, strings };
}

/** Every module a file imports or re-exports, statically or through import(). */
export function importsOf(text: string): ImportRef[] {
  const { code, strings } = scan(text);
  const at = new Map(strings.map((s) => [s.at, s.value]));
  const refs: ImportRef[] = [];
  const patterns = [
    /\b(?:import|export)\s+(type\s+)?([^'"`;]*?)\s*from\s*(?=['"])/g,
    /\bimport\s*(?=['"])/g,
    /\bimport\s*\(\s*(?=['"])/g,
  ];
  for (const pattern of patterns) {
    for (const m of code.matchAll(pattern)) {
      const value = at.get(m.index + m[0].length);
      if (value !== undefined) refs.push({ specifier: value, names: m[2] ?? '' });
    }
  }
  return refs;
}

const BUILTINS = new Set([
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises',
  'http', 'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'timers',
  'timers/promises', 'tls', 'url', 'util', 'v8', 'vm', 'worker_threads', 'zlib',
]); // biome-ignore format: a list

const layerOf = (rel: string): string => (rel.includes('/') ? (rel.split('/')[0] ?? '') : '');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sourceFiles(p, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveRelative(from: string, specifier: string): string | undefined {
  const target = resolve(dirname(from), specifier);
  for (const candidate of [
    target.replace(/\.js$/, '.ts'),
    target,
    `${target}.ts`,
    join(target, 'index.ts'),
  ]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Strongly connected groups of two or more nodes (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w !== undefined) {
          onStack.delete(w);
          group.push(w);
        }
      } while (w !== undefined && w !== v);
      if (group.length > 1) found.push(group.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** Every violation in ROOT/src, in file order. */
export function checkLayers(root: string): Violation[] {
  const src = join(root, 'src');
  const violations: Violation[] = [];
  const layerGraph = new Map<string, Set<string>>();
  const folderGraph = new Map<string, Set<string>>();
  const example = new Map<string, string>();
  const edge = (graph: Map<string, Set<string>>, a: string, b: string, where: string): void => {
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)?.add(b);
    if (!example.has(`${a}>${b}`)) example.set(`${a}>${b}`, where);
  };
  for (const file of sourceFiles(src)) {
    const rel = relative(src, file).split(sep).join('/');
    const layer = layerOf(rel);
    const shown = `src/${rel}`;
    const text = readFileSync(file, 'utf8');
    for (const { specifier, names } of importsOf(text)) {
      if (!specifier.startsWith('.')) {
        if (layer !== 'core') continue;
        const name = specifier.startsWith('node:')
          ? specifier
          : BUILTINS.has(specifier)
            ? `node:${specifier}`
            : specifier;
        if (!PURE_CORE_MODULES.has(name)) {
          violations.push({
            file: shown,
            rule: 'core-purity',
            message: `core imports '${specifier}': core does no I/O`,
          });
        } else if (name === 'node:crypto' && CORE_BANNED_CRYPTO.test(names)) {
          violations.push({
            file: shown,
            rule: 'core-purity',
            message: `core imports a random source from node:crypto (${names.trim()}): take a Random`,
          });
        }
        continue;
      }
      const target = resolveRelative(file, specifier);
      if (target === undefined || !target.startsWith(src + sep)) {
        violations.push({
          file: shown,
          rule: 'unresolved',
          message: `'${specifier}' is not a module in src/`,
        });
        continue;
      }
      const targetRel = relative(src, target).split(sep).join('/');
      const targetLayer = layerOf(targetRel);
      const where = `${shown} imports '${specifier}'`;
      if (targetLayer !== layer) {
        edge(layerGraph, layer || 'index.ts', targetLayer || 'index.ts', where);
        const allowed = ARROWS[layer];
        if (allowed === undefined) {
          violations.push({
            file: shown,
            rule: 'arrow',
            message: `src/${layer}/ is not a layer in the table`,
          });
        } else if (!allowed.includes(targetLayer)) {
          violations.push({
            file: shown,
            rule: 'arrow',
            message: `${layer || 'index.ts'} may not import ${targetLayer || 'index.ts'} ('${specifier}'): ${layer || 'index.ts'} may import ${allowed.join(', ') || 'nothing'}`,
          });
        }
        if (!COMPOSITION_ROOTS.has(layer) && STORE_ENGINES.some((re) => re.test(targetRel))) {
          violations.push({
            file: shown,
            rule: 'store-engine',
            message: `${layer} imports the store engine '${specifier}': take a Store (src/store/types.ts)`,
          });
        }
      }
      // Within a layer only: a cycle through folders of two layers is a cycle between layers.
      if (targetLayer === layer) {
        const a = dirname(rel);
        const b = dirname(targetRel);
        if (a !== b) edge(folderGraph, a, b, where);
      }
    }
    if (layer === 'core') {
      const { code } = scan(text);
      for (const [pattern, what] of CORE_AMBIENT) {
        const m = pattern.exec(code);
        if (m) {
          const line = code.slice(0, m.index).split('\n').length;
          violations.push({ file: `${shown}:${line}`, rule: 'core-purity', message: `core uses ${what}` });
        }
      }
    }
  }
  for (const [graph, what] of [
    [layerGraph, 'layers'],
    [folderGraph, 'folders'],
  ] as const) {
    for (const group of cycles(graph)) {
      const edges = group.flatMap((a) =>
        group.filter((b) => graph.get(a)?.has(b)).map((b) => `    ${a} -> ${b}: ${example.get(`${a}>${b}`)}`),
      );
      violations.push({
        file: group.join(', '),
        rule: 'cycle',
        message: `a cycle between ${what}: ${group.join(' <-> ')}\n${edges.join('\n')}`,
      });
    }
  }
  return violations;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const found = checkLayers(root);
  for (const v of found) process.stderr.write(`check-layers: ${v.rule}: ${v.file}: ${v.message}\n`);
  if (found.length > 0) {
    process.stderr.write(`check-layers: ${found.length} violation(s); the arrows are in docs/design.md\n`);
    process.exit(1);
  }
}
