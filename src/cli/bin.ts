#!/usr/bin/env node
// The installed `gatepass` executable (package.json's bin), bundled as CommonJS by
// scripts/build-cli.mjs. `gatepass run` starts every infrastructure run, so it is started from this
// one file: a CommonJS start skips Node's ES module loader and the ES module facades of the
// built-ins (tls, https, crypto, child_process), about 35 ms of CPU on every run (bench/agent).
// Every other command goes through the ES module CLI (main.ts), which loads its module on demand.
import { commandName } from './command-name.js';
import { onClosedPipe } from './pipes.js';

if (commandName(process.argv) === 'run') {
  onClosedPipe('run');
  // Bundled into this file and evaluated only here.
  void Promise.all([import('./command-tree.js'), import('./commands/run.js')])
    .then(([{ runCommands }, { runCommand }]) => runCommands(process.argv, [runCommand]))
    .then((code) => {
      process.exitCode = code;
    });
} else {
  // The ES module CLI next to this file (external to the bundle).
  void import('./main.js');
}
