// The gatepass CLI: the command line names a command, and only that command's module is loaded.
import { commandName } from './command-name.js';
import { runCommands } from './command-tree.js';
import { loadCommands } from './commands/index.js';
import type { OutputOptions } from './lib/output.js';

export async function runCli(argv: readonly string[], io: OutputOptions = {}): Promise<number> {
  // Only the named command's module is loaded (none at all for a bare --version).
  const name = commandName(argv);
  const args = argv.slice(2);
  const versionOnly = name === undefined && args.some((a) => a === '-V' || a === '--version');
  return runCommands(argv, versionOnly ? [] : await loadCommands(name), io);
}
