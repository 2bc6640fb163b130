// A gatepass node for the STS benchmarks, run as users run it: the compiled CLI sets it up with
// `gatepass apply` (one hub account, an OIDC provider for a test IdP trusted by CA, a role whose
// trust policy pins aud and sub) and serves it with `gatepass serve --workers 1`, one process (or
// more workers when asked).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpsGet } from '../../src/cloud/oidc/https-get.js';
import { assumeWithWebIdentity } from '../../test/cluster/helpers.js';
import type { TestIdp } from '../../test/helpers/idp.js';
import { removeTempDir } from '../../test/helpers/temp.js';
import type { TestPki } from '../../test/helpers/tls.js';
import { httpRequest, type Reply } from '../../test/server/helpers.js';
import { type Anchor, freePort, startSigv4Floor, startVerifyFloor } from '../lib/anchors.js';
import { cpuMs, withChildren } from '../lib/cpu.js';
import { spawnLoad } from '../lib/form-load.js';
import type { LoadResult } from '../lib/load.js';
import { scratchDir } from '../lib/scratch.js';
import { signedCallerIdentity } from './requests.js';

export const BENCH_ACCOUNT = '111111111111';

export interface BenchNode {
  url: string;
  pid: number;
  /** The data directory (its SQLite file holds the audit log). */
  dataDir: string;
  roleArn: string;
  /** Session credentials from one real AssumeRoleWithWebIdentity, for the signed load. */
  credentials: NonNullable<Awaited<ReturnType<typeof assumeWithWebIdentity>>>;
  stop(): Promise<void>;
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

/**
 * With more than one worker, /readyz answers once the first is up, and the others start after it.
 * A load's keep-alive connections stay on the worker that was handed each, so a load begun before
 * every worker listens runs on fewer (seen: all 16 on one of two). Wait until `workers` worker
 * processes exist and have gone quiet: one starting spends its CPU loading, one waiting for requests
 * next to none (the test is at most one 10 ms tick in 200 ms).
 */
async function workersSettled(pid: number, workers: number): Promise<void> {
  let before = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = new Map(
      withChildren(pid)
        .slice(1)
        .map((child) => [child, cpuMs([child])] as const),
    );
    const quiet = [...now].every(([child, ms]) => ms - (before.get(child) ?? Number.NEGATIVE_INFINITY) <= 10);
    if (now.size >= workers && quiet) return;
    before = now;
  }
  throw new Error(`the ${workers} workers did not settle within a minute`);
}

/**
 * Write the bench setup into `dataDir` and apply it with the CLI `command` runs (`[main.js]` for a
 * build, `['--import', 'tsx', 'src/cli/main.ts']` for the sources).
 */
