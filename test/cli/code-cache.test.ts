// The executable loads `gatepass run` (dist/bin/run.cjs) with a V8 code cache made at build time.
// V8 accepts a cache for any source of the same length and then runs the code the cache holds, so
// the cache carries the digest of its source and is used only for that very source.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { codeCacheFile } from '../../src/cli/code-cache.js';

const root = new URL('../..', import.meta.url).pathname;

const codeCache = pathToFileURL(join(root, 'src/cli/code-cache.ts')).href;

/** writeCodeCache sets V8 flags: in a process of its own, as the build does. */
function writeCache(file: string, nodeFlags: readonly string[] = []): void {
  execFileSync(process.execPath, [
    ...nodeFlags,
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    `import { writeCodeCache } from ${JSON.stringify(codeCache)}; writeCodeCache(${JSON.stringify(file)});`,
  ]);
}

/**
 * Load `file` in a new process, as the executable does: within one process V8 finds a source it has
 * compiled before in its own compilation cache and never reads the code cache.
 */
function load(file: string): { cache: string; answer: string; dir: string } {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { requireWithCodeCache } from ${JSON.stringify(codeCache)};
       const r = requireWithCodeCache(${JSON.stringify(file)});
       process.stdout.write(JSON.stringify({ cache: r.cache, answer: r.exports.answer(), dir: r.exports.dir() }));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { cache: string; answer: string; dir: string };
}

/** A CommonJS file whose answer says which source ran; both variants have the same length. */
const source = (answer: 'AAAA' | 'BBBB'): string =>
  `'use strict';\nconst path = require('node:path');\nexports.answer = () => ${JSON.stringify(answer)};\nexports.dir = () => path.basename(__dirname);\n`;

interface Scratch {
  file: string;
  /** Load the file in a new process: what became of its cache, and which source answered. */
  loads(cache: string, answer: string): void;
}

/** mod.cjs answering `answer` in a scratch directory, with its code cache unless `cache` is false. */
function withModule(
  answer: 'AAAA' | 'BBBB',
  fn: (s: Scratch) => void,
  cache: { nodeFlags?: readonly string[] } | false = {},
): void {
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-code-cache-'));
  const file = join(dir, 'mod.cjs');
  try {
    writeFileSync(file, source(answer));
    if (cache) writeCache(file, cache.nodeFlags);
    fn({ file, loads: (c, a) => assert.deepEqual(load(file), { cache: c, answer: a, dir: basename(dir) }) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a file with the code cache made for it loads with the cache, as CommonJS (require, exports, __dirname)', () => {
  withModule('AAAA', (s) => s.loads('used', 'AAAA'));
});

test("a cache made from another source of the same length is never handed to V8: the file's own code runs", () => {
  withModule('AAAA', (s) => {
    writeFileSync(s.file, source('BBBB'));
    // V8 alone would accept the old cache (same length) and answer AAAA.
    s.loads('stale', 'BBBB');
  });
});

test("a damaged cache (V8's part corrupted, or cut short) is refused and the file compiles as usual", () => {
  withModule('AAAA', (s) => {
    const good = readFileSync(codeCacheFile(s.file));
    const corrupted = Buffer.from(good);
    corrupted.fill(0x5a, 32 + 8, 32 + 24);
    for (const [bytes, outcome] of [
      [corrupted, 'rejected'],
      [good.subarray(0, 40), 'rejected'],
      [good.subarray(0, 32), 'stale'],
      [Buffer.alloc(0), 'stale'],
    ] as const) {
      writeFileSync(codeCacheFile(s.file), bytes);
      s.loads(outcome, 'AAAA');
    }
  });
});

test('a cache made under other V8 flags is rejected by V8, as one from another Node version is, and the file compiles as usual', () => {
  withModule('AAAA', (s) => s.loads('rejected', 'AAAA'), { nodeFlags: ['--no-opt'] });
});

test('a file without a cache compiles as usual', () => {
  withModule('BBBB', (s) => s.loads('missing', 'BBBB'), false);
});

test("the build's cache of run.cjs is accepted by this Node and run.cjs exports startRun", () => {
  const file = join(root, 'dist/bin/run.cjs');
  const module = pathToFileURL(join(root, 'dist/src/cli/code-cache.js')).href;
  // In a process of its own: loading run.cjs evaluates the agent's modules.
  const out = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { requireWithCodeCache } from ${JSON.stringify(module)};
       const r = requireWithCodeCache(${JSON.stringify(file)});
       process.stdout.write(JSON.stringify({ cache: r.cache, startRun: typeof r.exports.startRun }));`,
    ],
    { encoding: 'utf8' },
  );
  assert.deepEqual(JSON.parse(out), { cache: 'used', startRun: 'function' });
});
