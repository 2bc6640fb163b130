// Serves the operator UI at /ui: static files only. Everything it shows comes from the admin API,
// which checks the token on every call, so the files themselves need no authentication. The graph
// layout library (elkjs) is served from this node too, read from its package on first request.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Mount } from '../../http/transport.js';
import { APP_JS } from './app-js.js';
import { UI_CSS, UI_HTML } from './assets.js';
import { DOM_JS } from './dom-js.js';
import { GRAPH_JS } from './graph-js.js';
import { RUNS_JS } from './runs-js.js';

interface UiFile {
  type: string;
  body: () => Buffer;
}

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/** Computed once, on first use: the elkjs worker is 1.6 MB and most visits never draw the graph. */
function once(make: () => Buffer): () => Buffer {
  let value: Buffer | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

const text = (s: string) => once(() => Buffer.from(s));
const require = createRequire(import.meta.url);

/** elkjs's API (10 KB) loads in the page; the layout itself runs in a worker, off the page's thread. */
export const ELK_API = 'elkjs/lib/elk-api.js';
export const ELK_WORKER = 'elkjs/lib/elk-worker.min.js';

const FILES: ReadonlyMap<string, UiFile> = new Map([
  ['/ui', { type: HTML, body: text(UI_HTML) }],
  ['/ui/', { type: HTML, body: text(UI_HTML) }],
  ['/ui/app.js', { type: JS, body: text(APP_JS) }],
  ['/ui/dom.js', { type: JS, body: text(DOM_JS) }],
  ['/ui/graph.js', { type: JS, body: text(GRAPH_JS) }],
  ['/ui/runs.js', { type: JS, body: text(RUNS_JS) }],
  ['/ui/app.css', { type: 'text/css; charset=utf-8', body: text(UI_CSS) }],
  ['/ui/elk-api.js', { type: JS, body: once(() => readFileSync(require.resolve(ELK_API))) }],
  ['/ui/elk-worker.js', { type: JS, body: once(() => readFileSync(require.resolve(ELK_WORKER))) }],
]);

const gzipped = new Map<string, () => Buffer>(
  [...FILES].map(([path, f]) => [path, once(() => gzipSync(f.body(), { level: 9 }))]),
);

/** No inline script or style, nothing from elsewhere, no framing: the page shows caller-chosen text. */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const uiMounts = (): readonly Mount[] => [
  {
    name: 'ui',
    match: (path, method) => FILES.has(path) && (method === 'GET' || method === 'HEAD'),
    handler: async (req, res, ctx) => {
      const { path } = ctx;
      const file = FILES.get(path);
      if (!file) throw new Error('ui route vanished between match and dispatch');
      // gzip when the browser takes it (not when it says `gzip;q=0`).
      const gzip = /\bgzip\b(?!\s*;\s*q=0(\.0{0,3})?\b)/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? (gzipped.get(path)?.() ?? file.body()) : file.body();
      res.writeHead(200, {
        'content-type': file.type,
        'content-length': body.length,
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        vary: 'accept-encoding',
        'content-security-policy': UI_CSP,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
  },
];
