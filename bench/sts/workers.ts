// `gatepass serve --workers N` on this machine's cores, with the durable audit: for 1 and 2 workers in
// alternation, the most AssumeRoleWithWebIdentity calls a second a closed loop gets, the CPU per call
// of every process (primary and workers), and the p50/p99 of a paced load at half of that maximum;
// for one worker the same for GetCallerIdentity. After each load it counts the issuance events in the
// audit log against the answers the clients got: every credential answered must have its record
// (each worker group-commits its own events to the one SQLite file). Beside each paced load it runs
// the same schedule against anchors (the verification floor and the durable floor for web identity,
// a node:http hello and the SigV4 floor for GetCallerIdentity) and reports the garbage-collection
// pauses one worker took meanwhile; it also times the disk's own fdatasync, the first touch of fresh
// memory and a sleeping process's wake-up, and prints what the generator's CPU leaves two workers at
// most.
// Usage: npm run build && npx tsx bench/sts/workers.ts [seconds] [rounds]   (BENCH_CLI: another build;
// BENCH_GENERATOR=node: the Node generator, as before the C one; BENCH_PIN=1: workers pinned to cores)
import { execFileSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startTestIdp } from '../../test/helpers/idp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { type Anchor, startHello } from '../lib/anchors.js';
import { cpuMs, withChildren } from '../lib/cpu.js';
import { spawnLoad } from '../lib/form-load.js';
import { fdatasyncTail } from '../lib/fsync-tail.js';
import type { LoadResult } from '../lib/load.js';
import { paceBinary } from '../lib/pace.js';
import { firstTouchMicrosPerPage } from '../lib/page-faults.js';
import { wakeupCpuMicros } from '../lib/wakeup.js';
import {
  answerBytes,
  type BenchNode,
  benchToken,
  gcPauses,
  loadJob,
  showPauses,
  startBenchNode,
  startCallerFloor,
  startFloor,
} from './gatepass.js';
import { paceJob } from './pace-job.js';
import type { LoadJob } from './requests.js';

const seconds = Number(process.argv[2] ?? '4');
const rounds = Number(process.argv[3] ?? '3');
const cli = process.env.BENCH_CLI ?? fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const worker = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
const CONNECTIONS = 16;
// The C generator (bench/lib/pace.c) where a compiler is at hand: the Node one's own CPU and timer
// tail (several ms at p99 against the node:http hello) would be measured as the server's.
const generator = process.env.BENCH_GENERATOR ?? (paceBinary() ? 'c' : 'node');
// BENCH_PIN=1: each worker on a core of its own (`taskset`), as docs/scaling.md suggests operators do;
// the generator and the primary stay free to move.
const pin = process.env.BENCH_PIN === '1';
const pinWorkers = (primary: number): void => {
  const workers = withChildren(primary).slice(1);
  for (const [i, worker] of workers.entries())
    execFileSync('taskset', ['-acp', String(i % availableParallelism()), String(worker)], {
      stdio: 'ignore',
    });
};

type Kind = 'web-identity' | 'caller-identity';

interface Measured extends LoadResult {
  cpuPerRequest: number;
  /** Each process's share of that CPU (primary first), to show the workers shared the load. */
  shares: number[];
}

/** One load against `pids`' server (`job` says what to send), closed-loop or paced at `ratePerSecond`. */
async function run(
  pids: number[],
  job: Omit<LoadJob, 'connections' | 'warmupMs' | 'durationMs'>,
  ratePerSecond?: number,
): Promise<Measured> {
  const cpu: Record<'start' | 'end', number[]> = { start: [], end: [] };
  const full: LoadJob = {
    connections: CONNECTIONS,
    warmupMs: 2000,
    durationMs: seconds * 1000,
    ...(ratePerSecond ? { ratePerSecond } : {}),
    ...job,
  };
  const onWindow = (edge: 'start' | 'end'): void => {
    cpu[edge] = pids.map((pid) => cpuMs([pid]));
  };
  const r =
    generator === 'c'
      ? await paceJob(full, onWindow)
      : await spawnLoad(worker, full, 2000 + seconds * 1000, onWindow);
  if (r.errors > 0 || r.requests === 0)
    throw new Error(`${JSON.stringify(job).slice(0, 80)}: ${r.errors} errors of ${r.requests} requests`);
  const used = pids.map((_, i) => (cpu.end[i] ?? 0) - (cpu.start[i] ?? 0));
  const total = used.reduce((a, b) => a + b, 0);
  return { ...r, cpuPerRequest: (total * 1000) / r.requests, shares: used.map((ms) => ms / (total || 1)) };
}

const load = (node: BenchNode, kind: Kind, token: string, ratePerSecond?: number): Promise<Measured> =>
  run(withChildren(node.pid), loadJob(node, kind, token), ratePerSecond);

/** Issuance events in the node's audit log (read from its SQLite file, as another process may). */
function issued(node: BenchNode): number {
  const db = new Database(`${node.dataDir}/gatepass.db`, { readonly: true });
  try {
    return (
      db
        .prepare(
          `SELECT COUNT(*) AS n FROM audit WHERE action = 'sts:AssumeRoleWithWebIdentity' AND decision = 'allow'`,
        )
        .get() as { n: number }
    ).n;
  } finally {
    db.close();
  }
}

