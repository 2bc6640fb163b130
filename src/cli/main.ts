#!/usr/bin/env node
// The `gatepass` CLI as an ES module: every command, each module loaded on demand. The installed
// executable (bin.ts) starts `gatepass run` without it.
import { commandName } from './command-name.js';
import { onClosedPipe } from './pipes.js';
import { runCli } from './program.js';

onClosedPipe(commandName(process.argv));
process.exitCode = await runCli(process.argv);
