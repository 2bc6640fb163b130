#!/usr/bin/env node
// The `gatepass` CLI as an ES module: every command, each module loaded on demand. The installed
// executable (bin.ts) starts `gatepass run` without it.
import { endQuietlyOnClosedPipe } from './pipes.js';
import { runCli } from './program.js';

endQuietlyOnClosedPipe();
process.exitCode = await runCli(process.argv);
