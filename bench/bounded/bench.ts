// Bounded soak: a real `gatepass serve` (the CLI from source with tsx) takes N requests in which
// every action name, path, header, user agent, parameter and access key is new junk, and the node's
// resident memory, /metrics size, metric series and log line lengths are sampled as it goes. Flat
// figures (after ÷ before, the anchor being the same node after a warm-up in the same run) mean
// nothing a client sends is kept per request.
//
//   node --import tsx bench/bounded/bench.ts [requests=100000] [--root DIR] [--actions-only]
//
// `--actions-only` sends only the reproduction: unsigned POSTs, each with a different
// 2,000-character unknown Action.
// `--root DIR` runs the CLI of another checkout (e.g. an older commit unpacked with `git archive`,
// node_modules linked) to measure it the same way. Bounded: it stops after N requests.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join, resolve } from 'node:path';
import { removeTempDir } from '../../test/helpers/temp.js';
import { freePort } from '../lib/anchors.js';
import { scratchDir } from '../lib/scratch.js';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 ? resolve(args[rootAt + 1] ?? '.') : new URL('../..', import.meta.url).pathname;
const total = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--root') ?? 100_000);
const actionsOnly = args.includes('--actions-only');
const WARMUP = Math.min(5_000, Math.floor(total / 10));
const CONNECTIONS = 16;
const SAMPLES = 5;

const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  retried = false,
): Promise<{ status: number; body: string }> {
  return new Promise<{ status: number; body: string }>((res, rej) => {
    const r = request({ host: '127.0.0.1', port, method, path, headers, agent }, (s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => res({ status: s.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    r.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed as it was reused: send once more on a new one.
      if (err.code === 'ECONNRESET' && !retried && !r.reusedSocket) rej(err);
      else if (err.code === 'ECONNRESET' && !retried)
        send(port, method, path, headers, body, true).then(res, rej);
      else rej(err);
    });
    r.end(body);
  });
}

/** New junk for every request: `len` characters that depend on `i` and `salt`. */
const junk = (i: number, salt: string, len: number): string =>
  `${salt}${i.toString(36)}q`.repeat(Math.ceil(len / 4)).slice(0, len);
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const fakeKey = (i: number, prefix: string): string =>
  prefix + Array.from({ length: 16 }, (_, k) => B32[(i * 7919 + k * 104_729 + (i >> k)) % 32]).join('');

/** The i-th hostile request: every name and value in it is new. */
function junkRequest(port: number, i: number) {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const headers: Record<string, string> = {
    'user-agent': junk(i, 'ua', 1500),
    [`x-junk-${i.toString(36)}`]: junk(i, 'h', 800),
  };
  switch (actionsOnly ? 0 : i % 5) {
    case 0: // an unknown 2,000-character action
      return send(
        port,
        'POST',
        '/',
        { ...form, ...headers },
        `Action=${junk(i, 'A', 2000)}&Version=2011-06-15`,
      );
    case 1: // a junk path
      return send(port, 'GET', `/${junk(i, 'p', 1500)}`, headers);
    case 2: // a known action, junk parameters, signed by a key that does not exist
      return send(
        port,
        'POST',
        '/',
        {
          ...form,
          ...headers,
          authorization: `AWS4-HMAC-SHA256 Credential=${fakeKey(i, 'AKIA')}/20261206/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
          'x-amz-date': '20261206T000000Z',
        },
        `Action=GetCallerIdentity&Version=2011-06-15&${junk(i, 'k', 60)}=${junk(i, 'v', 2000)}`,
      );
    case 3: // an unknown action in a GET query string, with a made-up session token
      return send(port, 'GET', `/?Action=${junk(i, 'G', 1500)}&Version=2010-05-08`, {
        ...headers,
        'x-amz-security-token': junk(i, 't', 1000),
      });
    default: // an issuer API path nobody defined
      return send(
        port,
        'POST',
        `/api/v1/${junk(i, 'i', 800)}`,
        { ...headers, 'content-type': 'application/json' },
        '{}',
      );
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** The node process itself (the CLI's own pid: tsx loads in-process with --import). */
async function sample(port: number, pid: number, sent: number, logFile: string) {
  const metrics = await send(port, 'GET', '/metrics', {});
  const series = metrics.body.split('\n').filter((l) => l.startsWith('gatepass_http_requests_total{')).length;
  const log = readFileSync(logFile, 'utf8');
  const lines = log.split('\n').filter((l) => l !== '');
  return {
    sent,
    rssMb: rssMb(pid),
    metricsBytes: metrics.body.length,
    series,
    maxLogLine: lines.reduce((max, l) => Math.max(max, l.length), 0),
    logBytesPerLine: Math.round(log.length / lines.length),
  };
}

async function waitReady(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`gatepass exited with ${child.exitCode}`);
    try {
      if ((await send(port, 'GET', '/readyz', {})).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('gatepass did not become ready');
}

async function drive(port: number, from: number, to: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = from;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (next < to) {
        const { status } = await junkRequest(port, next++);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

const dataDir = scratchDir('gatepass-bounded-');
const logFile = join(dataDir, 'serve.log');
const port = await freePort();
const logFd = openSync(logFile, 'w');
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    join(root, 'src/cli/main.ts'),
    'serve',
    '--data-dir',
    join(dataDir, 'data'),
    '--port',
    String(port),
  ],
  { cwd: root, stdio: ['ignore', 'ignore', logFd], env: { PATH: process.env.PATH ?? '', HOME: dataDir } },
);
// Stopped by a signal or an error, the benchmark takes its server with it (test/helpers/temp.ts exits on signals).
process.on('exit', () => {
  if (child.exitCode === null) child.kill('SIGTERM');
});
closeSync(logFd);
try {
  await waitReady(port, child);
  const pid = child.pid as number;
  await drive(port, 0, WARMUP);
  const rows = [await sample(port, pid, WARMUP, logFile)];
  const statuses = new Map<number, number>();
  const started = Date.now();
  for (let s = 1; s <= SAMPLES; s++) {
    const from = WARMUP + Math.floor(((s - 1) * total) / SAMPLES);
    const to = WARMUP + Math.floor((s * total) / SAMPLES);
    for (const [k, v] of await drive(port, from, to)) statuses.set(k, (statuses.get(k) ?? 0) + v);
    rows.push(await sample(port, pid, to, logFile));
  }
  const seconds = (Date.now() - started) / 1000;
  const first = rows[0] as (typeof rows)[number];
  const last = rows.at(-1) as (typeof rows)[number];
  console.log(
    `\n${total.toLocaleString('en')} junk requests after a ${WARMUP.toLocaleString('en')}-request warm-up, ${CONNECTIONS} keep-alive connections, ${Math.round(total / seconds)} req/s; statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`,
  );
  console.log(
    '| requests sent | resident memory | /metrics | request series | longest log line | log bytes per line |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.sent.toLocaleString('en')} | ${r.rssMb.toFixed(0)} MB | ${r.metricsBytes.toLocaleString('en')} B | ${r.series} | ${r.maxLogLine.toLocaleString('en')} | ${r.logBytesPerLine} |`,
    );
  console.log(
    `\nafter ÷ after warm-up: resident memory ${(last.rssMb / first.rssMb).toFixed(2)}×, /metrics ${(last.metricsBytes / first.metricsBytes).toFixed(2)}×, series ${last.series} vs ${first.series}`,
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  agent.destroy();
  removeTempDir(dataDir);
}
