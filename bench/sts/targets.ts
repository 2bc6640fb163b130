// Issue 23's two per-core targets, measured in rounds so the machine's drift lands on gatepass and
// its anchors alike: AssumeRoleWithWebIdentity (durable audit) against the verification floor, and
// GetCallerIdentity against the node:http hello (the ceiling). Beside each target, a floor that does
// the least the call's rules demand, so the gap splits into what those rules cost and what gatepass
// adds: the durable floor (the verification floor plus a synced row per call before its answer) and
// the SigV4 floor (a signature check and nothing else). All servers stay up (an idle one costs
// nothing); each round loads every server of a call back to back, the order reversed every other
// round. A ratio is one server's CPU per call over another's: the second's req/s per core as a share
// of the first's. Prints each round, then the medians and whether each target (≥ 60%) is met.
// bench.ts measures each anchor once per run; on this shared machine an anchor alone moved by a third
// between runs, and the ratio with it.
// Usage: npx tsx bench/sts/targets.ts [seconds-per-load] [rounds]   (4 s and 5 rounds by default;
// BENCH_CONNECTIONS sets each closed loop's connections, 16 by default; bounded: every load stops by
// itself)
import { fileURLToPath } from 'node:url';
import { startTestIdp } from '../../test/helpers/idp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { startHello } from '../lib/anchors.js';
import { median } from '../lib/median.js';
import {
  answerBytes,
  benchToken,
  loadJob,
  type Measured,
  measureLoad,
  startBenchNode,
  startCallerFloor,
  startFloor,
} from './gatepass.js';

const seconds = Math.min(60, Math.max(1, Number(process.argv[2] ?? 4)));
const rounds = Math.min(20, Math.max(1, Number(process.argv[3] ?? 5)));
const connections = Math.min(256, Math.max(1, Number(process.env.BENCH_CONNECTIONS ?? 16)));
const cli = process.env.BENCH_CLI ?? fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const TARGET = 0.6;

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const token = await benchToken(idp);
const node = await startBenchNode(cli, idp, pki, token);
const bytes = await answerBytes(node, token);
const floor = await startFloor(idp, pki, bytes);
const durableFloor = await startFloor(idp, pki, bytes, { durable: true });
const callerFloor = await startCallerFloor(node);
const hello = await startHello();

type Load = () => Promise<Measured>;
const load =
  (job: Record<string, unknown>, pid: number): Load =>
  () =>
    measureLoad({ ...job, connections }, pid, seconds);
const webIdentityOf = (url: string) => ({ url, kind: 'web-identity', roleArn: node.roleArn, token });

interface Call {
  name: string;
  /** gatepass, the target's anchor, then the floor of the call's rules. */
  servers: { name: string; load: Load }[];
}
const calls: Call[] = [
  {
    name: 'web identity',
    servers: [
      { name: 'gatepass', load: load(loadJob(node, 'web-identity', token), node.pid) },
      { name: 'floor', load: load(webIdentityOf(floor.url), floor.pid) },
      { name: 'durable floor', load: load(webIdentityOf(durableFloor.url), durableFloor.pid) },
    ],
  },
  {
    name: 'GetCallerIdentity',
    servers: [
      { name: 'gatepass', load: load(loadJob(node, 'caller-identity', token), node.pid) },
      { name: 'ceiling', load: load({ url: hello.url, kind: 'hello' }, hello.pid) },
      {
        name: 'SigV4 floor',
        load: load(
          loadJob({ ...node, url: callerFloor.url.replace(/\/$/, '') }, 'caller-identity', token),
          callerFloor.pid,
        ),
      },
    ],
  },
];

/** measured[call][round][server]: CPU µs per call. */
const measured: number[][][] = calls.map(() => []);
try {
  for (let round = 0; round < rounds; round++) {
    for (const [i, call] of calls.entries()) {
      const order = round % 2 === 0 ? call.servers : [...call.servers].reverse();
      const byName = new Map<string, Measured>();
      for (const server of order) {
        const m = await server.load();
        if (m.errors > 0 || m.requests === 0)
          throw new Error(`${call.name}, ${server.name}: ${m.errors} errors`);
        byName.set(server.name, m);
      }
      const cpu = call.servers.map((s) => byName.get(s.name)?.cpuUsPerRequest ?? Number.NaN);
      measured[i]?.push(cpu);
      console.error(
        `round ${round + 1}: ${call.name}: ${call.servers.map((s, k) => `${s.name} ${cpu[k]?.toFixed(0)} µs`).join(', ')}`,
      );
    }
  }
} finally {
  await Promise.all([node.stop(), floor.stop(), durableFloor.stop(), callerFloor.stop(), hello.stop()]);
  await idp.close();
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
/** Per round, server `k`'s req/s per core as a share of server `of`'s: `of`'s CPU per call over `k`'s. */
const share = (rows: number[][], k: number, of: number): number[] =>
  rows.map((r) => (r[of] ?? Number.NaN) / (r[k] ?? Number.NaN));
console.log(
  `| call (${seconds} s per load, ${connections} connections) | CPU µs per call, by round: gatepass / target's anchor / rules' floor | gatepass ÷ anchor (target ≥ 60%) | rules' floor ÷ anchor | gatepass ÷ rules' floor | met |`,
);
console.log('|---|---|---:|---:|---:|---|');
for (const [i, call] of calls.entries()) {
  const rows = measured[i] ?? [];
  const target = share(rows, 0, 1);
  const met = target.filter((r) => r >= TARGET).length;
  const names = call.servers.map((s) => s.name).join(' / ');
  const cells = rows.map((r) => r.map((x) => x.toFixed(0)).join(' / ')).join('; ');
  const m = median(target);
  console.log(
    `| ${call.name} (${names}) | ${cells} | **${pct(m)}** (${target.map(pct).join(', ')}) | ${pct(median(share(rows, 2, 1)))} | ${pct(median(share(rows, 0, 2)))} | ${m >= TARGET ? 'yes' : 'no'} (${met} of ${rows.length} rounds) |`,
  );
}
process.exit(0);
