// The load generator in its own process (so it never shares an event loop with the server): runs
// one closed-loop load described by argv[2] and prints the result as one JSON line.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { reportWindow } from '../lib/form-load.js';
import { type LoadResult, runLoad } from '../lib/load.js';

interface Job {
  url: string;
  kind: 'web-identity' | 'caller-identity' | 'hello';
  roleArn?: string;
  token?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Paced load (requests a second) instead of a closed loop. */
  ratePerSecond?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const FORM = 'application/x-www-form-urlencoded; charset=utf-8';
const target = new URL(job.url);

// SigV4 signing is synchronous in effect but exposed as a promise; pre-sign a pool and rotate through
// it, refreshing in the background, so the generator measures the server rather than its own signer.
let signed: { headers: Record<string, string>; body: string }[] = [];
async function signOne(): Promise<{ headers: Record<string, string>; body: string }> {
  const creds = job.credentials;
  if (!creds) throw new Error('credentials required');
  const signer = new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'sts', sha256: Sha256 });
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const req = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: '/',
    headers: { host: target.host, 'content-type': FORM },
    body,
  });
  const s = await signer.sign(req);
  return { headers: s.headers as Record<string, string>, body };
}

let result: LoadResult;
if (job.kind === 'caller-identity') {
  signed = await Promise.all(Array.from({ length: 256 }, signOne));
  let i = 0;
  const refresh = setInterval(() => {
    void Promise.all(Array.from({ length: 256 }, signOne)).then((fresh) => {
      signed = fresh;
    });
  }, 60_000);
  result = await runLoad({
    url: job.url,
    method: 'POST',
    build: () => signed[i++ % signed.length] ?? { headers: {}, body: '' },
    connections: job.connections,
    warmupMs: job.warmupMs,
    durationMs: job.durationMs,
    onWindow: reportWindow,
    ...(job.ratePerSecond ? { ratePerSecond: job.ratePerSecond } : {}),
  });
  clearInterval(refresh);
} else if (job.kind === 'web-identity') {
  const body = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: job.roleArn ?? '',
    RoleSessionName: 'bench',
    WebIdentityToken: job.token ?? '',
  }).toString();
  result = await runLoad({
    url: job.url,
    method: 'POST',
    build: () => ({
      headers: { 'content-type': FORM, 'content-length': String(Buffer.byteLength(body)) },
      body,
    }),
    connections: job.connections,
    warmupMs: job.warmupMs,
    durationMs: job.durationMs,
    onWindow: reportWindow,
    ...(job.ratePerSecond ? { ratePerSecond: job.ratePerSecond } : {}),
  });
} else {
  result = await runLoad({
    url: job.url,
    method: 'GET',
    build: () => ({ headers: {} }),
    connections: job.connections,
    warmupMs: job.warmupMs,
    durationMs: job.durationMs,
    onWindow: reportWindow,
    ...(job.ratePerSecond ? { ratePerSecond: job.ratePerSecond } : {}),
  });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
