// In-process cost of one AssumeRoleWithWebIdentity through the cloud's request handler (form, token
// verification, trust decision, sealing, audit commit, XML), without sockets or the HTTP parser, next
// to the bare RSA verification it contains. The two alternate in one process, so the ratio holds on a
// noisy machine. Usage: npx tsx bench/sts/pipeline.ts [seconds]   (bounded: stops by itself)
import { createVerify, generateKeyPairSync, sign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createCloud } from '../../src/cloud/assemble.js';
import { silentLogger } from '../../src/http/log.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { loadMasterKey } from '../../src/server/master-key.js';
import { openStore } from '../../src/store/open.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { startTestIdp } from '../../test/helpers/idp.js';
import { overrideStore, overrideTxMethod } from '../../test/helpers/store-proxy.js';
import { removeTempDir } from '../../test/helpers/temp.js';
import { makeTestPki } from '../../test/helpers/tls.js';
import { scratchDir } from '../lib/scratch.js';
import { applyBenchSetup, BENCH_ACCOUNT, benchToken, runTokenClaims } from './gatepass.js';

const seconds = Number(process.argv[2] ?? 4);
const cli = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

const pki = makeTestPki();
const idp = await startTestIdp(pki);
await idp.addKey('bench', 'RS256');
const dataDir = scratchDir('gatepass-pipeline-');
applyBenchSetup(dataDir, idp, pki, ['--import', 'tsx', cli]);
const store = await openStore({ dataDir });
// CPU spent in audit commits, to tell the per-commit cost from the rest of the pipeline. A run's
// first call commits its run's binding with the audit events in one transaction (AuditLog.commitWith):
// those commits are counted too, their events through the transaction's own appendAudit.
const audit = { cpu: 0, commits: 0, events: 0 };
const skipAudit = Boolean(process.env.PIPELINE_NO_AUDIT);
const timed = async (commit: () => Promise<void>): Promise<void> => {
  const c = process.cpuUsage();
  await commit();
  const d = process.cpuUsage(c);
  audit.cpu += d.user + d.system;
  audit.commits += 1;
};
/** Appends events, counted (and left out with PIPELINE_NO_AUDIT). */
const counted =
  (append: (events: AuditEvent[]) => Promise<void>) =>
  async (events: AuditEvent[]): Promise<void> => {
    audit.events += events.length;
    if (!skipAudit) await append(events);
  };
// Inside a transaction (a run's binding with its turn's events) and on its own, each commit timed.
const withinTransactions = overrideTxMethod(store, 'appendAudit', (tx) => counted((e) => tx.appendAudit(e)));
const measured = overrideStore(withinTransactions, (prop, real) => {
  if (prop === 'appendAudit')
    return (events: AuditEvent[]) => timed(() => counted((e) => real(e) as Promise<void>)(events));
  if (prop !== 'transaction') return undefined;
  return async (fn: unknown) => {
    let result: unknown;
    await timed(async () => {
      result = await real(fn);
    });
    return result;
  };
});
const cloud = await createCloud({
  store: measured,
  masterKey: loadMasterKey({ dataDir }),
  clock: systemClock,
  random: cryptoRandom,
  log: silentLogger,
  bodyLimitBytes: 1 << 20,
  extraCa: [pki.caPem],
});
const token = await benchToken(idp);
const formOf = (webIdentityToken: string): Buffer =>
  Buffer.from(
    new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: `arn:aws:iam::${BENCH_ACCOUNT}:role/bench`,
      RoleSessionName: 'bench',
      WebIdentityToken: webIdentityToken,
    }).toString(),
  );
