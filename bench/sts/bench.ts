// STS benchmark: AssumeRoleWithWebIdentity with full validation and a SigV4-signed
// GetCallerIdentity on gatepass, side by side in one run with moto_server's
// AssumeRoleWithWebIdentity (which validates nothing) and a raw node:http hello server.
// gatepass runs as users run it: the compiled CLI (`npm run build` first), set up with
// `gatepass apply` and started with `gatepass serve`, in its own process.
// Usage: npx tsx bench/sts/bench.ts [seconds-per-load]   (bounded: stops by itself)
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assumeWithWebIdentity } from '../../test/cluster/helpers.js';
import { startTestIdp } from '../../test/helpers/idp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { freePort, startHello, startMoto } from '../lib/anchors.js';
import { cpuMs } from '../lib/cpu.js';
import { spawnLoad } from '../lib/form-load.js';
import type { LoadResult } from '../lib/load.js';

const seconds = Number(process.argv[2] ?? 10);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
// BENCH_CLI points at another build's main.js (to compare two builds in alternating runs).
const cli = process.env.BENCH_CLI ?? fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
if (!existsSync(cli)) throw new Error('build first: npm run build');
const ACCOUNT = '111111111111';

type Measured = LoadResult & { cpuUsPerRequest: number };

/** One load from its own process, with the serving process's CPU time over the measured window. */
async function load(job: Record<string, unknown>, servingPid: number): Promise<Measured> {
  const cpu: Record<'start' | 'end', number> = { start: 0, end: 0 };
  const r = await spawnLoad(
    here('./load-worker.ts'),
    { connections: 16, warmupMs: 2000, durationMs: seconds * 1000, ...job },
    2000 + seconds * 1000,
    (edge) => {
      cpu[edge] = cpuMs([servingPid]);
    },
  );
  return { ...r, cpuUsPerRequest: r.requests > 0 ? ((cpu.end - cpu.start) * 1000) / r.requests : 0 };
}

async function waitHealthy(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`gatepass exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('gatepass did not come up');
}

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const host = idp.issuer.replace(/^https:\/\//, '');
const dataDir = mkdtempSync(join(tmpdir(), 'gatepass-bench-'));
writeFileSync(join(dataDir, 'idp-ca.pem'), pki.caPem);
writeFileSync(
  join(dataDir, 'setup.yaml'),
  `accounts:
  - name: hub
    id: "${ACCOUNT}"
    oidcProviders: [{ url: "${idp.issuer}", clientIds: [aws.workload.identity], thumbprints: [${pki.caThumbprint}] }]
    roles:
      - name: bench
        inlinePolicies: { read: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "iam:Get*", Resource: "*" }] } }
        trustPolicy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { Federated: "arn:aws:iam::${ACCOUNT}:oidc-provider/${host}" }
              Action: sts:AssumeRoleWithWebIdentity
              Condition:
                StringEquals: { "${host}:aud": aws.workload.identity }
                StringLike: { "${host}:sub": "organization:acme:project:*:workspace:*:run_phase:*" }
`,
);
execFileSync(process.execPath, [cli, 'apply', '-f', join(dataDir, 'setup.yaml'), '--data-dir', dataDir], {
  stdio: 'ignore',
});
const port = await freePort();
// BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the gatepass server (open it in Chrome DevTools).
// BENCH_NODE_FLAGS adds node flags to the server (e.g. --perf-basic-prof for `perf record`).
const profile = [
  ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
  ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
];
const server = spawn(
  process.execPath,
  [
    ...profile,
    cli,
    'serve',
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--oidc-ca-file',
    join(dataDir, 'idp-ca.pem'),
    '--log-level',
    process.env.BENCH_LOG_LEVEL ?? 'error',
    '--workers',
    '1',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
// Never leave the server behind, whatever fails below.
const stopServer = (): void => {
  if (server.exitCode === null) server.kill('SIGTERM');
};
process.on('exit', stopServer);
const url = `http://127.0.0.1:${port}`;
await waitHealthy(url, server);
const token = await idp.sign(
  idp.claims({
    sub: 'organization:acme:project:Infra:workspace:net:run_phase:plan',
    exp: Math.floor(Date.now() / 1000) + 7200,
  }),
);
const roleArn = `arn:aws:iam::${ACCOUNT}:role/bench`;

// One real call gives the session credentials the signed load uses.
const credentials = await assumeWithWebIdentity(url, roleArn, token);
if (!credentials) throw new Error('the first AssumeRoleWithWebIdentity was refused');

console.error('gatepass ready; loading');
const results: Record<string, Measured | undefined> = {};
// BENCH_ONLY=web-identity|caller-identity|healthz runs one gatepass load (to profile it alone).
const only = process.env.BENCH_ONLY;
if (!only || only === 'web-identity') {
  results['gatepass AssumeRoleWithWebIdentity'] = await load(
    { url: `${url}/`, kind: 'web-identity', roleArn, token },
    server.pid ?? 0,
  );
}
if (!only || only === 'caller-identity') {
  results['gatepass GetCallerIdentity (SigV4)'] = await load(
    { url: `${url}/`, kind: 'caller-identity', credentials },
    server.pid ?? 0,
  );
}
// The server's own floor: the smallest route through the same front door (request id, logging,
// metrics), to tell the HTTP layer's cost from the STS pipeline's.
if (only === 'healthz') {
  results['gatepass GET /healthz'] = await load({ url: `${url}/healthz`, kind: 'hello' }, server.pid ?? 0);
}
if (server.exitCode === null) {
  const exited = new Promise((r) => server.once('exit', r));
  stopServer();
  await exited;
}
rmSync(dataDir, { recursive: true, force: true });

// BENCH_ANCHORS=0 skips moto and the raw server (A/B runs of two builds compare CPU per request).
const anchors = process.env.BENCH_ANCHORS !== '0';
const moto = anchors ? await startMoto() : undefined;
if (moto) {
  results['moto AssumeRoleWithWebIdentity'] = await load(
    { url: moto.url, kind: 'web-identity', roleArn: 'arn:aws:iam::123456789012:role/bench', token },
    moto.pid,
  );
  await moto.stop();
}
if (anchors) {
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
process.exit(0);
