// Serves the operator UI at /ui: static files only. Everything it shows comes from the admin API,
// which checks the token on every call, so the files themselves need no authentication.
import type { MountFactory } from '../app.js';
import type { Mount } from '../http-server.js';
import { UI_CSS, UI_HTML, UI_JS } from './assets.js';

const FILES: ReadonlyMap<string, { type: string; body: string }> = new Map([
  ['/ui', { type: 'text/html; charset=utf-8', body: UI_HTML }],
  ['/ui/', { type: 'text/html; charset=utf-8', body: UI_HTML }],
  ['/ui/app.js', { type: 'text/javascript; charset=utf-8', body: UI_JS }],
  ['/ui/app.css', { type: 'text/css; charset=utf-8', body: UI_CSS }],
]);

/** No inline script or style, nothing from elsewhere, no framing: the page shows caller-chosen text. */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const uiMounts: MountFactory = (): readonly Mount[] => [
  {
    name: 'ui',
    match: (path, method) => FILES.has(path) && (method === 'GET' || method === 'HEAD'),
    handler: async (req, res) => {
      const file = FILES.get(new URL(req.url ?? '/', 'http://request.invalid').pathname);
      if (!file) throw new Error('ui route vanished between match and dispatch');
      res.writeHead(200, {
        'content-type': file.type,
        'content-length': Buffer.byteLength(file.body),
        'content-security-policy': UI_CSP,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    },
  },
];
