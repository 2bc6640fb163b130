import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { type Mount, readBody, sendJson } from '../../src/http/transport.js';
import { ConfigError, resolveConfig } from '../../src/server/config.js';
import { createHttpServer, type HttpServerOptions, pathOf } from '../../src/server/http-server.js';
import { createJsonLogger } from '../../src/server/log.js';
import { createMetrics } from '../../src/server/metrics.js';
import { tempDir } from '../helpers/temp.js';
import { gate, httpRequest, logSink, rawExchange } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function start(
  mounts: Mount[] = [],
  extra: Partial<HttpServerOptions> = {},
  flags: Record<string, unknown> = {},
) {
  const config = resolveConfig({ env: {}, flags: { port: 0, bodyLimitBytes: 1024, ...flags } });
  const sink = logSink();
  const log = createJsonLogger({ stream: sink.stream, level: 'debug' });
  const metrics = createMetrics();
  const server = createHttpServer({ config, log, metrics, mounts, ...extra });
  const { url, port } = await server.listen();
  return { server, url, port, sink, metrics };
}

const echoMount: Mount = {
  name: 'echo',
  match: (p, m) => p === '/echo' && m === 'POST',
  handler: async (req, res) => {
    const body = await readBody(req, 1024);
    sendJson(res, 200, { bytes: body.length });
  },
};

test('GET /healthz answers 200 ok with a request id header', async () => {
  const { server, url } = await start();
  try {
    const r = await httpRequest(`${url}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
    assert.match(String(r.headers['x-request-id']), UUID);
  } finally {
    await server.close();
  }
});

test('a request context carries no accessor of its own, so a young-generation collection can free it with its request', async () => {
  // An object literal with `get log()` gives every request an accessor pair that V8 allocates in the
  // old generation, pointing at a closure over the whole request: each scavenge then promoted the
  // request's graph (1.2 MB a scavenge on a /healthz load, pauses of 10-14 ms on this kind of VM).
  const seen: object[] = [];
  const capture: Mount = {
    name: 'capture',
    match: (p) => p === '/capture',
    handler: async (_req, res, ctx) => {
      seen.push(ctx);
      assert.equal(typeof ctx.log.log, 'function');
      sendJson(res, 200, { requestId: ctx.requestId });
    },
  };
  const { server, url } = await start([capture]);
  try {
    for (let i = 0; i < 2; i++) assert.equal((await httpRequest(`${url}/capture`)).status, 200);
    assert.equal(seen.length, 2);
    for (const ctx of seen) {
      const accessors = Object.entries(Object.getOwnPropertyDescriptors(ctx))
        .filter(([, d]) => d.get !== undefined || d.set !== undefined)
        .map(([name]) => name);
      assert.deepEqual(accessors, []);
    }
    assert.equal(Object.getPrototypeOf(seen[0]), Object.getPrototypeOf(seen[1]));
  } finally {
    await server.close();
  }
});

test('unknown paths get 404 JSON not_found', async () => {
  const { server, url } = await start();
  try {
    const r = await httpRequest(`${url}/nope?x=1`);
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).error, 'not_found');
  } finally {
    await server.close();
  }
});

test('mounts are matched in order after the built-ins', async () => {
  const first: Mount = {
    name: 'first',
    match: (p) => p.startsWith('/a'),
    handler: async (_q, res) => sendJson(res, 200, 1),
  };
  const second: Mount = {
    name: 'second',
    match: (p) => p === '/ab',
    handler: async (_q, res) => sendJson(res, 200, 2),
  };
  const { server, url } = await start([first, second]);
  try {
    assert.equal((await httpRequest(`${url}/ab`)).body, '1');
  } finally {
    await server.close();
  }
});

test('/metrics exposes the request counter and duration histogram after requests', async () => {
  const { server, url } = await start([echoMount]);
  try {
    await httpRequest(`${url}/healthz`);
    await httpRequest(`${url}/echo`, { method: 'POST', body: 'hi' });
    await httpRequest(`${url}/missing`);
    const r = await httpRequest(`${url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    assert.match(r.body, /gatepass_http_requests_total\{route="healthz",method="GET",status="200"\} 1/);
    assert.match(r.body, /gatepass_http_requests_total\{route="echo",method="POST",status="200"\} 1/);
    assert.match(r.body, /gatepass_http_requests_total\{route="not_found",method="GET",status="404"\} 1/);
    assert.match(
      r.body,
      /gatepass_http_request_duration_seconds_count\{route="echo",method="POST",status="200"\} 1/,
    );
    assert.match(r.body, /process_cpu_user_seconds_total/);
  } finally {
    await server.close();
  }
});

test('other modules can register metrics on the same registry', async () => {
  const { server, url, metrics } = await start();
  try {
    metrics.counter('gatepass_test_things_total', 'Things.', ['kind']).inc({ kind: 'a' }, 3);
    const r = await httpRequest(`${url}/metrics`);
    assert.match(r.body, /gatepass_test_things_total\{kind="a"\} 3/);
  } finally {
    await server.close();
  }
});

test('an oversized body gets 413 and the server keeps serving', async () => {
  const { server, url } = await start([echoMount]);
  try {
    const r = await httpRequest(`${url}/echo`, { method: 'POST', body: Buffer.alloc(4096, 97) });
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.body).error, 'payload_too_large');
    assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
  } finally {
    await server.close();
  }
});