export function applyBenchSetup(
  dataDir: string,
  idp: TestIdp,
  pki: TestPki,
  command: readonly string[],
): void {
  const host = idp.issuer.replace(/^https:\/\//, '');
  writeFileSync(join(dataDir, 'idp-ca.pem'), pki.caPem);
  writeFileSync(
    join(dataDir, 'setup.yaml'),
    `accounts:
  - name: hub
    id: "${BENCH_ACCOUNT}"
    oidcProviders: [{ url: "${idp.issuer}", clientIds: [aws.workload.identity], thumbprints: [${pki.caThumbprint}] }]
    roles:
      - name: bench
        inlinePolicies: { read: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "iam:Get*", Resource: "*" }] } }
        trustPolicy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { Federated: "arn:aws:iam::${BENCH_ACCOUNT}:oidc-provider/${host}" }
              Action: sts:AssumeRoleWithWebIdentity
              Condition:
                StringEquals: { "${host}:aud": aws.workload.identity }
                StringLike: { "${host}:sub": "organization:acme:project:*:workspace:*:run_phase:*" }
`,
  );
  execFileSync(
    process.execPath,
    [...command, 'apply', '-f', join(dataDir, 'setup.yaml'), '--data-dir', dataDir],
    {
      stdio: 'ignore',
    },
  );
}

/** Set up and start one node from the build whose CLI is `cli` (`dist/src/cli/main.js`). */
export async function startBenchNode(
  cli: string,
  idp: TestIdp,
  pki: TestPki,
  token: string,
  nodeFlags: readonly string[] = [],
  /** Where the data directory goes (a temp dir on the machine's disk unless told otherwise). */
  parentDir: string = tmpdir(),
  workers = 1,
): Promise<BenchNode> {
  if (!existsSync(cli)) throw new Error(`no build at ${cli}: npm run build`);
  const dataDir = scratchDir('gatepass-bench-', parentDir);
  applyBenchSetup(dataDir, idp, pki, [cli]);
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      ...nodeFlags,
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
      String(workers),
    ],
    { stdio: ['ignore', process.env.BENCH_SERVER_STDOUT ? 'inherit' : 'ignore', 'inherit'] },
  );
  // Never leave the server behind, whatever fails later.
  const kill = (): void => {
    if (server.exitCode === null) server.kill('SIGTERM');
  };
  process.on('exit', kill);
  const stop = async (): Promise<void> => {
    if (server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      kill();
      await exited;
    }
    removeTempDir(dataDir);
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, server);
    if (workers > 1) await workersSettled(server.pid ?? 0, workers);
    const roleArn = `arn:aws:iam::${BENCH_ACCOUNT}:role/bench`;
    const credentials = await assumeWithWebIdentity(url, roleArn, token);
    if (!credentials) throw new Error('the first AssumeRoleWithWebIdentity was refused');
    return { url, pid: server.pid ?? 0, dataDir, roleArn, credentials, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The claims of a run's token as HCP Terraform (and gatepass's issuer) sign them, valid for two
 * hours: with its run id, so every call checks the run's revocation as a real one does.
 */
export function runTokenClaims(idp: TestIdp): ReturnType<TestIdp['claims']> {
  return idp.claims({
    sub: 'organization:acme:project:Infra:workspace:net:run_phase:plan',
    exp: Math.floor(Date.now() / 1000) + 7200,
    terraform_organization_id: 'org-GpBench4xKq2VnS8e',
    terraform_organization_name: 'acme',
    terraform_project_id: 'prj-GpBench7rTz1WcM3d',
    terraform_project_name: 'Infra',
    terraform_workspace_id: 'ws-GpBench9aLm5QxE2u',
    terraform_workspace_name: 'net',
    terraform_full_workspace: 'organization:acme:project:Infra:workspace:net',
    terraform_run_id: 'run-GpBench3hYw8NkP6f',
    terraform_run_phase: 'plan',
  });
}

/** A token for the bench role's trust policy (runTokenClaims). */
export function benchToken(idp: TestIdp): Promise<string> {
  return idp.sign(runTokenClaims(idp));
}

/** What `load-worker.ts` needs to load `node` with one kind of call. */
export function loadJob(node: BenchNode, kind: 'web-identity' | 'caller-identity', token: string) {
  return kind === 'web-identity'
    ? { url: `${node.url}/`, kind, roleArn: node.roleArn, token }
    : { url: `${node.url}/`, kind, credentials: node.credentials };
}

/** How many bytes `node` answers an AssumeRoleWithWebIdentity with (the floor answers as many). */
export async function answerBytes(node: BenchNode, token: string): Promise<number> {
  const sample = await fetch(`${node.url}/`, {
    method: 'POST',
    body: new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: node.roleArn,
      RoleSessionName: 'bench',
      WebIdentityToken: token,
    }),
  });
  return (await sample.arrayBuffer()).byteLength;
}

/**
 * The verification floor: a raw node:http server that checks the same token against the issuer's
 * published key (fetched as gatepass fetches it: HTTPS, trusted by the test CA) and answers
 * `responseBytes`, so it pays the same socket writes as gatepass. `durable`: the durable floor, which
 * also commits and syncs a row per call to a SQLite file before answering, in a temp dir beside
 * gatepass's data directory (so on the same disk), removed when it stops.
 */
