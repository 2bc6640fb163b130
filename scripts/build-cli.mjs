#!/usr/bin/env node
// Bundles the `gatepass` executable into dist/bin/, after `tsc` has built dist/src/.
// - gatepass.cjs (package.json's `bin`, from src/cli/bin.ts): a small CommonJS executable that loads
//   run.cjs (src/cli/run-entry.ts: `gatepass run` and all it needs, CommonJS) with its V8 code cache,
//   run.cjs.v8cache, made here with every function compiled. Node starts a CommonJS file without its
//   ES module loader and requires built-ins without their ES module facades, and the cache spares V8
//   compiling the agent's functions on first call: `gatepass run` starts every run.
// - main.js (src/cli/main.ts), where gatepass.cjs sends every other command: ES modules, split so a
//   command loads its own code only. Node's ESM loader pays per module (resolve, package.json
//   lookups, compile), so it is a few files: main.js with what every command needs, one chunk per
//   command module, loaded on demand, and chunks they share.
// commander and picocolors are bundled (every command loads them; as CommonJS packages imported from
// ESM each of their files is read, scanned for its exports and compiled apart); every other package
// stays in node_modules, loaded where used: better-sqlite3 is native, the UI reads elkjs's files from
// its package, the demo's child imports the AWS SDK (a devDependency) only when it is installed.
//   node scripts/build-cli.mjs        (run by `npm run build`)
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const BUNDLED = ['commander', 'picocolors'];
const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
  (name) => !BUNDLED.includes(name),
);

const outdir = `${root}dist/bin`;
rmSync(outdir, { recursive: true, force: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  external,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: [
    { in: 'src/cli/main.ts', out: 'main' },
    // The demo starts its child as a file next to the demo's own module (a chunk here).
    { in: 'src/cli/demo/child.ts', out: 'child' },
  ],
  outdir,
  chunkNames: '[name]-[hash]',
  splitting: true,
  format: 'esm',
  // The bundled CommonJS packages require Node built-ins; an ES module has no `require` of its own.
  banner: {
    js: "import { createRequire as __gatepassCreateRequire } from 'node:module'; const require = __gatepassCreateRequire(import.meta.url);",
  },
});
// ES module semantics for the code of the CommonJS files, as in main.js.
const commonjs = {
  ...common,
  format: 'cjs',
  banner: {
    js: "'use strict';\nconst __gatepassMetaUrl = require('node:url').pathToFileURL(__filename).href;",
  },
  define: { 'import.meta.url': '__gatepassMetaUrl' },
};
await build({ ...commonjs, entryPoints: ['src/cli/run-entry.ts'], outfile: `${outdir}/run.cjs` });
await build({
  ...commonjs,
  entryPoints: ['src/cli/bin.ts'],
  outfile: `${outdir}/gatepass.cjs`,
  plugins: [
    {
      // bin.ts's import('./main.js') is the ES module CLI next to the bundle, not bundled into it.
      name: 'esm-cli-next-door',
      setup(b) {
        b.onResolve({ filter: /^\.\/main\.js$/ }, (args) =>
          args.importer.endsWith('src/cli/bin.ts') ? { path: './main.js', external: true } : undefined,
        );
      },
    },
  ],
});

// run.cjs's V8 code cache, made by this Node (V8 accepts a cache only from its own version) in a
// process of its own (making it sets V8 flags), then checked the way the executable loads it. A
// cache this Node does not accept, or could not make, is left out: the CLI works without it, only
// slower to start.
const runFile = `${outdir}/run.cjs`;
const codeCache = pathToFileURL(`${root}dist/src/cli/code-cache.js`).href;
const node = (script) =>
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
let outcome;
try {
  node(
    `import { writeCodeCache } from ${JSON.stringify(codeCache)}; writeCodeCache(${JSON.stringify(runFile)});`,
  );
  outcome = node(
    `import { requireWithCodeCache } from ${JSON.stringify(codeCache)}; process.stdout.write(requireWithCodeCache(${JSON.stringify(runFile)}).cache);`,
  );
} catch (err) {
  outcome = `not made: ${err.message.split('\n')[0]}`;
}
if (outcome !== 'used') {
  rmSync(`${runFile}.v8cache`, { force: true });
  console.warn(`build-cli: the code cache of run.cjs is left out (${outcome})`);
}
