// Hostile input cannot grow what the node keeps: thousands of requests with made-up actions, paths,
// user agents, headers and parameters leave the metric label set closed and every log field cut to
// its documented length.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AWS_UNKNOWN_ROUTE } from '../../src/cloud/endpoint/aws-endpoint.js';
import { startServer } from '../../src/server/app.js';
import { resolveConfig } from '../../src/server/config.js';
import { MAX_LOGGED_PATH, MAX_LOGGED_USER_AGENT } from '../../src/server/http-server.js';
import { createJsonLogger, LOG_LIMITS, sanitize } from '../../src/server/log.js';
import { logSink } from './helpers.js';

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A different junk string of `length` characters for every `i`. */
const junk = (i: number, length: number): string => `${i.toString(36)}z`.repeat(length).slice(0, length);

/** The `route` label values of gatepass_http_requests_total. */
function routeLabels(metrics: string): Set<string> {
  const out = new Set<string>();
  for (const m of metrics.matchAll(/^gatepass_http_requests_total\{route="([^"]*)"/gm))
    out.add(m[1] as string);
  return out;
}

/** Every string anywhere in a parsed log line, with the key it sits under. */
function* strings(value: unknown, key = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [key, value];
  else if (Array.isArray(value)) for (const v of value) yield* strings(v, key);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* strings(v, k);
}

test('2,000 junk requests keep the metric labels closed and every log field cut to its documented length', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatepass-bounded-'));
  const sink = logSink();
  const app = await startServer(resolveConfig({ env: {}, flags: { port: 0, dataDir } }), {
    log: createJsonLogger({ level: 'info', stream: sink.stream }),
  });
  try {
    const url = app.address.url;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const jobs: (() => Promise<number>)[] = [];
    for (let i = 0; i < 2000; i++) {
      const headers = { 'user-agent': junk(i, 2000), [`x-junk-${i}`]: junk(i, 500) };
      switch (i % 4) {
        case 0: // an unknown 2,000-character action, unsigned
          jobs.push(() =>
            send(url, 'POST', '/', { ...form, ...headers }, `Action=${junk(i, 2000)}&Version=2011-06-15`),
          );
          break;
        case 1: // a known action with junk parameters
          jobs.push(() =>
            send(
              url,
              'POST',
              '/',
              { ...form, ...headers },
              `Action=GetCallerIdentity&Version=2011-06-15&${junk(i, 40)}=${junk(i, 3000)}`,
            ),
          );
          break;
        case 2: // an unknown path
          jobs.push(() => send(url, 'GET', `/${junk(i, 3000)}`, headers));
          break;
        default: // an unknown action in the query string of a GET
          jobs.push(() => send(url, 'GET', `/?Action=${junk(i, 2000)}&Version=2010-05-08`, headers));
      }
    }
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < jobs.length) {
          const status = await (jobs[next++] as () => Promise<number>)();
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    // Every request was answered, as a client error, never a server fault.
    assert.ok(
      [...statuses.keys()].every((s) => s >= 400 && s < 500),
      JSON.stringify([...statuses]),
    );

    const metrics = await new Promise<string>((resolve, reject) => {
      request(`${url}/metrics`, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      })
        .on('error', reject)
        .end();
    });
    assert.deepEqual(
      [...routeLabels(metrics)].sort(),
      [AWS_UNKNOWN_ROUTE, 'aws:GetCallerIdentity', 'not_found'].sort(),
      'only known names and one unknown value',
    );
    assert.doesNotMatch(metrics, /zzz|[0-9a-z]z[0-9a-z]z[0-9a-z]z/, 'no junk anywhere in /metrics');

    const lines = sink.lines();
    const access = lines.filter((l) => l.msg === 'request');
    assert.ok(access.length >= 2000, `an access line per request (${access.length})`);
    for (const line of lines) {
      for (const [key, value] of strings(line)) {
        const max = key === 'stack' ? LOG_LIMITS.stackChars : LOG_LIMITS.chars;
        // The cut marker adds a few characters to the limit.
        assert.ok(value.length <= max + 24, `${String(line.msg)}.${key} is ${value.length} characters`);
      }
    }
    const paths = access.map((l) => String(l.path)).filter((p) => p.length > 100);
    assert.ok(paths.length >= 500, 'the long paths were logged');
    for (const p of paths)
      assert.match(p, new RegExp(`^/.{${MAX_LOGGED_PATH - 1}}…\\[\\+${3001 - MAX_LOGGED_PATH} chars\\]$`));
    for (const l of access) assert.ok(String(l.userAgent).length <= MAX_LOGGED_USER_AGENT + 24);
    const refused = lines.filter((l) => l.msg === 'aws request refused' && l.code === 'InvalidAction');
    assert.ok(refused.length >= 1000, 'every unknown action was refused and logged');
    for (const l of refused) assert.ok(String(l.action).length <= 128, 'the logged action is cut');
  } finally {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('the logger cuts long strings, arrays and objects at any depth and says how much it left out', () => {
  const out = sanitize({
    a: 'x'.repeat(5000),
    nested: { list: Array.from({ length: 200 }, (_, i) => i), deep: { s: 'y'.repeat(2000) } },
    wide: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])),
  }) as Record<string, unknown>;
  assert.equal(out.a, `${'x'.repeat(LOG_LIMITS.chars)}…[+${5000 - LOG_LIMITS.chars} chars]`);
  const nested = out.nested as { list: unknown[]; deep: { s: string } };
  assert.equal(nested.list.length, LOG_LIMITS.items + 1);
  assert.equal(nested.list.at(-1), `…[+${200 - LOG_LIMITS.items} items]`);
  assert.equal(nested.deep.s.length, LOG_LIMITS.chars + `…[+${2000 - LOG_LIMITS.chars} chars]`.length);
  assert.equal(Object.keys(out.wide as object).length, LOG_LIMITS.keys + 1);
  const err = new Error('m'.repeat(3000));
  const e = sanitize(err) as { message: string; stack: string };
  assert.ok(e.message.length < LOG_LIMITS.chars + 24);
  assert.ok(e.stack.length <= LOG_LIMITS.stackChars + 24);
});
