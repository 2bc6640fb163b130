// Two builds of gatepass measured at the same time: one node from each build, each under its own
// closed-loop load, both loads in the same window, so whatever else the machine does lands on both
// alike. Prints each round's CPU µs per request, req/s and p99 of both servers and the median ratios
// B/A, the figures to trust on a shared machine when a change is worth a few percent.
// `BENCH_CONNECTIONS` sets each load's connections (8 by default).
// Usage: npx tsx bench/sts/compare.ts <A/dist/src/cli/main.js> <B/dist/src/cli/main.js> [web-identity|caller-identity] [rounds] [seconds]
import { fileURLToPath } from 'node:url';
import { startTestIdp } from '../../test/helpers/idp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { cpuMs } from '../lib/cpu.js';
import { spawnLoad } from '../lib/form-load.js';
import { type BenchNode, benchToken, loadJob, startBenchNode } from './gatepass.js';

const [cliA, cliB, kind = 'web-identity', roundsArg = '5', secondsArg = '4'] = process.argv.slice(2);
if (!cliA || !cliB) throw new Error('usage: compare.ts <cli A> <cli B> [kind] [rounds] [seconds]');
if (kind !== 'web-identity' && kind !== 'caller-identity') throw new Error(`unknown load ${kind}`);
const rounds = Number(roundsArg);
const seconds = Number(secondsArg);
const worker = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const token = await benchToken(idp);
const nodes: BenchNode[] = [];
try {
  nodes.push(await startBenchNode(cliA, idp, pki, token), await startBenchNode(cliB, idp, pki, token));
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 8);
  const measure = async (node: BenchNode): Promise<{ cpu: number; rps: number; p99: number }> => {
    const cpu = { start: 0, end: 0 };
    const job = loadJob(node, kind, token);
    const r = await spawnLoad(
      worker,
      { connections, warmupMs: 2000, durationMs: seconds * 1000, ...job },
      2000 + seconds * 1000,
      (edge) => {
        cpu[edge] = cpuMs([node.pid]);
      },
    );
    if (r.errors > 0 || r.requests === 0) throw new Error(`${r.errors} errors of ${r.requests} requests`);
    return { cpu: ((cpu.end - cpu.start) * 1000) / r.requests, rps: r.rps, p99: r.p99Ms };
  };
  const cpuRatios: number[] = [];
  const rpsRatios: number[] = [];
  const show = (m: { cpu: number; rps: number; p99: number }): string =>
    `${m.cpu.toFixed(0)} µs/req ${m.rps.toFixed(0)} req/s p99 ${m.p99.toFixed(1)} ms`;
  for (let i = 0; i < rounds; i++) {
    const [a, b] = await Promise.all(nodes.map(measure));
    if (!a || !b) throw new Error('a load returned nothing');
    cpuRatios.push(b.cpu / a.cpu);
    rpsRatios.push(b.rps / a.rps);
    console.log(
      `round ${i + 1}: A ${show(a)}; B ${show(b)}; B/A CPU ${cpuRatios.at(-1)?.toFixed(3)}, req/s ${rpsRatios.at(-1)?.toFixed(3)}`,
    );
  }
  const median = (xs: number[]): string =>
    ([...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0).toFixed(3);
  const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  console.log(
    `${kind}: median B/A CPU per request ${median(cpuRatios)} (rounds ${range(cpuRatios)}), req/s ${median(rpsRatios)} (rounds ${range(rpsRatios)}) over ${rounds} rounds of ${seconds} s`,
  );
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
  await idp.close();
}
process.exit(0);
