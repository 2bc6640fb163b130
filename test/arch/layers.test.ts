// The layering check (scripts/check-layers.ts) that `npm test` runs: it passes on this tree and fails,
// naming the file and the rule, on each kind of deliberately wrong tree built in a temporary folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkLayers, importsOf, scan, type Violation } from '../../scripts/check-layers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const temps: string[] = [];
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A tree of a few files under src/ (path → text), written to a fresh temporary folder. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-layers-'));
  temps.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
    writeFileSync(join(dir, 'src', path), text);
  }
  return dir;
}

/** A correct little tree that the wrong ones below change by one file. */
const GOOD: Record<string, string> = {
  'core/deps.ts': 'export interface Clock { now(): number }\n',
  'core/arn.ts': "import { createHash } from 'node:crypto';\nexport const h = createHash;\n",
  'store/types.ts': 'export interface Store { close(): Promise<void> }\n',
  'store/sqlite.ts':
    "import type { Store } from './types.js';\nexport const open = (): Store | undefined => undefined;\n",
  'cloud/sts.ts':
    "import type { Clock } from '../core/deps.js';\nimport type { Store } from '../store/types.js';\nexport type X = [Clock, Store];\n",
  'server/app.ts':
    "import { open } from '../store/sqlite.js';\nimport type { X } from '../cloud/sts.js';\nexport const app = (x?: X) => [open, x];\n",
};

const rules = (v: Violation[]): string[] => v.map((x) => `${x.rule} ${x.file}`);

test('this tree follows its layering: no violation', () => {
  assert.deepEqual(checkLayers(root), []);
});

test('a correct little tree passes', () => {
  assert.deepEqual(checkLayers(tree(GOOD)), []);
});

test('core importing a higher layer fails as an arrow violation (the deliberately wrong import)', () => {
  const dir = tree({
    ...GOOD,
    'core/arn.ts': "import { app } from '../server/app.js';\nexport const a = app;\n",
  });
  const found = checkLayers(dir);
  assert.ok(rules(found).includes('arrow src/core/arn.ts'), rules(found).join('\n'));
  assert.match(found.find((v) => v.rule === 'arrow')?.message ?? '', /core may not import server/);
});

test('cloud importing a store engine fails; the store interface and records are fine', () => {
  const dir = tree({
    ...GOOD,
    'cloud/sts.ts': "import { open } from '../store/sqlite.js';\nexport const o = open;\n",
  });
  assert.deepEqual(rules(checkLayers(dir)), ['store-engine src/cloud/sts.ts']);
});

test('core doing I/O fails: node:fs, node:net and node:http imports', () => {
  for (const mod of ['node:fs', 'fs/promises', 'node:net', 'node:http']) {
    const dir = tree({ ...GOOD, 'core/io.ts': `import { x } from '${mod}';\nexport const y = x;\n` });
    assert.deepEqual(rules(checkLayers(dir)), ['core-purity src/core/io.ts'], mod);
  }
});

test('core reading the clock or a random source fails, with the line', () => {
  const cases = [
    'export const t = () => Date.now();',
    'export const t = () => new Date();',
    'export const r = () => Math.random();',
    'export const w = () => setTimeout(() => {}, 1);',
    'export const e = () => process.env.HOME;',
  ];
  for (const line of cases) {
    const dir = tree({ ...GOOD, 'core/bad.ts': `// fine\n${line}\n` });
    assert.deepEqual(rules(checkLayers(dir)), ['core-purity src/core/bad.ts:2'], line);
  }
  const random = tree({
    ...GOOD,
    'core/bad.ts': "import { randomBytes } from 'node:crypto';\nexport const r = randomBytes;\n",
  });
  assert.deepEqual(rules(checkLayers(random)), ['core-purity src/core/bad.ts']);
});

test('the same words in a comment, a string or a dated new Date(ms) are not violations', () => {
  const dir = tree({
    ...GOOD,
    'core/fine.ts': [
      '// Date.now() is never called here; neither is Math.random()',
      "export const s = 'process.env and new Date() in a string';",
      'export const d = (ms: number) => new Date(ms).toISOString();',
      'export const re = /Date.now\\(/;',
      '',
    ].join('\n'),
  });
  assert.deepEqual(checkLayers(dir), []);
});