test('an oversized chunked body without content-length also gets 413', async () => {
  const { server, port, url } = await start([echoMount]);
  try {
    const chunk = 'x'.repeat(600);
    const reply = await rawExchange(
      port,
      `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
  } finally {
    await server.close();
  }
});

test('a malformed request line gets 400 and the server keeps serving', async () => {
  const { server, port, url, sink } = await start();
  try {
    const reply = await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(reply, /"error":"bad_request"/);
    assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
    const m = await httpRequest(`${url}/metrics`);
    assert.match(m.body, /gatepass_http_client_errors_total\{code="HPE_[A-Z_]+"\} 1/);
    assert.ok(sink.lines().some((l) => l.msg === 'client error'));
  } finally {
    await server.close();
  }
});

test('oversized headers get 431 and the server keeps serving', async () => {
  const { server, port, url } = await start();
  try {
    const reply = await rawExchange(
      port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 431 /);
    assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
  } finally {
    await server.close();
  }
});

test('a throwing handler gives 500 with only the request id; the error is logged, not returned', async () => {
  const boom: Mount = {
    name: 'boom',
    match: (p) => p === '/boom',
    handler: async () => {
      throw new Error('database password is hunter2');
    },
  };
  const { server, url, sink } = await start([boom]);
  try {
    const r = await httpRequest(`${url}/boom`);
    assert.equal(r.status, 500);
    const body = JSON.parse(r.body);
    assert.deepEqual(body, { error: 'internal_error', requestId: r.headers['x-request-id'] });
    assert.equal(r.body.includes('hunter2'), false);
    const logged = sink.lines().find((l) => l.msg === 'handler failed');
    assert.equal(logged?.requestId, body.requestId);
  } finally {
    await server.close();
  }
});

test('a handler failing because the store cannot write (a full disk) gives a retryable 503 store_unavailable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-full-'));
  // A real SQLITE_FULL: a page budget stands in for the disk.
  const db = new Database(join(dir, 'db'));
  db.exec('CREATE TABLE t (v TEXT)');
  db.pragma('max_page_count = 4');
  const full: Mount = {
    name: 'full',
    match: (p) => p === '/full',
    handler: async () => {
      for (;;) db.prepare('INSERT INTO t VALUES (?)').run('x'.repeat(2000));
    },
  };
  const { server, url } = await start([full]);
  try {
    const r = await httpRequest(`${url}/full`);
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), {
      error: 'store_unavailable',
      requestId: r.headers['x-request-id'],
    });
  } finally {
    await server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one access-log line per request, without query values, body or Authorization', async () => {
  const { server, url, sink } = await start([echoMount]);
  try {
    const r = await httpRequest(`${url}/echo?X-Amz-Signature=sig-value-123`, {
      method: 'POST',
      headers: { authorization: 'Bearer tok-value-456', 'user-agent': 'test-agent/1' },
      body: 'body-value-789',
    });
    const access = sink.lines().filter((l) => l.msg === 'request');
    assert.equal(access.length, 1);
    const [line] = access;
    assert.equal(line?.method, 'POST');
    assert.equal(line?.route, 'echo');
    assert.equal(line?.path, '/echo');
    assert.equal(line?.status, 200);
    assert.equal(line?.requestId, r.headers['x-request-id']);
    assert.equal(line?.remoteAddress, '127.0.0.1');
    assert.equal(line?.userAgent, 'test-agent/1');
    assert.equal(typeof line?.durationMs, 'number');
    const text = sink.text();
    for (const secret of ['sig-value-123', 'tok-value-456', 'body-value-789'])
      assert.equal(text.includes(secret), false);
  } finally {
    await server.close();
  }
});

test('readyz is 200 when ready() says so, 503 when it says no or throws', async () => {
  let answer: boolean | Error = true;
  const ready = async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const { server, url } = await start([], { ready });
  try {
    assert.equal((await httpRequest(`${url}/readyz`)).status, 200);
    answer = false;
    assert.equal((await httpRequest(`${url}/readyz`)).status, 503);
    answer = new Error('store down');
    const r = await httpRequest(`${url}/readyz`);
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { status: 'not_ready' });
  } finally {
    await server.close();
  }
});

test('readyz flips to 503 once shutdown begins, even for a check already in progress', async () => {
  const entered = gate();
  const verdict = gate<boolean>();
  let calls = 0;
  const ready = async () => {
    calls++;
    if (calls === 1) return true;
    entered.open();
    return verdict.promise;
  };
  const { server, url } = await start([], { ready });
  assert.equal((await httpRequest(`${url}/readyz`)).status, 200);
  const pending = httpRequest(`${url}/readyz`);
  await entered.promise;
  const closing = server.close();
  assert.equal(server.shuttingDown, true);
  verdict.open(true);
  const r = await pending;
  assert.equal(r.status, 503);
  assert.equal(r.headers.connection, 'close');
  await closing;
  await assert.rejects(httpRequest(`${url}/healthz`), /ECONNREFUSED/);
});

test('graceful shutdown waits for an in-flight request to finish', async () => {
  const events: string[] = [];
  const entered = gate();
  const release = gate();
  const slow: Mount = {
    name: 'slow',
    match: (p) => p === '/slow',
    handler: async (_q, res) => {
      entered.open();
      await release.promise;
      events.push('handler done');
      sendJson(res, 200, { slow: true });
    },
  };
  const { server, url } = await start([slow], {}, { shutdownGraceMs: 60_000 });
  const pending = httpRequest(`${url}/slow`);
  await entered.promise;
  const closing = server.close().then(() => events.push('closed'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(events, [], 'close() must not resolve while a request is in flight');
  assert.equal(server.inFlight, 1);
  release.open();
  const r = await pending;
  await closing;
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { slow: true });
  assert.deepEqual(events, ['handler done', 'closed']);
});

test('after the grace period, shutdown cuts requests that are still running, logged as 503', async () => {
  const entered = gate();
  const never = gate();
  const stuck: Mount = {
    name: 'stuck',
    match: (p) => p === '/stuck',
    handler: async () => {
      entered.open();
      await never.promise;
    },
  };
  const { server, url, sink } = await start([stuck], {}, { shutdownGraceMs: 10 });
  const pending = assert.rejects(httpRequest(`${url}/stuck`), /socket hang up|ECONNRESET/);
  await entered.promise;
  await server.close();
  await pending;
  assert.ok(sink.lines().some((l) => l.msg === 'shutdown grace period over; closing connections'));
  // Written before close() resolved: the access line tells a request cut by shutdown (503) from one its client abandoned (499).
  assert.equal(sink.lines().find((l) => l.msg === 'request')?.status, 503);
  never.open();
});

test('close() on an idle server resolves and is idempotent', async () => {
  const { server } = await start();
  const a = server.close();
  const b = server.close();
  assert.equal(a, b);
  await a;
});

test('serves HTTPS when tlsCert and tlsKey are set', async () => {
  const dir = await tempDir('gatepass-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  // openssl is a test prerequisite (.ci/run installs it): a missing one fails rather than skips.
  assert.equal(made.status, 0, `openssl could not make a test certificate: ${made.stderr}`);
  const { server, url } = await start([], {}, { tlsCert: cert, tlsKey: key });
  try {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpsRequest(`${url}/healthz`, { ca: readFileSync(cert), agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 200);
  } finally {
    await server.close();
  }
});

test('unreadable TLS files are a configuration error', () => {
  const config = resolveConfig({
    env: {},
    flags: { port: 0, tlsCert: '/nonexistent/c.pem', tlsKey: '/nonexistent/k.pem' },
  });
  assert.throws(
    () =>
      createHttpServer({
        config,
        log: createJsonLogger({ stream: logSink().stream }),
        metrics: createMetrics(),
      }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 2,
  );
});

test('the fast path for plain request paths gives exactly what the URL parser gives', () => {
  const targets = [
    '/',
    '/?Action=GetCallerIdentity&Version=2011-06-15',
    '/healthz',
    '/.well-known/openid-configuration',
    '/a/./b',
    '/a/../b',
    '/a/..',
    '/a/.',
    '/a/.b/..c/x.y',
    '//evil/x',
    '/%2e%2e/x',
    '/a%20b',
    '/a b',
    '/a\\b',
    '/a#frag',
    '/a|b{c}',
    "/a!$&'()*+,;=:@~-_.b",
    'x',
    '',
    '*',
  ];
  // Random targets over the interesting characters too.
  const alphabet = "/.%2e?#\\ a|{}'!@:~-_";
  let seed = 7;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  for (let i = 0; i < 2000; i++) {
    let t = '/';
    for (let n = next() % 12; n > 0; n--) t += alphabet[next() % alphabet.length];
    targets.push(t);
  }
  for (const target of targets) {
    let expected: string | undefined;
    try {
      expected = new URL(target, 'http://request.invalid').pathname;
    } catch {
      expected = undefined;
    }
    assert.equal(pathOf(target), expected, JSON.stringify(target));
  }
});

test('readBody answers at once for a body already read (empty) or a request already closed (error)', async () => {
  const results: string[] = [];
  const twice: Mount = {
    name: 'twice',
    match: (p) => p === '/twice',
    handler: async (req, res) => {
      const first = await readBody(req, 1024);
      const again = await readBody(req, 1024);
      results.push(`${first.length} ${again.length}`);
      res.end();
    },
  };
  const closed: Mount = {
    name: 'closed',
    match: (p) => p === '/closed',
    handler: async (req) => {
      req.destroy();
      results.push(await readBody(req, 1024).then(String, (err: Error) => err.message));
    },
  };
  const { server, url } = await start([twice, closed]);
  try {
    await httpRequest(`${url}/twice`, { method: 'POST', body: 'hello' });
    await httpRequest(`${url}/closed`, { method: 'POST', body: 'hello' }).catch(() => undefined);
    assert.deepEqual(results, ['5 0', 'request closed before its body ended']);
  } finally {
    await server.close();
  }
});

test('a client that hangs up mid-body is logged as 499 at info, not as a handler failure', async () => {
  const reading = gate();
  const slow: Mount = {
    name: 'echo',
    match: (p, m) => p === '/echo' && m === 'POST',
    handler: async (req, res) => {
      reading.open();
      const body = await readBody(req, 1024);
      sendJson(res, 200, { bytes: body.length });
    },
  };
  const { server, url, port, sink } = await start([slow]);
  try {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction=Get'),
    );
    socket.on('error', () => undefined);
    await reading.promise;
    socket.destroy();
    for (let i = 0; i < 100 && !sink.lines().some((l) => l.msg === 'request'); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const lines = sink.lines();
    assert.equal(lines.find((l) => l.msg === 'request')?.status, 499);
    assert.equal(
      lines.find((l) => l.msg === 'client closed the request before its body ended')?.level,
      'info',
    );
    assert.equal(
      lines.some((l) => l.level === 'error'),
      false,
      'no error line',
    );
    const metrics = await httpRequest(`${url}/metrics`);
    assert.match(metrics.body, /gatepass_http_requests_total\{route="echo",method="POST",status="499"\} 1/);
    // The server goes on serving.
    assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
  } finally {
    await server.close();
  }
});