const body = formOf(token);
// PIPELINE_NEW_RUNS=N: every call a run's first (N tokens of distinct runs, signed up front and
// used in turn), as when many runs start at once; by default every call is the same run's.
const newRuns = Number(process.env.PIPELINE_NEW_RUNS ?? 0);
const runBodies: Buffer[] = [];
for (let i = 0; i < newRuns; i++) {
  const claims = runTokenClaims(idp);
  // As long as the default run id, so every form has the length the headers below give.
  const runId = `run-GpBenchN${String(i).padStart(9, '0')}`;
  runBodies.push(formOf(await idp.sign({ ...claims, terraform_run_id: runId })));
}
const rawHeaders = [
  'Host',
  '127.0.0.1',
  'Content-Type',
  'application/x-www-form-urlencoded; charset=utf-8',
  'Content-Length',
  String(body.length),
  'User-Agent',
  'pipeline-bench',
];
const headers = {
  host: '127.0.0.1',
  'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
  'content-length': String(body.length),
  'user-agent': 'pipeline-bench',
};

let status = 0;
async function once(n: number): Promise<void> {
  const req = Object.assign(Readable.from([newRuns > 0 ? (runBodies[n % newRuns] as Buffer) : body]), {
    url: '/',
    method: 'POST',
    headers,
    rawHeaders,
  }) as unknown as IncomingMessage;
  const res = {
    writeHead(s: number) {
      status = s;
      return res;
    },
    end() {},
    setHeader() {},
  } as unknown as ServerResponse;
  await cloud.handler(req, res, {
    requestId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    log: silentLogger,
    remoteAddress: '127.0.0.1',
    secure: false,
    startedAt: Date.now(),
    path: '/',
  });
  if (status !== 200) throw new Error(`status ${status}`);
}

// The reference: the RSA-2048 verification alone, as the pipeline performs it once per call.
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingInput = Buffer.from(token.split('.').slice(0, 2).join('.'));
const signature = sign('sha256', signingInput, privateKey);
const rsa = (): void => {
  if (!createVerify('sha256').update(signingInput).verify(publicKey, signature)) throw new Error('rsa');
};

// PIPELINE_CONCURRENCY calls in flight (16, as the HTTP bench's connections, by default): the audit
// group commit batches what arrives together. PIPELINE_NO_AUDIT=1 skips the commits.
const concurrency = Number(process.env.PIPELINE_CONCURRENCY ?? 16);
let n = 0;
async function pipelineRound(): Promise<void> {
  await Promise.all(Array.from({ length: concurrency }, () => once(n++)));
}
const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
for (let i = 0; i < 200; i++) await pipelineRound();
for (let i = 0; i < 2000; i++) rsa();
audit.cpu = 0;
audit.commits = 0;
audit.events = 0;
const totals = { pipeline: 0, pipelineCalls: 0, rsa: 0, rsaCalls: 0, wall: 0 };
const deadline = Date.now() + seconds * 1000;
while (Date.now() < deadline) {
  let c = cpu();
  const w = performance.now();
  for (let i = 0; i < 20; i++) await pipelineRound();
  totals.pipeline += cpu() - c;
  totals.wall += performance.now() - w;
  totals.pipelineCalls += 20 * concurrency;
  c = cpu();
  for (let i = 0; i < 320; i++) rsa();
  totals.rsa += cpu() - c;
  totals.rsaCalls += 320;
}
const perCall = totals.pipeline / totals.pipelineCalls;
const perRsa = totals.rsa / totals.rsaCalls;
const per = (x: number, d: number): string => (x / Math.max(1, d)).toFixed(1);
console.log(
  `audit: ${per(audit.events, audit.commits)} events per commit, ${per(audit.cpu, audit.commits)} µs CPU per commit, ${per(audit.cpu, audit.events)} µs per event`,
);
console.log(
  `pipeline ${perCall.toFixed(1)} µs CPU/call (wall ${per(totals.wall * 1000, totals.pipelineCalls)}), RSA verify ${perRsa.toFixed(1)} µs, ratio ${(perCall / perRsa).toFixed(2)} (${totals.pipelineCalls} calls)`,
);
await cloud.stop();
await store.close();
await idp.close();
removeTempDir(dataDir);
process.exit(0);