export async function startFloor(
  idp: TestIdp,
  pki: TestPki,
  responseBytes: number,
  options: { durable?: boolean } = {},
): Promise<Anchor> {
  const jwks = await httpsGet(
    `${idp.issuer}/.well-known/jwks`,
    { thumbprints: [], ca: [pki.caPem] },
    { timeoutMs: 5000, maxBytes: 1 << 20 },
  );
  const [jwk] = (JSON.parse(jwks.body) as { keys: object[] }).keys;
  if (!jwk) throw new Error('the bench issuer published no key');
  if (!options.durable) return startVerifyFloor(jwk, responseBytes);
  const dir = scratchDir('gatepass-floor-');
  try {
    const anchor = await startVerifyFloor(jwk, responseBytes, join(dir, 'floor.db'));
    return {
      ...anchor,
      stop: async () => {
        await anchor.stop();
        removeTempDir(dir);
      },
    };
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
}

/** One signed GetCallerIdentity to `node` with its bench credentials. */
async function callerIdentityAnswer(node: BenchNode): Promise<Reply> {
  const { method, headers, body } = await signedCallerIdentity(`${node.url}/`, node.credentials);
  return httpRequest(`${node.url}/`, { method, headers, body });
}

/**
 * The SigV4 floor: a raw node:http server that verifies the signature of the same signed requests
 * with `node`'s bench session key (given on its standard input) and answers as many bytes as `node`
 * answers a GetCallerIdentity.
 */
export async function startCallerFloor(node: BenchNode): Promise<Anchor> {
  const sample = await callerIdentityAnswer(node);
  if (sample.status !== 200) throw new Error(`GetCallerIdentity answered ${sample.status}`);
  const { accessKeyId, secretAccessKey } = node.credentials;
  return startSigv4Floor({ [accessKeyId]: secretAccessKey }, Buffer.byteLength(sample.body));
}

/** Garbage-collection pauses so far, by kind, from the node's own metrics (prom-client's defaults). */
export interface GcPauses {
  [kind: string]: { count: number; seconds: number };
}

export async function gcPauses(node: BenchNode): Promise<GcPauses> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const pauses: GcPauses = {};
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} ([\d.e+-]+)$/gm)) {
    const [, field, kind, value] = m as unknown as [string, 'sum' | 'count', string, string];
    pauses[kind] ??= { count: 0, seconds: 0 };
    const entry = pauses[kind];
    if (field === 'sum') entry.seconds = Number(value);
    else entry.count = Number(value);
  }
  return pauses;
}

/** The pauses between two readings, e.g. `minor 42 × 3.1 ms` for each kind that paused. */
export function showPauses(before: GcPauses, after: GcPauses): string {
  const parts: string[] = [];
  for (const [kind, a] of Object.entries(after)) {
    const count = a.count - (before[kind]?.count ?? 0);
    if (count > 0)
      parts.push(
        `${kind} ${count} × ${(((a.seconds - (before[kind]?.seconds ?? 0)) / count) * 1000).toFixed(1)} ms`,
      );
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** A load's result with the serving process's CPU time per request over the measured window. */
export type Measured = LoadResult & { cpuUsPerRequest: number };

const LOAD_WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/**
 * One closed-loop load (16 connections, 2 s of warm-up, then `seconds`) from its own process, with
 * the CPU time of `servingPid` over the measured window.
 */
export async function measureLoad(
  job: Record<string, unknown>,
  servingPid: number,
  seconds: number,
): Promise<Measured> {
  const cpu: Record<'start' | 'end', number> = { start: 0, end: 0 };
  const r = await spawnLoad(
    LOAD_WORKER,
    { connections: 16, warmupMs: 2000, durationMs: seconds * 1000, ...job },
    2000 + seconds * 1000,
    (edge) => {
      cpu[edge] = cpuMs([servingPid]);
    },
  );
  return { ...r, cpuUsPerRequest: r.requests > 0 ? ((cpu.end - cpu.start) * 1000) / r.requests : 0 };
}
