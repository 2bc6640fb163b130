// /ui/graph.js: the reachability result (POST /api/v1/reach) as a picture. elkjs lays it out (run
// phases of workspaces → hub roles → member roles, roles nested in their account and OU); the
// drawing is our own SVG, so every arrow is a focusable element that a keyboard, a screen reader
// and a test can reach. Selecting an arrow explains each decision it took via POST
// /api/v1/explain/trace, drawn as in the "Why?" view.
// Browser code in a raw string: no backticks and no dollar-brace in it.

export const GRAPH_JS = String.raw`// gatepass operator UI: the reach graph.
import { $, api, decisionView, el } from '/ui/dom.js';

const NS = 'http://www.w3.org/2000/svg';
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

let elkLoading;
let elk;
/**
 * elkjs's API is fetched from this node the first time the graph is shown; the layout runs in its
 * worker (1.6 MB, same origin), which stays up for the next layout.
 */
function loadElk() {
  if (elk) return Promise.resolve(elk);
  if (!elkLoading) {
    elkLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = '/ui/elk-api.js';
      s.addEventListener('load', () => {
        elk = new window.ELK({ workerUrl: '/ui/elk-worker.js' });
        resolve(elk);
      });
      s.addEventListener('error', () => { elkLoading = undefined; reject(new Error('The layout library did not load.')); });
      document.head.appendChild(s);
    });
  }
  return elkLoading;
}

const tail = (s, n) => (s.length > n ? '…' + s.slice(s.length - n + 1) : s);

/** The condition that admits an edge: the trust statement's sub (else another non-aud) condition. */
export function edgeLabel(e) {
  const trust = e.allowedBy[0];
  if (!trust) return e.call;
  const cond = trust.conditions.find((c) => /:sub /.test(c)) || trust.conditions.find((c) => !/:aud /.test(c));
  if (cond) {
    const m = /^(\S+) (\S+) = (.*)$/.exec(cond);
    if (m) {
      // A workspace's sub reads best from the workspace on: organization and project are its group.
      const at = m[3].length > 34 ? m[3].indexOf('workspace:') : -1;
      const value = at > 0 && !/[*?]/.test(m[3].slice(0, at)) ? '…' + m[3].slice(at) : tail(m[3], 40);
      return (m[1] === 'StringEquals' ? '' : m[1] + ' ') + m[2].replace(/^.*:/, '') + ' = ' + value;
    }
    return tail(cond, 40);
  }
  return 'trust ' + (trust.sid !== undefined ? trust.sid : '#' + trust.index);
}

/** Groups (workspaces, OUs, accounts), nodes (run phases, roles) and deduplicated edges. */
export function graphModel(reach, tree) {
  const accounts = new Map(tree.accounts.map((a) => [a.id, a]));
  const units = new Map(tree.units.map((u) => [u.id, u]));
  const groups = new Map();
  const nodes = new Map();
  const edges = new Map();
  const ouGroup = (id) => {
    const u = units.get(id);
    // The root is the whole organization: not drawn as a box.
    if (!u || u.parentId === undefined) return null;
    const gid = 'ou:' + u.id;
    if (!groups.has(gid)) groups.set(gid, { id: gid, label: 'OU ' + u.name, kind: 'ou', parent: ouGroup(u.parentId) });
    return gid;
  };
  const accountGroup = (id) => {
    const gid = 'acct:' + id;
    if (!groups.has(gid)) {
      const a = accounts.get(id);
      groups.set(gid, { id: gid, label: (a ? a.name + ' ' : 'account ') + id, kind: 'account', parent: a && a.parentId ? ouGroup(a.parentId) : null });
    }
    return gid;
  };
  const role = (arn) => {
    if (!nodes.has(arn)) {
      const account = arn.split(':')[4] || '';
      nodes.set(arn, { id: arn, kind: 'role', label: arn.replace(/^arn:[^:]+:iam::\d+:role\//, ''), title: arn, group: accountGroup(account), severity: -1 });
    }
    return nodes.get(arn);
  };
  const subject = (label) => {
    const id = 's:' + label;
    if (!nodes.has(id)) {
      const i = label.lastIndexOf(':');
      const phased = label.includes('/') && i > 0;
      const ws = phased ? label.slice(0, i) : 'other subjects';
      const gid = 'ws:' + ws;
      if (!groups.has(gid)) groups.set(gid, { id: gid, label: ws, kind: 'workspace', parent: null });
      nodes.set(id, { id, kind: 'subject', label: phased ? label.slice(i + 1) : tail(label, 40), title: label, group: gid, severity: -1 });
    }
    return nodes.get(id);
  };
  for (const s of reach.subjects) {
    // Probes are made-up neighbours: their findings are shown, not their nodes.
    if (/^probe /.test(s.subject)) continue;
    subject(s.subject);
    for (const e of s.edges) {
      const from = e.from.startsWith('arn:') ? role(e.from) : subject(e.from);
      const to = role(e.to);
      const key = from.id + ' -> ' + to.id;
      if (!edges.has(key)) edges.set(key, { id: 'edge-' + edges.size, from: from.id, to: to.id, edge: e, label: edgeLabel(e), severity: -1 });
    }
  }
  for (const r of reach.roles) role(r.arn).summary = r;
  for (const f of reach.findings) {
    const n = role(f.role);
    const rank = SEVERITIES.indexOf(f.severity);
    if (f.rule === 'unreachable-role') n.unreached = true;
    else n.severity = Math.max(n.severity, rank);
    for (const s of f.subjects || []) {
      const e = edges.get('s:' + s + ' -> ' + f.role);
      if (e) e.severity = Math.max(e.severity, rank);
    }
  }
  return { groups, nodes, edges, findings: reach.findings };
}

let measure;
function textWidth(text, px) {
  if (!measure) measure = document.createElement('canvas').getContext('2d');
  measure.font = px + 'px system-ui, sans-serif';
  return Math.ceil(measure.measureText(text).width);
}

function elkGraph(model) {
  const root = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.spacing.nodeNode': '14',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.edgeLabel': '4',
      'elk.layered.thoroughness': '1',
    },
    children: [],
    edges: [],
  };
  const made = new Map();
  const box = (gid) => {
    if (gid === null) return root;
    if (!made.has(gid)) {
      const g = model.groups.get(gid);
      // A box is at least as wide as its title.
      const min = '(' + (textWidth(g.label, 12) + 20) + ', 0)';
      const node = { id: gid, children: [], layoutOptions: { 'elk.padding': '[top=28,left=10,bottom=10,right=10]', 'elk.nodeSize.constraints': 'MINIMUM_SIZE', 'elk.nodeSize.minimum': min } };
      made.set(gid, node);
      box(g.parent).children.push(node);
    }
    return made.get(gid);
  };
  for (const n of model.nodes.values()) box(n.group).children.push({ id: n.id, width: textWidth(n.label, 12) + 20, height: 28 });
  for (const e of model.edges.values()) {
    root.edges.push({ id: e.id, sources: [e.from], targets: [e.to], labels: [{ text: e.label, width: textWidth(e.label, 11) + 4, height: 14 }] });
  }
  return root;
}

function pathOf(section) {
  const pts = [section.startPoint, ...(section.bendPoints || []), section.endPoint];
  return pts.map((p, i) => (i === 0 ? 'M' : 'L') + p.x + ' ' + p.y).join(' ');
}

/** Lays the model out and draws it into container; resolves to the timings (ms). */
export async function renderGraph(container, model, onSelect) {
  const layout = await loadElk();
  const t0 = performance.now();
  const laid = await layout.layout(elkGraph(model));
  const t1 = performance.now();
  const w = Math.ceil(laid.width);
  const h = Math.ceil(laid.height);
  const root = svg('svg', { class: 'reach', width: w, height: h, viewBox: '0 0 ' + w + ' ' + h, role: 'group', 'aria-label': 'Reachability graph: ' + model.nodes.size + ' nodes, ' + model.edges.size + ' arrows' });
  root.appendChild(svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, svg('path', { d: 'M0 0 L10 5 L0 10 z' }))));
  const groupLayer = svg('g', {});
  const nodeLayer = svg('g', {});
  const edgeLayer = svg('g', {});
  root.append(groupLayer, nodeLayer, edgeLayer);
  const walk = (n) => {
    for (const c of n.children || []) {
      const g = model.groups.get(c.id);
      if (g) {
        groupLayer.appendChild(svg('g', { class: 'group ' + g.kind, 'data-group': g.id },
          svg('rect', { x: c.x, y: c.y, width: c.width, height: c.height, rx: 6 }),
          svg('text', { class: 'title', x: c.x + 8, y: c.y + 18 }, g.label)));
        walk(c);
        continue;
      }
      const m = model.nodes.get(c.id);
      const cls = ['node', m.kind, m.severity >= 0 ? 'finding sev-' + SEVERITIES[m.severity] : '', m.unreached ? 'unreached' : ''].join(' ');
      nodeLayer.appendChild(svg('g', { class: cls, 'data-node': m.id, tabindex: m.severity >= 0 || m.unreached ? -1 : undefined },
        svg('title', {}, m.title + (m.unreached ? ' (no subject reaches it)' : '')),
        svg('rect', { x: c.x, y: c.y, width: c.width, height: c.height }),
        svg('text', { x: c.x + 10, y: c.y + 18 }, m.label)));
    }
  };
  walk(laid);
  const byId = new Map([...model.edges.values()].map((e) => [e.id, e]));
  for (const le of laid.edges) {
    const e = byId.get(le.id);
    const d = (le.sections || []).map(pathOf).join(' ');
    const label = (le.labels || [])[0];
    const from = model.nodes.get(e.from);
    const to = model.nodes.get(e.to);
    const g = svg('g', { class: 'edge' + (e.severity >= 0 ? ' finding' : ''), tabindex: 0, role: 'button', 'data-edge': e.id, 'data-from': from.title, 'data-to': to.title, 'aria-label': from.title + ' to ' + to.title + ', admitted by ' + e.label },
      svg('path', { class: 'hit', d }),
      svg('path', { class: 'line', d, 'marker-end': 'url(#arrow)' }),
      label ? svg('text', { x: label.x, y: label.y + 11 }, e.label) : null);
    const pick = () => onSelect(e, g);
    g.addEventListener('click', pick);
    g.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); }
    });
    edgeLayer.appendChild(g);
  }
  container.replaceChildren(root);
  const t2 = performance.now();
  return { layoutMs: t1 - t0, drawMs: t2 - t1, nodes: model.nodes.size, edges: model.edges.size };
}

function findingsView(model) {
  const shown = model.findings;
  if (shown.length === 0) return el('p', { className: 'hint' }, 'No findings.');
  return el('section', {}, el('h3', {}, 'Findings'), el('ul', {}, shown.map((f) => {
    const go = el('button', {}, 'Show role');
    go.addEventListener('click', () => {
      const n = document.querySelector('[data-node="' + CSS.escape(f.role) + '"]');
      if (n) { n.scrollIntoView({ block: 'center', inline: 'center' }); n.focus(); }
    });
    return el('li', { className: 'finding ' + f.severity, 'data-rule': f.rule },
      el('span', { className: 'sev ' + f.severity }, f.severity), ' ', f.rule, ': ', f.message, ' (', el('code', {}, f.role), ') ', go);
  })));
}

let lastEdge;
function closePanel() {
  $('edge-panel').hidden = true;
  for (const s of document.querySelectorAll('svg.reach .edge.selected')) s.classList.remove('selected');
  if (lastEdge) lastEdge.focus();
}

async function explainEdge(e, g) {
  for (const s of document.querySelectorAll('svg.reach .edge.selected')) s.classList.remove('selected');
  if (g) g.classList.add('selected');
  lastEdge = g;
  const x = e.edge;
  $('edge-title').textContent = x.from + ' → ' + x.to;
  const facts = el('dl', { className: 'facts' },
    el('dt', {}, 'call'), el('dd', {}, x.call),
    el('dt', {}, 'hop'), el('dd', {}, String(x.depth)),
    el('dt', {}, 'longest session'), el('dd', {}, x.maxSessionSeconds + ' s' + (x.chainCapped ? ' (a chained session is capped at one hour)' : '')),
    el('dt', {}, 'admitted by'), el('dd', {}, e.label));
  const allowed = el('section', {}, el('h4', {}, 'Allowed by'), el('ul', {}, x.allowedBy.map((a) => el('li', {},
    a.policy + ', statement ' + (a.sid !== undefined ? a.sid + ' (#' + a.index + ')' : '#' + a.index),
    a.conditions.length > 0 ? el('ul', {}, a.conditions.map((c) => el('li', { className: 'mono' }, c))) : null))));
  const body = $('edge-body');
  body.replaceChildren(facts, allowed, el('p', {}, 'Explaining…'));
  $('edge-panel').hidden = false;
  $('edge-title').focus();
  const parts = [];
  for (const [i, d] of x.decisions.entries()) {
    const r = await api('/api/v1/explain/trace', { trace: d });
    const id = 'edge-text-' + i;
    const copy = el('button', { className: 'copy', 'data-copy': id }, 'Copy');
    copy.addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText($(id).textContent).catch(() => {}));
    parts.push(el('section', { className: 'edge-decision' }, el('h4', {}, 'Decision ' + (i + 1) + ': ' + d.action),
      decisionView(r.drawn, r.hints),
      el('details', { className: 'text' }, el('summary', {}, 'As text'), copy, el('pre', { id }, r.lines.join('\n')))));
  }
  body.replaceChildren(facts, allowed, ...parts);
}

export async function showGraph() {
  $('graph-status').textContent = 'Analysing…';
  const [reach, tree] = await Promise.all([api('/api/v1/reach', {}), api('/api/v1/org-tree')]);
  const model = graphModel(reach, tree);
  $('findings').replaceChildren(findingsView(model));
  const select = (e, g) => explainEdge(e, g).catch((err) => { $('edge-body').replaceChildren(el('p', { role: 'alert' }, err.message)); });
  $('edge-list').querySelector('ul').replaceChildren(...[...model.edges.values()].map((e) => {
    const b = el('button', { 'data-edge': e.id }, model.nodes.get(e.from).title + ' → ' + model.nodes.get(e.to).title + ' (' + e.label + ')');
    b.addEventListener('click', () => select(e, document.querySelector('svg.reach [data-edge="' + e.id + '"]')));
    return el('li', {}, b);
  }));
  $('edge-close').onclick = closePanel;
  $('edge-panel').onkeydown = (ev) => { if (ev.key === 'Escape') closePanel(); };
  $('graph-status').textContent = 'Laying out ' + model.nodes.size + ' nodes…';
  const t = await renderGraph($('canvas'), model, select);
  $('graph-status').textContent = t.nodes + ' nodes, ' + t.edges + ' arrows; laid out in ' + Math.round(t.layoutMs) + ' ms, drawn in ' + Math.round(t.drawMs) + ' ms.';
}
`;
