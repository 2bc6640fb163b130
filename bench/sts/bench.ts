// STS benchmark: AssumeRoleWithWebIdentity with full validation and a SigV4-signed
// GetCallerIdentity on gatepass, side by side in one run with moto_server's
// AssumeRoleWithWebIdentity (which validates nothing), a raw node:http hello server (the ceiling) and a
// raw node:http server that only checks the token's signature (the floor of any real validation).
// gatepass runs as users run it: the compiled CLI (`npm run build` first), set up with
// `gatepass apply` and started with `gatepass serve`, in its own process.
// Usage: npx tsx bench/sts/bench.ts [seconds-per-load]   (bounded: stops by itself)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestIdp } from '../../test/helpers/idp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { startHello, startMoto } from '../lib/anchors.js';
import { median } from '../lib/median.js';
import {
  answerBytes,
  benchToken,
  type Measured,
  measureLoad,
  startBenchNode,
  startFloor,
} from './gatepass.js';

const seconds = Number(process.argv[2] ?? 10);
// BENCH_CLI points at another build's main.js (to measure another build the same way).
const cli = process.env.BENCH_CLI ?? fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

/** One load from its own process, with the serving process's CPU time over the measured window. */
const load = (job: Record<string, unknown>, servingPid: number): Promise<Measured> =>
  measureLoad(job, servingPid, seconds);

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const token = await benchToken(idp);
// BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the gatepass server (open it in Chrome DevTools).
// BENCH_NODE_FLAGS adds node flags to the server (e.g. --perf-basic-prof for `perf record`).
const node = await startBenchNode(cli, idp, pki, token, [
  ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
  ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
]);
const { url, roleArn, credentials } = node;
// The floor anchor answers as many bytes as gatepass does, so both pay the same socket writes.
const responseBytes = await answerBytes(node, token);
console.error('gatepass ready; loading');
const results: Record<string, Measured | undefined> = {};
// BENCH_ONLY=web-identity|caller-identity|healthz runs one gatepass load (to profile it alone);
// BENCH_ONLY=durability the web identity load on disk and on tmpfs only.
const only = process.env.BENCH_ONLY;
const DURABLE = 'gatepass AssumeRoleWithWebIdentity';
const VOLATILE = 'gatepass AssumeRoleWithWebIdentity, store on tmpfs (commits not synced)';
const withDurability = !only || only === 'web-identity' || only === 'durability';
// The price of durable commits: the same build and load with its store on tmpfs, where a sync costs
// nothing, as the store's commits cost before they were synced (synchronous=NORMAL: written to the
// page cache, synced only at checkpoints). BENCH_VOLATILE_DIR names another memory file system.
const volatileDir = process.env.BENCH_VOLATILE_DIR ?? '/dev/shm';
const volatile =
  withDurability && existsSync(volatileDir)
    ? await startBenchNode(cli, idp, pki, token, [], volatileDir)
    : undefined;
/** Durable and unsynced loads in alternation (BENCH_ROUNDS pairs, 1 by default), so drift hits both. */
const rounds: { durable: Measured; volatile: Measured }[] = [];
try {
  const pairs = only === 'durability' ? Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3)) : 1;
  for (let i = 0; withDurability && i < pairs; i++) {
    const durable = await load({ url: `${url}/`, kind: 'web-identity', roleArn, token }, node.pid);
    results[DURABLE] = durable;
    if (!volatile) continue;
    const unsynced = await load(
      { url: `${volatile.url}/`, kind: 'web-identity', roleArn: volatile.roleArn, token },
      volatile.pid,
    );
    results[VOLATILE] = unsynced;
    rounds.push({ durable, volatile: unsynced });
  }
} finally {
  await volatile?.stop();
}
if (!only || only === 'caller-identity') {
  results['gatepass GetCallerIdentity (SigV4)'] = await load(
    { url: `${url}/`, kind: 'caller-identity', credentials },
    node.pid,
  );
}
// The server's own floor: the smallest route through the same front door (request id, logging,
// metrics), to tell the HTTP layer's cost from the STS pipeline's.
if (only === 'healthz') {
  results['gatepass GET /healthz'] = await load({ url: `${url}/healthz`, kind: 'hello' }, node.pid);
}
await node.stop();

// BENCH_ANCHORS=0 skips moto and the raw server (A/B runs of two builds compare CPU per request).
const anchors = process.env.BENCH_ANCHORS !== '0' && only !== 'durability';
const moto = anchors ? await startMoto() : undefined;
if (moto) {
  results['moto AssumeRoleWithWebIdentity'] = await load(
    { url: moto.url, kind: 'web-identity', roleArn: 'arn:aws:iam::123456789012:role/bench', token },
    moto.pid,
  );
  await moto.stop();
}
if (anchors) {
  const floor = await startFloor(idp, pki, responseBytes);
  results['node:http + RS256 check only (floor)'] = await load(
    { url: floor.url, kind: 'web-identity', roleArn, token },
    floor.pid,
  );
  await floor.stop();
  const hello = await startHello();
  results['node:http hello (ceiling)'] = await load({ url: hello.url, kind: 'hello' }, hello.pid);
  await hello.stop();
}
await idp.close();

// Two views: throughput as measured (the machine is shared, so ratios in one run are what to compare)
// and CPU per request of the serving process, whose inverse is the rate one dedicated core sustains.
const motoRow = results['moto AssumeRoleWithWebIdentity'];
const ceilingRow = results['node:http hello (ceiling)'];
const perCore = (r: Measured): number => (r.cpuUsPerRequest > 0 ? 1e6 / r.cpuUsPerRequest : 0);
console.log(
  `| load (${seconds}s, 16 connections) | req/s | p50 ms | p99 ms | errors | × moto | % of ceiling | CPU µs/req | req/s per core | × moto per core | % of ceiling per core |`,
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const ratio = (a: number, b: number | undefined, pct = false): string =>
  b ? (pct ? `${((a / b) * 100).toFixed(0)}%` : `${(a / b).toFixed(1)}×`) : 'n/a';
for (const [name, r] of Object.entries(results)) {
  if (!r) continue;
  console.log(
    `| ${name} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${ratio(r.rps, motoRow?.rps)} | ${ratio(r.rps, ceilingRow?.rps, true)} | ${r.cpuUsPerRequest.toFixed(0)} | ${perCore(r).toFixed(0)} | ${ratio(perCore(r), motoRow && perCore(motoRow))} | ${ratio(perCore(r), ceilingRow && perCore(ceilingRow), true)} |`,
  );
}
if (rounds.length > 0) {
  console.log(
    '\n| round | durable req/s (p50, p99 ms) | unsynced req/s (p50, p99 ms) | durable ÷ unsynced req/s |',
  );
  console.log('|---:|---:|---:|---:|');
  rounds.forEach(({ durable: d, volatile: v }, i) => {
    console.log(
      `| ${i + 1} | ${d.rps.toFixed(0)} (${d.p50Ms.toFixed(1)}, ${d.p99Ms.toFixed(1)}) | ${v.rps.toFixed(0)} (${v.p50Ms.toFixed(1)}, ${v.p99Ms.toFixed(1)}) | ${(d.rps / v.rps).toFixed(2)} |`,
    );
  });
  console.log(
    `\nDurable commits against unsynced ones, this run: median ${median(rounds.map((r) => r.durable.rps / r.volatile.rps)).toFixed(2)}× the req/s over ${rounds.length} alternating round(s).`,
  );
}
process.exit(0);
