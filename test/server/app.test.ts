import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { test } from 'node:test';
import { sendJson } from '../../src/http/transport.js';
import { startServer } from '../../src/server/app.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';
import { openStore } from '../../src/store/open.js';
import { tempDir } from '../helpers/temp.js';
import { httpRequest, logSink } from './helpers.js';

async function config(flags: Record<string, unknown> = {}) {
  const dataDir = await tempDir('gatepass-app-');
  return resolveConfig({ env: {}, flags: { port: 0, dataDir, ...flags } });
}

test('startServer opens the SQLite store in the data dir and serves health, readiness and metrics', async () => {
  const cfg = await config();
  const sink = logSink();
  const app = await startServer(cfg, { log: createJsonLogger({ stream: sink.stream }) });
  try {
    assert.equal(app.store.engine, 'sqlite');
    assert.equal((await httpRequest(`${app.address.url}/healthz`)).status, 200);
    assert.equal((await httpRequest(`${app.address.url}/readyz`)).status, 200);
    assert.match((await httpRequest(`${app.address.url}/metrics`)).body, /gatepass_http_requests_total/);
    assert.ok((await readdir(cfg.dataDir)).length > 0, 'the store created its file');
    const listening = sink.lines().find((l) => l.msg === 'listening');
    assert.equal(listening?.url, app.address.url);
    assert.equal(listening?.store, 'sqlite');
  } finally {
    await app.stop();
  }
  assert.ok(existsSync(cfg.dataDir));
});

test('the issuer URL defaults to the server URL and honours issuerUrl when set', async () => {
  const a = await startServer(await config(), { log: createJsonLogger({ stream: logSink().stream }) });
  try {
    assert.equal(a.issuerUrl, a.address.url);
  } finally {
    await a.stop();
  }
  const b = await startServer(await config({ issuerUrl: 'https://id.example.com/acme' }), {
    log: createJsonLogger({ stream: logSink().stream }),
  });
  try {
    assert.equal(b.issuerUrl, 'https://id.example.com/acme');
  } finally {
    await b.stop();
  }
});

test('extra mount factories get the app environment and are routed with their own metrics label', async () => {
  let seenBase = '';
  const app = await startServer(await config(), {
    log: createJsonLogger({ stream: logSink().stream }),
    extraMounts: [
      (env) => {
        seenBase = env.baseUrl;
        return [
          {
            name: 'hello',
            match: (p) => p === '/hello',
            handler: async (_q, res) => sendJson(res, 200, { engine: env.store.engine }),
          },
        ];
      },
    ],
  });
  try {
    assert.equal(seenBase, app.address.url);
    const r = await httpRequest(`${app.address.url}/hello`);
    assert.deepEqual(JSON.parse(r.body), { engine: 'sqlite' });
    const m = await httpRequest(`${app.address.url}/metrics`);
    assert.match(m.body, /gatepass_http_requests_total\{route="hello",method="GET",status="200"\} 1/);
  } finally {
    await app.stop();
  }
});

test('stop() shuts the listener and the store down and is idempotent', async () => {
  const app = await startServer(await config(), { log: createJsonLogger({ stream: logSink().stream }) });
  const url = app.address.url;
  await Promise.all([app.stop(), app.stop()]);
  await assert.rejects(httpRequest(`${url}/healthz`), /ECONNREFUSED/);
});

test('SIGTERM runs graceful shutdown, closes the store, exits 0 and removes its handlers', async () => {
  const before = process.listenerCount('SIGTERM');
  let exitWith: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((resolve) => {
    exitWith = resolve;
  });
  const app = await startServer(await config(), {
    log: createJsonLogger({ stream: logSink().stream }),
    handleSignals: true,
    exit: (code) => exitWith(code),
  });
  assert.equal(process.listenerCount('SIGTERM'), before + 1);
  process.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exitCode, 0);
  assert.equal(process.listenerCount('SIGTERM'), before);
  await assert.rejects(httpRequest(`${app.address.url}/healthz`), /ECONNREFUSED/);
});

test('a node whose start fails half way stops what it started (the cloud side leaves the change feed) before closing the store', async () => {
  const calls: string[] = [];
  await assert.rejects(
    startServer(await config(), {
      log: createJsonLogger({ stream: logSink().stream }),
      openStore: async (c) => {
        const store = await openStore({ dataDir: c.dataDir });
        return Object.assign(Object.create(store) as typeof store, {
          leaveFeed: (node: string) => {
            calls.push('leaveFeed');
            return store.leaveFeed(node);
          },
          close: () => {
            calls.push('close');
            return store.close();
          },
        });
      },
      extraMounts: [
        () => {
          throw new Error('mount failed');
        },
      ],
    }),
    /mount failed/,
  );
  assert.deepEqual(calls, ['leaveFeed', 'close']);
});

test("every mount routes on the front door's path: dot segments are resolved once, as the URL parser does, for the issuer's API, the OIDC documents and the UI", async () => {
  const app = await startServer(await config(), { log: createJsonLogger({ stream: logSink().stream }) });
  const raw = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      // A raw request target: a URL string would be normalised by the client before it is sent.
      const req = request({ host: '127.0.0.1', port: app.address.port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString('utf8');
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    const jwks = await raw('/x/../.well-known/jwks');
    assert.equal(jwks.status, 200);
    assert.ok(Array.isArray((JSON.parse(jwks.body) as { keys?: unknown }).keys), 'the JWKS document');
    // The issuer's API answers (no token: 401), where an unresolved path would be a 404.
    assert.equal((await raw('/api/v1/./orgs')).status, 401);
    assert.equal((await raw('/api/v1/nothing/../orgs')).status, 401);
    assert.equal((await raw('/api/v1/no-such-route')).status, 404);
  } finally {
    await app.stop();
  }
});
