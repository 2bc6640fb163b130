// Cluster benchmark: AssumeRoleWithWebIdentity (full validation: JWT signature against the IdP's
// JWKS, trust policy, sealing, the audit record committed before the answer) on `gatepass serve` with
// the SQLite store and with PostgreSQL (a throwaway server with fsync on), one worker and two, and the
// raw node:http ceiling from bench/lib measured in the same run. Every configuration starts from an
// empty store, set up through the real IAM API.
// Usage: node --import tsx bench/cluster/bench.ts [seconds-per-load] [sqlite,postgres,postgres-async]
// (bounded: stops by itself)
import { availableParallelism, cpus } from 'node:os';
import postgres from 'postgres';
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
import { cpuMs, withChildren } from '../lib/cpu.js';
import { formLoad } from '../lib/form-load.js';
import type { LoadResult } from '../lib/load.js';

const seconds = Math.min(60, Math.max(2, Number(process.argv[2] ?? 8)));
const CONNECTIONS = 32;
const ENGINES = ['sqlite', 'postgres', 'postgres-async'] as const;
/** Optional second argument: a comma-separated subset of ENGINES. */
const only = (process.argv[3] ?? '').split(',').filter((e) => e !== '');
interface Measured {
  r: LoadResult;
  /** CPU milliseconds per request: gatepass's processes, and the PostgreSQL server's. */
  cpu?: { gatepass: number; database?: number };
}

/** One load; with `pids`, the CPU those processes spent in the measured window, per request. */
async function load(
  url: string,
  form?: Record<string, string>,
  pids?: { gatepass: () => number[]; database: () => number[] },
): Promise<Measured> {
  const at: Record<'start' | 'end', { gatepass: number; database: number }> = {
    start: { gatepass: 0, database: 0 },
    end: { gatepass: 0, database: 0 },
  };
  let dbPids: number[] = [];
  const r = await formLoad(
    { url, ...(form ? { form } : {}), connections: CONNECTIONS, warmupMs: 2000, durationMs: seconds * 1000 },
    (edge) => {
      if (!pids) return;
      // Backends that connect mid-window count from zero; the set is fixed at the window's start.
      if (edge === 'start') dbPids = pids.database();
      at[edge] = { gatepass: cpuMs(pids.gatepass()), database: cpuMs(dbPids) };
    },
  );
  if (!pids || r.requests === 0) return { r };
  const per = (k: 'gatepass' | 'database') => (at.end[k] - at.start[k]) / r.requests;
  return {
    r,
    cpu: { gatepass: per('gatepass'), ...(dbPids.length > 0 ? { database: per('database') } : {}) },
  };
}

// The benchmark owns its PostgreSQL server: a shared test server would not be durable.
delete process.env.GATEPASS_TEST_DATABASE_URL;
const server = await startPostgres({ durable: true });
const world = await makeWorld();

/**
 * A database on the durable server. `asyncCommit`: synchronous_commit off for it, the guarantee
 * SQLite's WAL with synchronous=NORMAL gives (a commit survives gatepass crashing, not the machine).
 */
async function database(name: string, asyncCommit: boolean): Promise<string> {
  const url = await server.createDatabase(name);
  if (asyncCommit) {
    const sql = postgres(url, { max: 1, onnotice: () => undefined });
    await sql.unsafe(`ALTER DATABASE ${name} SET synchronous_commit = off`);
    await sql.end();
  }
  return url;
}
const results: ({ name: string } & Measured)[] = [];
try {
  let n = 0;
  for (const engine of ENGINES.filter((e) => only.length === 0 || only.includes(e))) {
    for (const workers of [1, 2]) {
      const options: NodeOptions = {
        dataDir: dataDir(world, `node-${++n}`),
        masterKey: world.masterKey,
        caFile: world.caFile,
        workers,
        ...(engine === 'sqlite'
          ? {}
          : { databaseUrl: await database(`bench_${n}`, engine === 'postgres-async') }),
      };
      const node = await spawnNode(options);
      try {
        const ready = await setupRole(world, node.url, findAdmin([node]));
        const token = await world.token();
        if (!(await assumeWithWebIdentity(node.url, ready.roleArn, token)))
          throw new Error('AssumeRoleWithWebIdentity failed before the load');
        console.error(`${engine}, ${workers} worker(s): loading`);
        const pg = engine === 'sqlite' ? undefined : server.serverPid();
        const gatepassPids = (): number[] => {
          const ready = node.lines.find((l) => l.msg === 'workers ready');
          const workerPids = Array.isArray(ready?.pids) ? (ready.pids as number[]) : [];
          return [node.child.pid ?? 0, ...workerPids];
        };
        const measured = await load(
          `${node.url}/`,
          {
            Action: 'AssumeRoleWithWebIdentity',
            Version: '2011-06-15',
            RoleArn: ready.roleArn,
            RoleSessionName: 'bench',
            WebIdentityToken: token,
          },
          { gatepass: gatepassPids, database: () => (pg ? withChildren(pg) : []) },
        );
        results.push({ name: `${engine}, ${workers} worker${workers > 1 ? 's' : ''}`, ...measured });
      } finally {
        await node.stop();
      }
    }
  }
  const hello = await startHello();
  results.push({ name: 'node:http hello (ceiling, 1 process)', ...(await load(hello.url)) });
  await hello.stop();
} finally {
  await world.close();
  await server.stop();
}

const ceiling = results.at(-1)?.r.rps ?? 0;
console.log(
  `${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}; ${seconds}s per load, ${CONNECTIONS} connections`,
);
console.log(
  '| AssumeRoleWithWebIdentity | req/s | p50 ms | p99 ms | errors | % of ceiling | CPU ms/req gatepass | CPU ms/req PostgreSQL | CPU ms/req load generator |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const { name, r, cpu } of results) {
  console.log(
    `| ${name} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${((r.rps / ceiling) * 100).toFixed(0)}% | ${cpu?.gatepass.toFixed(2) ?? ''} | ${cpu?.database?.toFixed(2) ?? ''} | ${(r.generatorCpuUsPerRequest / 1000).toFixed(2)} |`,
  );
}
process.exit(0);
