// A benchmark's temp directories: data directories holding a master key, an admin token and session
// credentials among them. They come from test/helpers/temp.ts, which removes them at exit; a
// benchmark that makes one also exits on SIGINT, SIGTERM and SIGHUP through process.exit, so that a
// benchmark stopped by `timeout` or Ctrl-C runs its 'exit' handlers (the temp directories, the
// servers it started), where Node's default would end it without them. Only for benchmarks, which
// own their process: a test's process may handle signals itself (test/server/app.test.ts does).
import { constants } from 'node:os';
import { tempDirSync } from '../../test/helpers/temp.js';

let installed = false;

/** A new directory `parent/prefix…`, removed at exit (or by `removeTempDir`). */
export function scratchDir(prefix: string, parent?: string): string {
  if (!installed) {
    installed = true;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.once(signal, () => process.exit(128 + constants.signals[signal]));
  }
  return tempDirSync(prefix, parent);
}
