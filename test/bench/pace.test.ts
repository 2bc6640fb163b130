// The C load generator that bench/sts/workers.ts measures p99 and two workers with: what it sends,
// what it counts, and that a paced request's latency runs from its slot, so a server that falls
// behind cannot hide it (the requests queued behind a stall are what a p99 at a set rate is about).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { LoadResult } from '../../bench/lib/load.js';
import { type PaceSpec, paceBinary, paceLoad } from '../../bench/lib/pace.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

/** One load from pace against a loopback server answering with `handler` (a bare GET unless told). */
async function paceAgainst(handler: Handler, spec: Partial<Omit<PaceSpec, 'url'>>): Promise<LoadResult> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await paceLoad({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      requests: [{ method: 'GET', headers: {} }],
      connections: 1,
      warmupMs: 0,
      durationMs: 300,
      ...spec,
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const ok = (res: ServerResponse, status = 200): void => {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': 2 });
  res.end('ok');
};

test('pace sends its requests in turn, each with its headers, body and Content-Length', async () => {
  const seen: string[] = [];
  const r = await paceAgainst(
    (req, body, res) => {
      seen.push(`${req.method} ${req.headers['x-n']} ${req.headers['content-length']} ${body}`);
      ok(res);
    },
    {
      requests: [
        { method: 'POST', headers: { 'x-n': '1' }, body: 'a=1' },
        { method: 'POST', headers: { 'x-n': '2' }, body: 'bb=22' },
      ],
      warmupMs: 100,
    },
  );
  assert.equal(r.errors, 0);
  assert.ok(r.requests > 10, `only ${r.requests} requests`);
  assert.equal(r.answered, seen.length);
  assert.deepEqual(seen.slice(0, 4), ['POST 1 3 a=1', 'POST 2 5 bb=22', 'POST 1 3 a=1', 'POST 2 5 bb=22']);
});

test('pace at a set rate sends that many requests a second, not more', async () => {
  let answered = 0;
  const r = await paceAgainst(
    (_req, _body, res) => {
      answered++;
      ok(res);
    },
    { connections: 4, warmupMs: 200, durationMs: 1000, ratePerSecond: 100 },
  );
  assert.equal(r.errors, 0);
  // 100 slots in the window (one more or less at its edges), and 120 in all with the warm-up.
  assert.ok(r.requests >= 98 && r.requests <= 102, `${r.requests} requests in the window`);
  assert.ok(answered <= 121, `${answered} requests in all`);
});

test('pace counts a paced request from its slot: the requests queued behind a held server show in p99', async () => {
  // Every answer is held until 800 ms after the first request: the one connection is stuck, and the
  // ~80 slots due meanwhile (100 a second) wait for it. Counted from when they were finally sent,
  // they would look fast, and the one held request alone is under 1% of the ~200; counted from their
  // slots, the late ones waited up to 800 ms.
  let openAt: number | undefined;
  const r = await paceAgainst(
    (_req, _body, res) => {
      openAt ??= Date.now() + 800;
      const wait = openAt - Date.now();
      if (wait > 0) setTimeout(() => ok(res), wait);
      else ok(res);
    },
    { durationMs: 2000, ratePerSecond: 100 },
  );
  assert.equal(r.errors, 0);
  assert.ok(r.p99Ms >= 400, `p99 ${r.p99Ms} ms with answers held for 800 ms`);
});

test('pace reads an answer sent with the connection closed, and carries on over a new connection', async () => {
  const r = await paceAgainst(
    (_req, _body, res) => {
      res.setHeader('connection', 'close');
      ok(res);
    },
    { connections: 2 },
  );
  assert.equal(r.errors, 0);
  assert.ok(r.requests > 10, `only ${r.requests} requests`);
});

test('pace counts answers other than 200 as errors', async () => {
  let n = 0;
  const r = await paceAgainst((_req, _body, res) => ok(res, n++ % 2 === 0 ? 200 : 503), {});
  assert.ok(r.requests > 10);
  assert.ok(Math.abs(r.errors - r.requests / 2) <= 1, `${r.errors} errors of ${r.requests}`);
});

test('pace refuses a target other than 127.0.0.1, and bad arguments, without sending anything', async () => {
  await assert.rejects(
    paceLoad({
      url: 'http://example.com/',
      requests: [{ method: 'GET', headers: {} }],
      connections: 1,
      warmupMs: 0,
      durationMs: 100,
    }),
    /127\.0\.0\.1 only/,
  );
  const binary = paceBinary();
  assert.ok(binary, 'a C compiler is on this machine');
  const r = spawnSync(binary, ['1', '0', '0', '100', '0', '/nonexistent'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad arguments/);
});
