// /ui/app.js: sign-in, the views' routing (location.hash), the audit log and the "Why?" view. The
// graph and the run timelines are modules of their own, loaded when first shown.
// Browser code in a raw string: no backticks and no dollar-brace in it.

export const APP_JS = String.raw`// gatepass operator UI: audit log, explanations, reach graph and run timelines through the admin API.
import { $, KEY, api, decisionView, el, iso, SignedOut, wireCopy } from '/ui/dom.js';

const SECTIONS = ['signin', 'audit', 'explain', 'graph', 'runs', 'run'];
const COLUMNS = ['time', 'decision', 'action', 'reasonCode', 'roleArn', 'who', 'runId', 'resource', 'requestId'];

function show(section) {
  for (const id of SECTIONS) $(id).hidden = id !== section;
  const signedIn = section !== 'signin';
  $('signout').hidden = !signedIn;
  $('nav').hidden = !signedIn;
  const current = section === 'explain' ? 'audit' : section === 'run' ? 'runs' : section;
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.view === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function fail(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

function cell(tr, text) {
  tr.appendChild(el('td', {}, text));
}

async function search() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($('filters'))) if (String(v).trim()) params.set(k, String(v).trim());
  const { items } = await api('/api/v1/audit?' + params);
  const tbody = $('events').tBodies[0];
  tbody.replaceChildren();
  // Newest first, as an operator reads a log.
  for (const e of [...items].reverse()) {
    const tr = el('tr', { className: e.decision });
    const row = { ...e, time: iso(e.time), who: e.sub || e.caller || '' };
    for (const c of COLUMNS) cell(tr, row[c] == null ? '' : String(row[c]));
    const why = el('button', {}, 'Why?');
    why.addEventListener('click', () => { location.hash = 'request=' + encodeURIComponent(e.requestId); });
    tr.appendChild(el('td', {}, why));
    tbody.appendChild(tr);
  }
  $('empty').hidden = items.length > 0;
}

const FACTS = ['caller', 'roleArn', 'resource', 'sub', 'aud', 'jti', 'runId', 'phase', 'sessionId', 'accessKeyId', 'sourceIp'];

function eventView(x) {
  const e = x.event;
  const facts = el('dl', { className: 'facts' });
  for (const k of FACTS) if (e[k] !== undefined) facts.append(el('dt', {}, k), el('dd', {}, String(e[k])));
  const story = e.detail && typeof e.detail.explanation === 'string' ? e.detail.explanation : undefined;
  return el('article', { className: 'event ' + e.decision },
    el('h3', {}, e.action, ' ', e.decision.toUpperCase(), e.reasonCode ? ' (' + e.reasonCode + ')' : '', ' at ', iso(e.time)),
    facts,
    x.recomputed ? el('p', { className: 'hint' }, '(' + x.recomputed + ')') : null,
    (x.warnings || []).map((w) => el('p', { className: 'warning' }, 'Allowed, but the trust policy is too open: ' + w)),
    x.drawn ? decisionView(x.drawn, x.hints) : null,
    !x.drawn && story ? el('p', { className: 'why' }, el('strong', {}, 'Why: '), story) : null,
    !x.drawn && x.hints.length > 0 ? el('ul', { className: 'fixes' }, x.hints.map((h) => el('li', {}, 'Fix: ' + h))) : null);
}

async function explain(requestId) {
  show('explain');
  $('explain-id').textContent = requestId;
  $('explanation').textContent = '…';
  $('decisions').replaceChildren();
  const r = await api('/api/v1/explain/' + encodeURIComponent(requestId));
  $('decisions').replaceChildren(...r.events.map(eventView));
  $('explanation').textContent = r.lines.join('\n');
}

async function route() {
  if (!sessionStorage.getItem(KEY)) return show('signin');
  const h = location.hash;
  let m = /^#request=(.+)$/.exec(h);
  if (m) return explain(decodeURIComponent(m[1]));
  if (h === '#graph') {
    show('graph');
    return (await import('/ui/graph.js')).showGraph();
  }
  if (h === '#runs') {
    show('runs');
    return (await import('/ui/runs.js')).showRuns();
  }
  m = /^#run=(.+)$/.exec(h);
  if (m) {
    show('run');
    return (await import('/ui/runs.js')).showRun(decodeURIComponent(m[1]));
  }
  show('audit');
  await search();
}

const run = (fn) => (...args) => fn(...args).catch((err) => {
  if (err instanceof SignedOut) show('signin');
  fail(err.message);
});

document.addEventListener('DOMContentLoaded', () => {
  $('signin-form').addEventListener('submit', run(async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $('token').value.trim());
    $('token').value = '';
    await route();
  }));
  $('filters').addEventListener('submit', run(async (ev) => {
    ev.preventDefault();
    await search();
  }));
  $('back').addEventListener('click', () => { location.hash = ''; });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    location.hash = '';
    show('signin');
  });
  wireCopy(document);
  window.addEventListener('hashchange', run(async () => {
    await route();
    $('main').focus();
  }));
  run(route)();
});
`;
