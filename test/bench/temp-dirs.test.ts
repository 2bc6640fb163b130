// A benchmark's temp directories (bench/lib/scratch.ts, over test/helpers/temp.ts) hold a data
// directory's master key, admin token and session credentials: they must not outlive the benchmark
// when `timeout` or Ctrl-C stops it, which by Node's default ends a process without its 'exit'
// handlers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const scratch = fileURLToPath(new URL('../../bench/lib/scratch.ts', import.meta.url));

/** A process that makes a temp dir with a file in it, prints its path, then waits to be stopped. */
async function holder(): Promise<{ dir: string; stop(signal: NodeJS.Signals): Promise<number | null> }> {
  const script = `
    import { writeFileSync } from 'node:fs';
    import { join } from 'node:path';
    const { scratchDir } = await import(${JSON.stringify(scratch)});
    const dir = scratchDir('gatepass-scratch-test-');
    writeFileSync(join(dir, 'master.key'), 'not a real key', { mode: 0o600 });
    console.log(dir);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return {
    dir,
    stop: (signal) =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
  ['SIGHUP', 129],
] as const) {
  test(`a benchmark stopped by ${signal} removes its temp directories on the way out`, async () => {
    const h = await holder();
    assert.ok(existsSync(h.dir), 'the directory is there while the benchmark runs');
    assert.equal(await h.stop(signal), code);
    assert.equal(existsSync(h.dir), false, `${h.dir} outlived the benchmark`);
  });
}
