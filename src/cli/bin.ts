#!/usr/bin/env node
// The installed `gatepass` executable (package.json's bin), bundled as CommonJS into
// dist/bin/gatepass.cjs by scripts/build-cli.mjs. `gatepass run`'s usual command lines start from
// run.cjs next to it (run-entry.ts), compiled with its code cache (code-cache.ts); every other
// command line, `run --help` and `run`'s usage errors included, goes through the ES module CLI
// (main.ts), which loads its module on demand.
import { fileURLToPath } from 'node:url';
import { requireWithCodeCache } from './code-cache.js';
import type { startRun } from './run-entry.js';

const run = requireWithCodeCache(fileURLToPath(new URL('./run.cjs', import.meta.url))).exports as {
  startRun: typeof startRun;
};
// The ES module CLI next to this file (external to the bundle).
if (!run.startRun(process.argv.slice(2))) void import('./main.js');
