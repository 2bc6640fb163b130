// Cluster benchmark: AssumeRoleWithWebIdentity (full validation: JWT signature against the IdP's
// JWKS, trust policy, sealing, the audit record committed before the answer) on `gatepass serve` with
// the SQLite store and with PostgreSQL (a throwaway server with fsync on), one worker and two, and the
// raw node:http ceiling from bench/lib measured in the same run. Every configuration starts from an
// empty store, set up through the real IAM API.
// Usage: node --import tsx bench/cluster/bench.ts [seconds-per-load]   (bounded: stops by itself)
import { availableParallelism, cpus } from 'node:os';
import { startPostgres } from '../../scripts/pg-sandbox.js';
import {
  assumeWithWebIdentity,
  dataDir,
  findAdmin,
  makeWorld,
  type NodeOptions,
  setupRole,
  spawnNode,
} from '../../test/cluster/helpers.js';
import { startHello } from '../lib/anchors.js';
import { formLoad } from '../lib/form-load.js';
import type { LoadResult } from '../lib/load.js';

const seconds = Math.min(60, Math.max(2, Number(process.argv[2] ?? 8)));
const CONNECTIONS = 32;
const load = (url: string, form?: Record<string, string>): LoadResult =>
  formLoad({
    url,
    ...(form ? { form } : {}),
    connections: CONNECTIONS,
    warmupMs: 2000,
    durationMs: seconds * 1000,
  });

// The benchmark owns its PostgreSQL server: a shared test server would not be durable.
delete process.env.GATEPASS_TEST_DATABASE_URL;
const pg = await startPostgres({ durable: true });
const world = await makeWorld();
const results: { name: string; r: LoadResult }[] = [];
try {
  let n = 0;
  for (const engine of ['sqlite', 'postgres'] as const) {
    for (const workers of [1, 2]) {
      const options: NodeOptions = {
        dataDir: dataDir(world, `node-${++n}`),
        masterKey: world.masterKey,
        caFile: world.caFile,
        workers,
        ...(engine === 'postgres' ? { databaseUrl: await pg.createDatabase(`bench_${n}`) } : {}),
      };
      const node = await spawnNode(options);
      try {
        const ready = await setupRole(world, node.url, findAdmin([node]));
        const token = await world.token();
        if (!(await assumeWithWebIdentity(node.url, ready.roleArn, token)))
          throw new Error('AssumeRoleWithWebIdentity failed before the load');
        console.error(`${engine}, ${workers} worker(s): loading`);
        const r = load(`${node.url}/`, {
          Action: 'AssumeRoleWithWebIdentity',
          Version: '2011-06-15',
          RoleArn: ready.roleArn,
          RoleSessionName: 'bench',
          WebIdentityToken: token,
        });
        results.push({ name: `${engine}, ${workers} worker${workers > 1 ? 's' : ''}`, r });
      } finally {
        await node.stop();
      }
    }
  }
  const hello = await startHello();
  results.push({ name: 'node:http hello (ceiling, 1 process)', r: load(hello.url) });
  await hello.stop();
} finally {
  await world.close();
  await pg.stop();
}

const ceiling = results.at(-1)?.r.rps ?? 0;
console.log(
  `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}; ${seconds}s per load, ${CONNECTIONS} connections`,
);
console.log('| AssumeRoleWithWebIdentity | req/s | p50 ms | p99 ms | errors | % of ceiling |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const { name, r } of results) {
  console.log(
    `| ${name} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${((r.rps / ceiling) * 100).toFixed(0)}% |`,
  );
}
process.exit(0);
