// Builds the gatepass command tree from the command modules it is given and maps every outcome to an
// exit code: 0 ok, 1 failure, 2 usage error (commander's parse errors and invalid configuration
// included). Which modules is program.ts's choice (or run-entry.ts's, for `gatepass run`).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { CommandModule } from './commands/index.js';
import { exitCodeFor } from './lib/failure.js';
import { createOutput, EXIT, type Output, type OutputOptions } from './lib/output.js';

/** The package version, found by walking up from this file (works from src/ and from dist/src/). */
export function packageVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === 'gatepass' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not here; keep walking up.
    }
    dir = new URL('..', dir);
  }
  return '0.0.0';
}

export function buildProgram(out: Output, modules: readonly CommandModule[]): Command {
  const program = new Command('gatepass')
    .description(
      'Short-lived, run-scoped cloud credentials: OIDC issuer, AWS-compatible STS/IAM and run agent.',
    )
    .version(packageVersion(), '-V, --version', 'print the gatepass version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => out.stdout.write(s),
      writeErr: (s) => out.stderr.write(s),
      outputError: (s, write) => write(out.colors.red(s)),
    })
    .exitOverride();
  // Subcommands created by the modules inherit the output and exit settings above.
  for (const module of modules) module.register(program);
  return program;
}

/** Parse `argv` against the given command modules and map the outcome to an exit code. */
export async function runCommands(
  argv: readonly string[],
  modules: readonly CommandModule[],
  io: OutputOptions = {},
): Promise<number> {
  const out = createOutput(io);
  const program = buildProgram(out, modules);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (err) {
    // Commander has already printed its message (or the help/version text).
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return exitCodeFor(err, out);
  }
}
