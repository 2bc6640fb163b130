// Two builds of gatepass measured at the same time: one node from each build, each under its own
// closed-loop load, both loads in the same window, so whatever else the machine does lands on both
// alike. Prints each round's CPU µs per request of both servers and the median ratio B/A, the figure
// to trust on a shared machine when a change is worth a few percent.
// Usage: npx tsx bench/sts/compare.ts <A/dist/src/cli/main.js> <B/dist/src/cli/main.js> [web-identity|caller-identity] [rounds] [seconds]
import { fileURLToPath } from 'node:url';
import { startTestIdp } from '../../test/helpers/idp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { cpuMs } from '../lib/cpu.js';
import { spawnLoad } from '../lib/form-load.js';
import { type BenchNode, benchToken, startBenchNode } from './gatepass.js';

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
  const cpuPerRequest = async (node: BenchNode): Promise<number> => {
    const cpu = { start: 0, end: 0 };
    const job =
      kind === 'web-identity'
        ? { url: `${node.url}/`, kind, roleArn: node.roleArn, token }
        : { url: `${node.url}/`, kind, credentials: node.credentials };
    const r = await spawnLoad(
      worker,
      { connections: 8, warmupMs: 2000, durationMs: seconds * 1000, ...job },
      2000 + seconds * 1000,
      (edge) => {
        cpu[edge] = cpuMs([node.pid]);
      },
    );
    if (r.errors > 0 || r.requests === 0) throw new Error(`${r.errors} errors of ${r.requests} requests`);
    return ((cpu.end - cpu.start) * 1000) / r.requests;
  };
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const [a, b] = await Promise.all(nodes.map(cpuPerRequest));
    ratios.push((b ?? 0) / (a ?? 1));
    console.log(
      `round ${i + 1}: A ${a?.toFixed(0)} µs/req, B ${b?.toFixed(0)} µs/req, B/A ${ratios.at(-1)?.toFixed(3)}`,
    );
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  console.log(
    `${kind}: median B/A ${sorted[Math.floor(sorted.length / 2)]?.toFixed(3)} over ${rounds} rounds`,
  );
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
  await idp.close();
}
process.exit(0);
