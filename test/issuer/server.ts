// A real gatepass server on 127.0.0.1 (port 0) with a temp data dir, plus a tiny JSON API client.
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { type Clock, fixedClock } from '../../src/core/deps.js';
import { type App, startServer } from '../../src/server/app.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';
import { tempDir } from '../helpers/temp.js';
import { httpRequest, logSink } from '../server/helpers.js';

export const T0 = Date.UTC(2026, 5, 1, 12);

export interface TestServer {
  app: App;
  url: string;
  dataDir: string;
  adminToken: string;
  clock: Clock & { advance(ms: number): void; set(ms: number): void };
  logText(): string;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; raw?: string },
  ): Promise<ApiReply>;
  stop(): Promise<void>;
}

export interface ApiReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** Walk parsed JSON by keys and indexes; undefined when the path does not exist. */
export function at(value: unknown, ...path: ReadonlyArray<string | number>): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

/** Like `at`, but the value must be a string. */
export function str(value: unknown, ...path: ReadonlyArray<string | number>): string {
  const v = at(value, ...path);
  if (typeof v !== 'string') throw new Error(`expected a string at ${path.join('.')}`);
  return v;
}

function httpsJson(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  ca: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function startTestServer(
  flags: Record<string, unknown> = {},
  dataDir?: string,
): Promise<TestServer> {
  const dir = dataDir ?? (await tempDir('gatepass-issuer-api-'));
  const clock = fixedClock(T0);
  const sink = logSink();
  const config = resolveConfig({ env: {}, flags: { port: 0, dataDir: dir, ...flags } });
  const app = await startServer(config, { clock, log: createJsonLogger({ stream: sink.stream, clock }) });
  const adminToken = (await readFile(join(dir, 'admin-token'), 'utf8')).trim();
  const url = app.address.url;
  return {
    app,
    url,
    dataDir: dir,
    adminToken,
    clock,
    logText: sink.text,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const token = options.token === undefined ? adminToken : options.token;
      if (token !== '') headers.authorization = `Bearer ${token}`;
      const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      const r = url.startsWith('https:')
        ? await httpsJson(
            `${url}${path}`,
            method,
            headers,
            body,
            await readFile(join(dir, 'tls', 'ca.pem'), 'utf8'),
          )
        : await httpRequest(
            `${url}${path}`,
            body === undefined ? { method, headers } : { method, headers, body },
          );
      return { status: r.status, headers: r.headers, json: r.body === '' ? undefined : JSON.parse(r.body) };
    },
    stop: () => app.stop(),
  };
}
