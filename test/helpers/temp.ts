// Temporary directories for tests that are removed when the test process exits, whatever happened:
// a data directory holds a master key and an admin token, which must never be left behind in the
// system temp folder (scripts/run-tests.mjs checks).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let hooked = false;

/** `mkdtemp(<tmp>/<prefix>…)`, removed at process exit. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}
