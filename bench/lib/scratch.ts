// Temp directories a benchmark makes: data directories holding a master key, an admin token and
// session credentials among them. Each is removed when the benchmark exits, however it exits short
// of SIGKILL: a benchmark stopped by a signal (`timeout`, Ctrl-C) exits through process.exit, so the
// 'exit' handlers run, where Node's default would end it without them and leave the secrets behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
let installed = false;

function removeAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', removeAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => process.exit(128 + constants.signals[signal]));
}

/** A new directory `parent/prefix…`, removed at exit unless `removeScratch` removed it first. */
export function scratchDir(prefix: string, parent: string = tmpdir()): string {
  install();
  const dir = mkdtempSync(join(parent, prefix));
  live.add(dir);
  return dir;
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}
