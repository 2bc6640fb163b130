#!/usr/bin/env node
// The `gatepass` executable.
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv);
