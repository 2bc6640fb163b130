#!/usr/bin/env node
// The installed `gatepass` executable (package.json's bin), bundled as CommonJS by
// scripts/build-cli.mjs. `gatepass run` starts every infrastructure run, so its usual command lines
// start from this one file: a CommonJS start skips Node's ES module loader and the ES module facades
// of the built-ins (tls, https, crypto, child_process), and run/argv.ts skips commander, about 40 ms
// of CPU on every run (bench/agent). Every other command line, `run --help` and `run`'s usage errors
// included, goes through the ES module CLI (main.ts), which loads its module on demand.
import { onClosedPipe } from './pipes.js';
import { parseRunArgv } from './run/argv.js';

const parsed = parseRunArgv(process.argv.slice(2));
if (parsed !== undefined) {
  onClosedPipe('run');
  // Bundled into this file and evaluated only here.
  void import('./run/action.js')
    .then(({ runParsed }) => runParsed(parsed))
    .then((code) => {
      process.exitCode = code;
    });
} else {
  // The ES module CLI next to this file (external to the bundle).
  void import('./main.js');
}
