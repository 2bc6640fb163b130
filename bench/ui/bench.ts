// The operator UI's reach graph in Debian's Chromium: bundle sizes of what /ui serves (elkjs and
// our own files, raw and gzip), and the time to lay out and draw a generated reach result of
// `nodes` nodes (run phases, hub roles, member roles in 50 accounts under 5 OUs) with the real
// /ui/graph.js under the real CSP, against the anchor of rendering the same nodes and arrows as
// an HTML table in the same page, in alternating rounds.
//   npx tsx bench/ui/bench.ts [nodes=500] [rounds=5]
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { BrowserContext } from 'playwright-core';
import type { ReachEdge, ReachResult } from '../../src/cloud/reach/types.js';
import type { Mount } from '../../src/http/transport.js';
import { UI_CSP, uiMounts } from '../../src/server/ui/mount.js';
import { withChromium } from '../../test/helpers/chromium.js';

const [nodes = 500, rounds = 5] = process.argv.slice(2).map(Number);
const ACCOUNTS = 50;
const OUS = 5;
const WORKSPACES = 10;

/** A reach result and org tree with `total` nodes: 2 phases × workspaces, as many hub roles, the rest member roles. */
function generated(total: number): { reach: ReachResult; tree: unknown } {
  const acct = (i: number) => String(100000000000 + i);
  const units = [
    { id: 'r-root', name: 'Root' },
    ...Array.from({ length: OUS }, (_, i) => ({ id: `ou-${i}`, name: `ou-${i}`, parentId: 'r-root' })),
  ];
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({
    id: acct(i),
    name: i === 0 ? 'hub' : `member-${i}`,
    parentId: `ou-${i % OUS}`,
  }));
  const subjects = Array.from({ length: WORKSPACES }, (_, w) =>
    ['plan', 'apply'].map((phase) => ({ w, phase, label: `acme/Infra/ws-${w}:${phase}` })),
  ).flat();
  const hub = subjects.map((s) => `arn:aws:iam::${acct(0)}:role/runs/ws-${s.w}-${s.phase}`);
  const members = total - subjects.length - hub.length;
  const edge = (from: string, to: string, depth: number, cond: string[]): ReachEdge => ({
    from,
    to,
    call: depth === 1 ? 'AssumeRoleWithWebIdentity' : 'AssumeRole',
    depth,
    maxSessionSeconds: depth === 1 ? 7200 : 3600,
    chainCapped: false,
    allowedBy: [
      { policy: `trust policy of role/${to.split('/').pop()}`, index: 0, sid: 'Trust', conditions: cond },
    ],
    decisions: [],
  });
  const reach: ReachResult = {
    issuers: ['https://gatepass.example'],
    maxDepth: 3,
    roles: [],
    findings: [],
    subjects: subjects.map((s, i) => {
      const hubRole = hub[i] ?? '';
      const sub = `organization:acme:project:Infra:workspace:ws-${s.w}:run_phase:${s.phase}`;
      const edges = [
        edge(s.label, hubRole, 1, [
          'StringEquals gatepass.example:aud = aws.workload.identity',
          `StringEquals gatepass.example:sub = ${sub}`,
        ]),
      ];
      for (let m = i; m < members; m += subjects.length) {
        const a = 1 + (m % (ACCOUNTS - 1));
        edges.push(edge(hubRole, `arn:aws:iam::${acct(a)}:role/terraform-${s.phase}-${m}`, 2, []));
      }
      return {
        subject: s.label,
        sub,
        issuer: 'https://gatepass.example',
        roles: edges.map((e) => e.to),
        edges,
      };
    }),
  };
  reach.findings = [
    {
      rule: 'cross-workspace',
      severity: 'high',
      role: hub[0] ?? '',
      message: 'generated',
      subjects: [subjects[0]?.label ?? ''],
    },
    { rule: 'trust-admits-any-phase', severity: 'medium', role: hub[1] ?? '', message: 'generated' },
  ];
  return { reach, tree: { accounts, units } };
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/bench/page.js"></script></head><body><p id="error" hidden></p>
<div id="canvas"></div><div id="table"></div></body></html>`;

// Runs in the page (served, so the CSP applies): window.bench(kind) renders and reports ms.
const PAGE_JS = `import { graphModel, renderGraph } from '/ui/graph.js';
const data = await (await fetch('/bench/data.json')).json();
function table(model) {
  const t = document.createElement('table');
  for (const n of model.nodes.values()) {
    const tr = t.insertRow();
    tr.insertCell().textContent = n.title;
    tr.insertCell().textContent = n.group;
  }
  for (const e of model.edges.values()) {
    const tr = t.insertRow();
    tr.insertCell().textContent = e.from + ' -> ' + e.to;
    tr.insertCell().textContent = e.label;
  }
  return t;
}
window.bench = async (kind) => {
  document.getElementById('canvas').replaceChildren();
  document.getElementById('table').replaceChildren();
  const t0 = performance.now();
  const model = graphModel(data.reach, data.tree);
  let parts = {};
  if (kind === 'graph') parts = await renderGraph(document.getElementById('canvas'), model, () => {});
  else document.getElementById('table').replaceChildren(table(model));
  document.body.getBoundingClientRect();
  await new Promise((r) => requestAnimationFrame(() => r()));
  return { ms: performance.now() - t0, ...parts };
};
window.ready = true;
`;

function serve(mounts: readonly Mount[], data: string) {
  const extra = new Map([
    ['/bench/page.html', { type: 'text/html', body: PAGE }],
    ['/bench/page.js', { type: 'text/javascript', body: PAGE_JS }],
    ['/bench/data.json', { type: 'application/json', body: data }],
  ]);
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://bench.invalid').pathname;
    const file = extra.get(path);
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'content-security-policy': UI_CSP });
      res.end(file.body);
      return;
    }
    const m = mounts.find((x) => x.match(path, req.method ?? 'GET'));
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    void m.handler(req, res, {} as never);
  });
}

async function fetchSize(base: string, path: string): Promise<{ raw: number; gzip: number }> {
  const body = Buffer.from(
    await (await fetch(`${base}${path}`, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer(),
  );
  return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const { reach, tree } = generated(nodes);
  const mounts = uiMounts();
  const server = serve(mounts, JSON.stringify({ reach, tree }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deadline = setTimeout(() => {
    process.stderr.write('bench/ui: over 10 minutes, stopping\n');
    process.exit(3);
  }, 600_000);
  try {
    await withChromium((context) => measure(context, base));
  } finally {
    clearTimeout(deadline);
    server.close();
  }
}

async function measure(context: BrowserContext, base: string): Promise<void> {
  const own = ['/ui', '/ui/app.js', '/ui/dom.js', '/ui/graph.js', '/ui/runs.js', '/ui/app.css'];
  const sizes = await Promise.all(own.map((p) => fetchSize(base, p)));
  const ours = sizes.reduce((a, s) => ({ raw: a.raw + s.raw, gzip: a.gzip + s.gzip }), { raw: 0, gzip: 0 });
  const api = await fetchSize(base, '/ui/elk-api.js');
  const worker = await fetchSize(base, '/ui/elk-worker.js');
  const elk = { raw: api.raw + worker.raw, gzip: api.gzip + worker.gzip };

  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${base}/bench/page.html`);
  await page.waitForFunction('window.ready === true');
  type Timing = { ms: number; layoutMs?: number; drawMs?: number; nodes?: number; edges?: number };
  const run = (kind: string) => page.evaluate<Timing>(`window.bench(${JSON.stringify(kind)})`);
  const anchorCold = await run('table');
  const cold = await run('graph');
  const anchor: number[] = [];
  const graph: Timing[] = [];
  for (let i = 0; i < rounds; i++) {
    anchor.push((await run('table')).ms);
    graph.push(await run('graph'));
  }
  if (errors.length > 0) throw new Error(`page errors (a CSP violation?): ${errors.join('; ')}`);
  const a = median(anchor);
  const g = median(graph.map((x) => x.ms));
  const lay = median(graph.map((x) => x.layoutMs ?? NaN));
  const drw = median(graph.map((x) => x.drawMs ?? NaN));
  const out = process.stdout;
  out.write(
    `${cold.nodes} nodes, ${cold.edges} arrows; ${rounds} alternating rounds after one cold run each\n\n`,
  );
  out.write('| what | size / time | against the anchor |\n|---|---|---|\n');
  out.write(
    `| our UI files (page, 4 scripts, style) | ${kb(ours.raw)} raw, ${kb(ours.gzip)} gzip | anchor (size) |\n`,
  );
  out.write(
    `| elkjs 0.12.1 (elk-api.js in the page, elk-worker.min.js in a worker) | ${kb(elk.raw)} raw, ${kb(elk.gzip)} gzip | ${(elk.raw / ours.raw).toFixed(1)}× raw, ${(elk.gzip / ours.gzip).toFixed(1)}× gzip |\n`,
  );
  out.write(`| table of the same nodes and arrows (median) | ${a.toFixed(1)} ms | anchor (time) |\n`);
  out.write(
    `| graph: model, layout, SVG, first layout pass (median) | ${g.toFixed(0)} ms (layout ${lay.toFixed(0)}, SVG ${drw.toFixed(0)}) | ${(g / a).toFixed(0)}× |\n`,
  );
  out.write(
    `| graph, cold (first run: loads elkjs, starts its worker) | ${cold.ms.toFixed(0)} ms | ${(cold.ms / anchorCold.ms).toFixed(0)}× the cold table (${anchorCold.ms.toFixed(1)} ms) |\n`,
  );
}

await main();
