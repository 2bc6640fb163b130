// Every CLI command module, in the order they appear in `gatepass --help`. Append new modules here,
// one import per line.
import type { Command } from 'commander';
import { serveCommand } from './serve.js';

export interface CommandModule {
  register(program: Command): void;
}

export const commands: readonly CommandModule[] = [serveCommand];
