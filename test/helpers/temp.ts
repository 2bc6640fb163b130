// Temporary directories for tests and benchmarks that are removed when the process exits, whatever
// happened: a data directory holds a master key and an admin token, which must never be left behind
// in the system temp folder (scripts/run-tests.mjs checks). A process ended by a signal runs no
// 'exit' handler by Node's default: the test runner removes its tests' temp folder itself, and
// benchmarks exit on signals (bench/lib/scratch.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();
let hooked = false;

/** `mkdtemp(<parent>/<prefix>…)` (the system temp folder by default), removed at process exit. */
export function tempDirSync(prefix: string, parent: string = tmpdir()): string {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(parent, prefix));
  made.add(dir);
  return dir;
}

/** `tempDirSync` for callers that await. */
export async function tempDir(prefix: string): Promise<string> {
  return tempDirSync(prefix);
}

/** Remove a directory from `tempDir` now, rather than at exit. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}