test('a cycle between layers fails, and so does one between folders inside core', () => {
  const layers = tree({
    ...GOOD,
    'cli/main.ts': "import { d } from '../demo/run.js';\nexport const m = d;\n",
    'demo/run.ts': "import { m } from '../cli/main.js';\nexport const d = () => m;\n",
  });
  const found = checkLayers(layers).filter((v) => v.rule === 'cycle');
  assert.equal(found.length, 1);
  assert.match(found[0]?.message ?? '', /cli <-> demo/);
  const core = tree({
    ...GOOD,
    'core/a/one.ts': "import { two } from '../b/two.js';\nexport const one = two;\n",
    'core/b/two.ts':
      "import type { one } from '../a/one.js';\nexport const two = 2;\nexport type T = typeof one;\n",
  });
  assert.deepEqual(rules(checkLayers(core)), ['cycle core/a, core/b']);
});

test('a folder and its own subfolder importing each other fail as a folder cycle, naming the imports', () => {
  const dir = tree({
    ...GOOD,
    'cloud/assemble.ts': "import { actions } from './sts/actions.js';\nexport const a = actions;\n",
    'cloud/caller.ts': 'export interface Caller { arn: string }\n',
    'cloud/sts/actions.ts':
      "import type { Caller } from '../caller.js';\nexport const actions = (c?: Caller) => [c];\n",
  });
  const found = checkLayers(dir);
  assert.deepEqual(rules(found), ['cycle cloud, cloud/sts']);
  const message = found[0]?.message ?? '';
  assert.match(message, /a cycle between folders: cloud <-> cloud\/sts/);
  assert.ok(message.includes("cloud/sts -> cloud: src/cloud/sts/actions.ts imports '../caller.js'"), message);
  assert.ok(
    message.includes("cloud -> cloud/sts: src/cloud/assemble.ts imports './sts/actions.js'"),
    message,
  );
});

test('sibling folders deeper in a layer fail on a cycle; imports that only go down pass', () => {
  const siblings = tree({
    ...GOOD,
    'cloud/authz/authorizer.ts': "import { scps } from '../org/levels.js';\nexport const authorize = scps;\n",
    'cloud/org/levels.ts': "export const scps = 1;\nexport { authorize } from '../authz/authorizer.js';\n",
  });
  assert.deepEqual(rules(checkLayers(siblings)), ['cycle cloud/authz, cloud/org']);
  const down = tree({
    ...GOOD,
    'cloud/assemble.ts': "import { actions } from './sts/actions.js';\nexport const a = actions;\n",
    'cloud/caller/caller.ts': 'export interface Caller { arn: string }\n',
    'cloud/sts/actions.ts':
      "import type { Caller } from '../caller/caller.js';\nexport const actions = (c?: Caller) => [c];\n",
  });
  assert.deepEqual(checkLayers(down), []);
});

test('the script exits 1 and names the wrong import; 0 on a correct tree', () => {
  const run = (dir: string) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/check-layers.ts'), dir], {
      encoding: 'utf8',
      cwd: root,
    });
  const bad = run(
    tree({ ...GOOD, 'core/arn.ts': "import { app } from '../server/app.js';\nexport const a = app;\n" }),
  );
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /check-layers: arrow: src\/core\/arn\.ts: core may not import server/);
  const good = run(tree(GOOD));
  assert.equal(good.status, 0, good.stderr);
});

test('imports are read from every form: static, type-only, re-export, side effect, dynamic', () => {
  const text = [
    "import a from './a.js';",
    "import type { B } from './b.js';",
    "export { c } from './c.js';",
    "import './d.js';",
    "const e = await import('./e.js');",
    'import {\n  f,\n  type G,\n} from "./f.js";',
    "// import { z } from './commented.js';",
  ].join('\n');
  assert.deepEqual(
    importsOf(text)
      .map((r) => r.specifier)
      .sort(),
    ['./a.js', './b.js', './c.js', './d.js', './e.js', './f.js'],
  );
  assert.equal(scan("x = '//not a comment'; // gone").code.includes('gone'), false);
});
