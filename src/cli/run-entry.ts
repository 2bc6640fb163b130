// `gatepass run`'s usual command lines, bundled as CommonJS into dist/bin/run.cjs by
// scripts/build-cli.mjs, with everything `run` needs inside, and loaded by the executable (bin.ts)
// with the V8 code cache the build makes for it. A CommonJS start skips Node's ES module loader and
// the ES module facades of the built-ins (tls, https, crypto, child_process), and run/argv.ts skips
// commander: about 40 ms of CPU on every run (bench/agent).
import { exitWhenWritten, onClosedPipe } from './pipes.js';
import { parseRunArgv } from './run/argv.js';

/** Start `gatepass run` when `args` is one of its usual command lines; false for anything else. */
export function startRun(args: readonly string[]): boolean {
  const parsed = parseRunArgv(args);
  if (parsed === undefined) return false;
  onClosedPipe('run');
  // Bundled into run.cjs and evaluated only here.
  void import('./run/action.js').then(({ runParsed }) => runParsed(parsed)).then(exitWhenWritten);
  return true;
}
