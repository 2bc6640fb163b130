#!/usr/bin/env node
// Bundles the `gatepass` executable into dist/bin/ (the package's `bin`), after `tsc` has built
// dist/src/. Node's ESM loader pays per module (resolve, package.json lookups, compile), so the
// CLI ships as a few files: main.js with what every command needs, one chunk per command module,
// loaded on demand, and chunks they share. `gatepass run` then loads its own code only.
// commander and picocolors are bundled (every command loads them; as CommonJS packages imported from
// ESM each of their files is read, scanned for its exports and compiled apart); every other package stays in node_modules, loaded where
// used: better-sqlite3 is native, the UI reads elkjs's files from its package, the demo's child
// imports the AWS SDK (a devDependency) only when it is installed.
//   node scripts/build-cli.mjs        (run by `npm run build`)
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const BUNDLED = ['commander', 'picocolors'];
const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
  (name) => !BUNDLED.includes(name),
);

const outdir = `${root}dist/bin`;
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: [
    { in: 'src/cli/main.ts', out: 'main' },
    // The demo starts its child as a file next to the demo's own module (a chunk here).
    { in: 'src/cli/demo/child.ts', out: 'child' },
  ],
  outdir,
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  // The bundled CommonJS packages require Node built-ins; an ES module has no `require` of its own.
  banner: {
    js: "import { createRequire as __gatepassCreateRequire } from 'node:module'; const require = __gatepassCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
});
