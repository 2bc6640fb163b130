// `gatepass run`'s command line, parsed without commander for the forms every run uses:
//   run <org>/<workspace> [--option value | --option=value | --flag]… -- COMMAND [ARGS…]
// Loading and building commander's command tree costs a `gatepass run` ~10 ms (bench/agent), on
// every run. Anything else (help, --version, an unknown, repeated or invalid option, a missing
// mandatory one, a value that starts with a dash, no `--`) gives undefined, and commander parses it
// as before, with its help and usage errors. Where this accepts a command line, it reads it exactly
// as commander does (test/cli/run-argv.test.ts compares the two on generated command lines).
import { RUN_OPTIONS, type RunFlags, type RunOption } from './options.js';

export interface RunArgs {
  target: string;
  command: string[];
  flags: RunFlags;
}

const BY_LONG = new Map<string, RunOption>(RUN_OPTIONS.map((o) => [o.long, o]));

/** `args` is the command line after the program (process.argv.slice(2)). */
export function parseRunArgv(args: readonly string[]): RunArgs | undefined {
  if (args[0] !== 'run') return undefined;
  const flags: Partial<Record<keyof RunFlags, string | true>> = {};
  let target: string | undefined;
  let i = 1;
  for (; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') break;
    if (!arg.startsWith('-')) {
      // A second operand before `--` is the command's first word to commander; not taken here.
      if (target !== undefined) return undefined;
      target = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const option = BY_LONG.get(eq < 0 ? arg : arg.slice(0, eq));
    if (option === undefined || flags[option.key] !== undefined) return undefined;
    if (option.value === undefined) {
      if (eq >= 0) return undefined;
      flags[option.key] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    if (option.choices !== undefined && !option.choices.includes(value)) return undefined;
    flags[option.key] = value;
  }
  const command = args.slice(i + 1);
  if (target === undefined || i >= args.length || command.length === 0) return undefined;
  if (RUN_OPTIONS.some((o) => o.mandatory && flags[o.key] === undefined)) return undefined;
  return { target, command, flags: flags as unknown as RunFlags };
}
