// Issue 23's two per-core targets, measured in rounds so the machine's drift lands on gatepass and
// its anchor alike: AssumeRoleWithWebIdentity (durable audit) against the verification floor, and
// GetCallerIdentity against the node:http hello (the ceiling). All four servers stay up (an idle one
// costs nothing); each round loads every pair back to back, the order swapped every other round.
// A round's ratio is the anchor's CPU per call over gatepass's: gatepass's req/s per core as a share
// of the anchor's. Prints each round, then the medians and whether each target (≥ 60%) is met.
// bench.ts measures each anchor once per run; on this shared machine an anchor alone moved by a third
// between runs, and the ratio with it.
// Usage: npx tsx bench/sts/targets.ts [seconds-per-load] [rounds]   (4 s and 5 rounds by default;
// bounded: every load stops by itself)
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
  startFloor,
} from './gatepass.js';

const seconds = Math.min(60, Math.max(1, Number(process.argv[2] ?? 4)));
const rounds = Math.min(20, Math.max(1, Number(process.argv[3] ?? 5)));
const cli = process.env.BENCH_CLI ?? fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const TARGET = 0.6;

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const token = await benchToken(idp);
const node = await startBenchNode(cli, idp, pki, token);
const floor = await startFloor(idp, pki, await answerBytes(node, token));
const hello = await startHello();

interface Pair {
  name: string;
  gatepass: () => Promise<Measured>;
  anchor: () => Promise<Measured>;
}
const pairs: Pair[] = [
  {
    name: 'web identity ÷ floor',
    gatepass: () => measureLoad(loadJob(node, 'web-identity', token), node.pid, seconds),
    anchor: () =>
      measureLoad({ url: floor.url, kind: 'web-identity', roleArn: node.roleArn, token }, floor.pid, seconds),
  },
  {
    name: 'GetCallerIdentity ÷ ceiling',
    gatepass: () => measureLoad(loadJob(node, 'caller-identity', token), node.pid, seconds),
    anchor: () => measureLoad({ url: hello.url, kind: 'hello' }, hello.pid, seconds),
  },
];

const measured: { gatepass: Measured; anchor: Measured }[][] = pairs.map(() => []);
try {
  for (let round = 0; round < rounds; round++) {
    for (const [i, pair] of pairs.entries()) {
      const first = round % 2 === 0 ? pair.gatepass : pair.anchor;
      const second = round % 2 === 0 ? pair.anchor : pair.gatepass;
      const a = await first();
      const b = await second();
      const [gatepass, anchor] = round % 2 === 0 ? [a, b] : [b, a];
      for (const m of [gatepass, anchor]) {
        if (m.errors > 0 || m.requests === 0) throw new Error(`${pair.name}: ${m.errors} errors`);
      }
      measured[i]?.push({ gatepass, anchor });
      console.error(
        `round ${round + 1}: ${pair.name} ${(anchor.cpuUsPerRequest / gatepass.cpuUsPerRequest).toFixed(3)}`,
      );
    }
  }
} finally {
  await Promise.all([node.stop(), floor.stop(), hello.stop()]);
  await idp.close();
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
console.log(
  `| target (${seconds} s per load) | round: gatepass µs / anchor µs per call → ratio | median ratio | met (≥ 60%) |`,
);
console.log('|---|---|---:|---|');
for (const [i, pair] of pairs.entries()) {
  const rows = measured[i] ?? [];
  const ratios = rows.map((r) => r.anchor.cpuUsPerRequest / r.gatepass.cpuUsPerRequest);
  const cells = rows
    .map(
      (r, k) =>
        `${r.gatepass.cpuUsPerRequest.toFixed(0)} / ${r.anchor.cpuUsPerRequest.toFixed(0)} → ${pct(ratios[k] ?? 0)}`,
    )
    .join('; ');
  const m = median(ratios);
  const met = ratios.filter((r) => r >= TARGET).length;
  console.log(
    `| ${pair.name} | ${cells} | **${pct(m)}** | ${m >= TARGET ? 'yes' : 'no'} (${met} of ${rows.length} rounds) |`,
  );
}
process.exit(0);
