#!/usr/bin/env node
// The installed `gatepass` executable (package.json's bin), bundled as CommonJS into
// dist/bin/gatepass.cjs by scripts/build-cli.mjs. `gatepass run`'s usual command lines start from
// run.cjs next to it (run-entry.ts), compiled with its code cache (code-cache.ts); every other
// command line, `run --help` and `run`'s usage errors included, goes through the ES module CLI
// (main.ts), which loads its module on demand.
import { fileURLToPath } from 'node:url';
import { requireWithCodeCache } from './code-cache.js';
import type { startRun } from './run-entry.js';

type RunEntry = { startRun: typeof startRun };

const args = process.argv.slice(2);
// Other commands never read run.cjs (nor its 200 KB cache).
const run = (): RunEntry =>
  requireWithCodeCache(fileURLToPath(new URL('./run.cjs', import.meta.url))).exports as RunEntry;
// The ES module CLI next to this file (external to the bundle).
if (!(args[0] === 'run' && run().startRun(args))) void import('./main.js');
