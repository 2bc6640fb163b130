// A CommonJS file compiled with a V8 code cache made for it at build time (scripts/build-cli.mjs):
// `gatepass run` starts every infrastructure run, and without a cache V8 parses and compiles each
// function of the agent the first time the run calls it: the cache takes ~28 M instructions (4%) off a
// run (bench/agent/README.md).
// V8 accepts a cache for any source of the same length (it checks the length, its own version and
// its flags, not the text), and would then run the functions the cache holds instead of the file's.
// So a cache file starts with the SHA-256 of the source it was made from, and is handed to V8 only
// when the file on disk still has that digest. The cache lives next to the file: whoever can write
// it can write the file itself.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

const DIGEST = 32;

/** What became of the cache: used, or why the file was compiled without it. */
export type CodeCacheOutcome = 'used' | 'missing' | 'stale' | 'rejected';

export const codeCacheFile = (file: string): string => `${file}.v8cache`;

const digestOf = (source: Buffer): Buffer => createHash('sha256').update(source).digest();

/** The file as Node's CommonJS loader wraps it, so line and column numbers stay the file's own. */
function compile(file: string, source: Buffer, cachedData?: Buffer): Script {
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`;
  return new Script(wrapped, { filename: file, ...(cachedData ? { cachedData } : {}) });
}

function readCache(file: string, source: Buffer): { data?: Buffer; outcome: CodeCacheOutcome } {
  let cache: Buffer;
  try {
    cache = readFileSync(codeCacheFile(file));
  } catch {
    return { outcome: 'missing' };
  }
  if (cache.length <= DIGEST || !cache.subarray(0, DIGEST).equals(digestOf(source)))
    return { outcome: 'stale' };
  return { data: cache.subarray(DIGEST), outcome: 'used' };
}

/**
 * Load the CommonJS `file` (it may require Node's built-ins; `import()` has no loader here) with its
 * code cache when the cache was made from this very source; its `module.exports`.
 */
export function requireWithCodeCache(file: string): { exports: unknown; cache: CodeCacheOutcome } {
  const source = readFileSync(file);
  const { data, outcome } = readCache(file, source);
  const script = compile(file, source, data);
  const module = { exports: {} as unknown };
  const body = script.runInThisContext() as (...args: unknown[]) => void;
  body.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    cache: outcome === 'used' && script.cachedDataRejected ? 'rejected' : outcome,
  };
}

/**
 * Write `file`'s code cache, every function compiled (a run calls most of them). Sets V8 flags for
 * the compilation: call it in a process of its own (the build starts one).
 */
export function writeCodeCache(file: string): void {
  const source = readFileSync(file);
  setFlagsFromString('--no-lazy');
  const script = compile(file, source);
  // Back to the default before the cache is made: V8 stores its flags' hash in the cache and rejects
  // it under other flags.
  setFlagsFromString('--lazy');
  const data = script.createCachedData();
  writeFileSync(codeCacheFile(file), Buffer.concat([digestOf(source), data]));
}
