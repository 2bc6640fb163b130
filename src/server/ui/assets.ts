// The operator UI's three static files. It is a client of the admin API (/api/v1/audit and
// /api/v1/explain) with the admin token the operator types in, kept in sessionStorage for the tab.
// Audit events carry text that callers chose (session names, user agents, claims), so the page only
// ever sets textContent, and the CSP allows no inline script or style.

export const UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gatepass</title>
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<header><h1>gatepass</h1><button id="signout" hidden>Sign out</button></header>
<main>
<section id="signin" hidden>
  <h2>Sign in</h2>
  <form id="signin-form">
    <label>Admin token <input id="token" type="password" autocomplete="off" required></label>
    <button type="submit">Sign in</button>
  </form>
  <p class="hint">The token is in <code>&lt;data dir&gt;/admin-token</code>. It stays in this tab only.</p>
</section>
<section id="audit" hidden>
  <h2>Audit log</h2>
  <form id="filters">
    <label>Decision <select name="decision">
      <option value="">any</option><option>deny</option><option>allow</option><option>error</option><option>info</option>
    </select></label>
    <label>Action <input name="action" placeholder="sts:AssumeRoleWithWebIdentity"></label>
    <label>Role <input name="role" placeholder="role ARN"></label>
    <label>Run <input name="run" placeholder="run-…"></label>
    <label>Request <input name="request" placeholder="request id"></label>
    <label>Since <input name="since" value="24h" placeholder="15m, 2h, 7d or ISO 8601"></label>
    <button type="submit">Search</button>
  </form>
  <table id="events"><thead><tr>
    <th>time</th><th>decision</th><th>action</th><th>reason</th><th>role</th><th>who</th><th>run</th><th>target</th><th>request</th><th></th>
  </tr></thead><tbody></tbody></table>
  <p id="empty" hidden>No matching events.</p>
</section>
<section id="explain" hidden>
  <h2>Why: <span id="explain-id"></span></h2>
  <button id="back">Back to the audit log</button>
  <pre id="explanation"></pre>
</section>
<p id="error" role="alert" hidden></p>
</main>
</body>
</html>
`;

export const UI_CSS = `body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d1d1f; }
header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; background: #1d2b3a; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
main { padding: 1rem; }
form { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td { overflow-wrap: anywhere; }
td:last-child, td:first-child { white-space: nowrap; }
tr.deny td, tr.error td { background: #fff3f0; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; white-space: pre-wrap; }
#error { color: #b00020; }
.hint { color: #666; font-size: .85rem; }
`;

export const UI_JS = `// gatepass operator UI: audit log and explanations through the admin API. textContent only.
const KEY = 'gatepass.adminToken';
const $ = (id) => document.getElementById(id);
const COLUMNS = ['time', 'decision', 'action', 'reasonCode', 'roleArn', 'who', 'runId', 'resource', 'requestId'];

function show(section) {
  for (const id of ['signin', 'audit', 'explain']) $(id).hidden = id !== section;
  $('signout').hidden = section === 'signin';
}

function fail(message) {
  $('error').textContent = message;
  $('error').hidden = false;
}

async function api(path) {
  $('error').hidden = true;
  const res = await fetch(path, { headers: { authorization: 'Bearer ' + sessionStorage.getItem(KEY) } });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) {
    sessionStorage.removeItem(KEY);
    show('signin');
    throw new Error('That token was refused: use the admin token.');
  }
  if (!res.ok) {
    const e = body.error || {};
    const field = e.field ? ' (' + e.field + (e.reason ? ': ' + e.reason : '') + ')' : '';
    throw new Error((e.message || 'HTTP ' + res.status) + field);
  }
  return body;
}

function cell(tr, text) {
  const td = document.createElement('td');
  td.textContent = text;
  tr.appendChild(td);
}

async function search() {
  const params = new URLSearchParams();
  for (const [k, v] of new FormData($('filters'))) if (String(v).trim()) params.set(k, String(v).trim());
  const { items } = await api('/api/v1/audit?' + params);
  const tbody = $('events').tBodies[0];
  tbody.replaceChildren();
  // Newest first, as an operator reads a log.
  for (const e of [...items].reverse()) {
    const tr = document.createElement('tr');
    tr.className = e.decision;
    const row = { ...e, time: new Date(e.time).toISOString(), who: e.sub || e.caller || '' };
    for (const c of COLUMNS) cell(tr, row[c] == null ? '' : String(row[c]));
    const td = document.createElement('td');
    const why = document.createElement('button');
    why.textContent = 'Why?';
    why.addEventListener('click', () => { location.hash = 'request=' + encodeURIComponent(e.requestId); });
    td.appendChild(why);
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  $('empty').hidden = items.length > 0;
}

async function explain(requestId) {
  show('explain');
  $('explain-id').textContent = requestId;
  $('explanation').textContent = '…';
  const r = await api('/api/v1/explain/' + encodeURIComponent(requestId));
  $('explanation').textContent = r.lines.join('\\n');
}

async function route() {
  if (!sessionStorage.getItem(KEY)) return show('signin');
  const m = /^#request=(.+)$/.exec(location.hash);
  if (m) return explain(decodeURIComponent(m[1]));
  show('audit');
  await search();
}

const run = (fn) => (...args) => fn(...args).catch((err) => fail(err.message));

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
  window.addEventListener('hashchange', run(route));
  run(route)();
});
`;
