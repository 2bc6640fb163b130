// How a command's failure ends the process: its message on stderr and an exit code (1 failure,
// 2 usage error, invalid configuration included). Commander's own errors are command-tree.ts's.
import { ConfigError } from '../../server/config-error.js';
import { EXIT, type Output, QuietExit, UsageError } from './output.js';

export function exitCodeFor(err: unknown, out: Output): number {
  if (err instanceof QuietExit) return err.code;
  if (err instanceof ConfigError) {
    out.error('invalid configuration', err.problems);
    return EXIT.usage;
  }
  if (err instanceof UsageError) {
    out.error(err.message, err.problems);
    return EXIT.usage;
  }
  // Errors that know what to do about themselves carry it as `problems` (one hint per line).
  const problems = (err as { problems?: unknown } | undefined)?.problems;
  out.error(
    err instanceof Error ? err.message : String(err),
    Array.isArray(problems) ? problems.map(String) : [],
  );
  return EXIT.failure;
}