// The cores the server kept busy: at half the maximum rate a call costs more than at the maximum (a
// wake-up per request, smaller group commits), so "half load" keeps a core busier than half. With
// workers, each one's share of the CPU (the primary's is left out: it only supervises).
const show = (m: Measured): string =>
  `${m.rps.toFixed(0)} req/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, ${m.cpuPerRequest.toFixed(0)} µs CPU/req (generator ${m.generatorCpuUsPerRequest.toFixed(0)}), ${((m.cpuPerRequest * m.rps) / 1e6).toFixed(2)} cores busy${
    m.shares.length > 2
      ? ` (workers' shares ${m.shares
          .slice(1)
          .map((x) => `${(x * 100).toFixed(0)}%`)
          .join(' / ')})`
      : ''
  }`;

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const token = await benchToken(idp);
const hello = await startHello();
const sync = fdatasyncTail(tmpdir());
console.log(
  `the data directory's disk (${tmpdir()}): fdatasync of 8 KiB p50 ${sync.p50Ms.toFixed(2)} ms, p99 ${sync.p99Ms.toFixed(2)} ms, p99.9 ${sync.p999Ms.toFixed(2)} ms, max ${sync.maxMs.toFixed(2)} ms; memory: ${firstTouchMicrosPerPage().toFixed(1)} µs per fresh 4 KiB page; waking: ${(await wakeupCpuMicros()).toFixed(1)} µs of CPU per loopback round trip with a process asleep between messages; load generator: ${generator === 'c' ? 'C (bench/lib/pace.c)' : 'Node (bench/lib/load.ts)'}`,
);
let floor: Anchor | undefined;
let durableFloor: Anchor | undefined;
const ratios: number[] = [];
let lost = 0;
try {
  for (let round = 1; round <= rounds; round++) {
    const max: Record<number, number> = {};
    let oneWorker: Measured | undefined;
    for (const workers of [1, 2]) {
      const node = await startBenchNode(cli, idp, pki, token, [], undefined, workers);
      if (pin) pinWorkers(node.pid);
      if (!floor || !durableFloor) {
        const bytes = await answerBytes(node, token);
        floor = await startFloor(idp, pki, bytes);
        durableFloor = await startFloor(idp, pki, bytes, { durable: true });
      }
      try {
        const before = issued(node);
        const top = await load(node, 'web-identity', token);
        const recorded = issued(node) - before;
        lost += Math.max(0, top.answered - recorded);
        max[workers] = top.rps;
        if (workers === 1) oneWorker = top;
        // With two workers, each /metrics answer is one worker's, maybe not the one read before: the
        // difference of two workers' counters meant nothing (negative pauses were printed).
        const gcBefore = workers === 1 ? await gcPauses(node) : undefined;
        const half = await load(node, 'web-identity', token, top.rps / 2);
        const gc = gcBefore
          ? showPauses(gcBefore, await gcPauses(node))
          : 'not read (one worker per /metrics answer)';
        // The same paced load against the verification floor: what this machine and generator give
        // a server that only checks the token, in the same minute.
        const floorHalf = await run(
          [floor.pid],
          { url: floor.url, kind: 'web-identity', roleArn: node.roleArn, token },
          top.rps / 2,
        );
        // And against the durable floor, which also syncs a row per call before answering: the tail
        // that this disk gives any server keeping the rule, at that rate.
        const durableHalf = await run(
          [durableFloor.pid],
          { url: durableFloor.url, kind: 'web-identity', roleArn: node.roleArn, token },
          top.rps / 2,
        );
        console.log(
          `round ${round}, ${workers} worker(s), web identity: max ${show(top)}; audit ${recorded} of ${top.answered} answered; at half (${(top.rps / 2).toFixed(0)}/s): ${show(half)}, GC pauses ${gc}; the floor at that rate: ${show(floorHalf)}; the durable floor: ${show(durableHalf)}`,
        );
        if (workers === 1) {
          const sigv4 = await load(node, 'caller-identity', token);
          const sigv4GcBefore = await gcPauses(node);
          const sigv4Half = await load(node, 'caller-identity', token, sigv4.rps / 2);
          const sigv4Gc = showPauses(sigv4GcBefore, await gcPauses(node));
          const helloHalf = await run([hello.pid], { url: hello.url, kind: 'hello' }, sigv4.rps / 2);
          const callerFloor = await startCallerFloor(node);
          let floorHalf: Measured;
          try {
            const url = callerFloor.url.replace(/\/$/, '');
            floorHalf = await run(
              [callerFloor.pid],
              loadJob({ ...node, url }, 'caller-identity', token),
              sigv4.rps / 2,
            );
          } finally {
            await callerFloor.stop();
          }
          console.log(
            `round ${round}, 1 worker, GetCallerIdentity: max ${show(sigv4)}; at half (${(sigv4.rps / 2).toFixed(0)}/s): ${show(sigv4Half)}, GC pauses ${sigv4Gc}; node:http hello at that rate: ${show(helloHalf)}; the SigV4 floor: ${show(floorHalf)}`,
          );
        }
      } finally {
        await node.stop();
      }
    }
    ratios.push((max[2] ?? 0) / (max[1] ?? 1));
    // The load generator shares the cores. One worker has a core to itself; two workers, each
    // costing what one does per call, share every core with the generator: at most
    // cores × server ÷ (server + generator) times one worker, however well the workers scale.
    const one = oneWorker;
    const cores = availableParallelism();
    const bound = one ? (cores * one.cpuPerRequest) / (one.cpuPerRequest + one.generatorCpuUsPerRequest) : 0;
    console.log(
      `round ${round}: 2 workers ÷ 1 worker, web identity req/s: ${ratios.at(-1)?.toFixed(2)} (the most ${cores} cores allow with the generator's ${one?.generatorCpuUsPerRequest.toFixed(0)} µs per call beside the server's ${one?.cpuPerRequest.toFixed(0)}: ${bound.toFixed(2)})`,
    );
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(
    `median 2 ÷ 1 workers ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} over ${rounds} rounds; issued credentials without an audit record: ${lost}`,
  );
} finally {
  await Promise.all([hello.stop(), floor?.stop(), durableFloor?.stop()]);
  await idp.close();
}
process.exit(lost > 0 ? 1 : 0);
