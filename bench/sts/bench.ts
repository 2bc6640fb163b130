// STS benchmark: AssumeRoleWithWebIdentity with full validation and a SigV4-signed
// GetCallerIdentity on gatepass, side by side in one run with moto_server's
// AssumeRoleWithWebIdentity (which validates nothing) and a raw node:http hello server.
// Usage: npx tsx bench/sts/bench.ts [seconds-per-load]   (bounded: stops by itself)
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startTestIdp } from '../../test/helpers/idp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { freePort, startHello, startMoto } from '../lib/anchors.js';
import type { LoadResult } from '../lib/load.js';

const seconds = Number(process.argv[2] ?? 10);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('no stdout'));
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (line) => resolve(line));
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

function load(job: Record<string, unknown>): LoadResult {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      here('./load-worker.ts'),
      JSON.stringify({ connections: 16, warmupMs: 2000, durationMs: seconds * 1000, ...job }),
    ],
    {
      encoding: 'utf8',
      timeout: (seconds + 60) * 1000,
    },
  );
  return JSON.parse(out) as LoadResult;
}

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const port = await freePort();
const server = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    here('./server.ts'),
    JSON.stringify({ issuer: idp.issuer, caPem: pki.caPem, thumbprint: pki.caThumbprint, port }),
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const ready = JSON.parse(await firstLine(server)) as { url: string; accountId: string };
const token = await idp.sign(
  idp.claims({
    sub: 'organization:acme:project:Infra:workspace:net:run_phase:plan',
    exp: Math.floor(Date.now() / 1000) + 7200,
  }),
);
const roleArn = `arn:aws:iam::${ready.accountId}:role/bench`;

// One real call gives the session credentials the signed load uses.
const first = await fetch(ready.url, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: 'bench',
    WebIdentityToken: token,
  }),
});
const xml = await first.text();
const pick = (tag: string) => new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1] ?? '';
if (first.status !== 200)
  throw new Error(`AssumeRoleWithWebIdentity failed: ${first.status} ${pick('Code')}`);
const credentials = {
  accessKeyId: pick('AccessKeyId'),
  secretAccessKey: pick('SecretAccessKey'),
  sessionToken: pick('SessionToken'),
};

const results: Record<string, LoadResult | undefined> = {};
results['gatepass AssumeRoleWithWebIdentity'] = load({
  url: ready.url,
  kind: 'web-identity',
  roleArn,
  token,
});
results['gatepass GetCallerIdentity (SigV4)'] = load({
  url: ready.url,
  kind: 'caller-identity',
  credentials,
});
server.kill('SIGTERM');

const moto = await startMoto();
if (moto) {
  results['moto AssumeRoleWithWebIdentity'] = load({
    url: moto.url,
    kind: 'web-identity',
    roleArn: 'arn:aws:iam::123456789012:role/bench',
    token,
  });
  await moto.stop();
}
const hello = await startHello();
results['node:http hello (ceiling)'] = load({ url: hello.url, kind: 'hello' });
await hello.stop();
await idp.close();

const motoRps = results['moto AssumeRoleWithWebIdentity']?.rps;
const ceiling = results['node:http hello (ceiling)']?.rps ?? 0;
console.log(
  `| load (${seconds}s, 16 connections) | req/s | p50 ms | p99 ms | errors | × moto | % of ceiling |`,
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, r] of Object.entries(results)) {
  if (!r) continue;
  const vsMoto = motoRps ? (r.rps / motoRps).toFixed(1) : 'n/a';
  console.log(
    `| ${name} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${vsMoto} | ${((r.rps / ceiling) * 100).toFixed(0)}% |`,
  );
}
process.exit(0);
