#!/usr/bin/env node
// `npm run bench -- <name> [args…]` runs bench/<name>/bench.ts under the bench lock (so two
// measurements never overlap), building dist/ first for the benches that drive the compiled CLI.
// Without a name it lists the benches. Each bench is bounded and stops by itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const LOCK = '/tmp/gatepass-bench.lock';
// These start `gatepass` from dist/ as users run it.
const NEEDS_BUILD = new Set(['agent', 'sts']);

const names = readdirSync(join(root, 'bench'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'bench', d.name, 'bench.ts')))
  .map((d) => d.name)
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !names.includes(name)) {
  process.stderr.write(
    `${name ? `bench: no bench named ${name}\n` : ''}usage: npm run bench -- <${names.join('|')}> [args…]\n` +
      'figures and arguments: bench/README.md and each bench/<name>/README.md\n',
  );
  process.exit(name ? 2 : 0);
}
const run = (cmd, argv) => {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
};
if (NEEDS_BUILD.has(name)) run('npm', ['run', '--silent', 'build']);
const bench = [process.execPath, '--import', 'tsx', join('bench', name, 'bench.ts'), ...args];
const hasFlock = spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasFlock) run('flock', [LOCK, ...bench]);
else run(bench[0], bench.slice(1));
