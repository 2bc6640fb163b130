// Ready means ready: a real `gatepass serve` process hammered from the moment its port opens. Until
// every route is mounted, the AWS endpoint answers a retryable AWS-shaped 503, the issuer and
// /readyz a 503, and nothing answers 404; afterwards the same requests get their real answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { closedPort } from '../helpers/ports.js';

const root = new URL('../..', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request on a fresh connection; undefined while the port is not open yet. */
function attempt(
  port: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer | undefined> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNREFUSED' ? resolve(undefined) : reject(err),
    );
    req.end(body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const PROBES = [
  {
    name: 'sts',
    method: 'POST',
    path: '/',
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
    headers: FORM,
  },
  { name: 'iam-get', method: 'GET', path: '/?Action=ListRoles&Version=2010-05-08', headers: {} },
  {
    name: 'json',
    method: 'POST',
    path: '/',
    body: '{}',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSOrganizationsV20161128.ListRoots',
    },
  },
  { name: 'discovery', method: 'GET', path: '/.well-known/openid-configuration', headers: {} },
  { name: 'readyz', method: 'GET', path: '/readyz', headers: {} },
] as const;

test('a starting gatepass serve answers retryable 503s (AWS-shaped on the AWS endpoint), never 404, until every route is mounted', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatepass-startup-'));
  const port = await closedPort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', main, 'serve', '--data-dir', dataDir, '--port', String(port), '--log-level', 'error'],
    { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: dataDir }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const seen: { probe: string; answer: Answer; ready: boolean }[] = [];
  let ready = false;
  let after = 0;
  try {
    // Four clients, each cycling through every probe, as fast as the node answers.
    await Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        for (let i = client; after < 40; i++) {
          if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}`);
          const probe = PROBES[i % PROBES.length] as (typeof PROBES)[number];
          // Sent after /readyz said 200: it must get its real answer.
          const sentReady = ready;
          const answer = await attempt(
            port,
            probe.method,
            probe.path,
            'body' in probe ? probe.body : undefined,
            {
              ...probe.headers,
            },
          );
          if (answer === undefined) continue;
          if (probe.name === 'readyz' && answer.status === 200) ready = true;
          seen.push({ probe: probe.name, answer, ready: sentReady });
          if (sentReady) after++;
        }
      }),
    );
    const early = seen.filter((s) => !s.ready && s.probe !== 'readyz' && s.answer.status === 503);
    assert.deepEqual(
      seen.filter((s) => s.answer.status === 404).map((s) => s.probe),
      [],
      'no request got a 404',
    );
    assert.ok(early.length > 0, `requests reached the node before it was ready (${seen.length} answers)`);
    for (const { probe, answer } of early) {
      assert.equal(answer.headers['retry-after'], '1', probe);
      if (probe === 'sts' || probe === 'iam-get') {
        assert.match(answer.body, /<Code>ServiceUnavailable<\/Code>/, probe);
        assert.match(answer.body, /<Type>Receiver<\/Type>/, probe);
        assert.ok(answer.headers['x-amzn-requestid'], 'an AWS request id');
      } else if (probe === 'json') {
        assert.equal(JSON.parse(answer.body).__type, 'ServiceUnavailableException');
      } else {
        assert.equal(JSON.parse(answer.body).error, 'not_ready');
      }
    }
    // Before readiness nothing but 503 or a real answer; once /readyz said 200, never a 503.
    const unready = seen.filter((s) => !s.ready && s.probe !== 'readyz');
    assert.ok(unready.every((s) => s.answer.status === 503 || s.answer.status < 500));
    assert.deepEqual(
      seen.filter((s) => s.ready && s.answer.status === 503).map((s) => s.probe),
      [],
      'no 503 after /readyz said 200',
    );
    const late = seen.filter((s) => s.ready && s.probe !== 'readyz');
    assert.ok(
      late.some(
        (s) =>
          s.probe === 'sts' && s.answer.status === 403 && /MissingAuthenticationToken/.test(s.answer.body),
      ),
    );
    assert.ok(late.some((s) => s.probe === 'discovery' && s.answer.status === 200));
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
