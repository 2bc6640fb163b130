// /ui/dom.js: the UI's shared helpers: building elements (text only, never markup), calling the
// admin API, and a decision drawn from the explain API's `drawn` result (layers as pass/fail steps,
// the deciding statement with expected and presented values side by side, the fix, the text).
// Browser code in a template string: no backticks, no dollar-brace and no backslashes in it.

export const DOM_JS = `// gatepass operator UI: shared helpers. textContent only.
export const KEY = 'gatepass.adminToken';
export const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text nodes, never markup). */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'className') e.className = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}

export const iso = (ms) => (typeof ms === 'number' ? new Date(ms).toISOString() : '');

export class SignedOut extends Error {}

/** The admin API with the tab's token: JSON in, JSON out; a refused token signs the tab out. */
export async function api(path, body) {
  $('error').hidden = true;
  const init = { headers: { authorization: 'Bearer ' + sessionStorage.getItem(KEY) } };
  if (body !== undefined) {
    init.method = 'POST';
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const json = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) {
    sessionStorage.removeItem(KEY);
    location.hash = '';
    throw new SignedOut('That token was refused: use the admin token.');
  }
  if (!res.ok) {
    const e = json.error || {};
    const field = e.field ? ' (' + e.field + (e.reason ? ': ' + e.reason : '') + ')' : '';
    throw new Error((e.message || 'HTTP ' + res.status) + field);
  }
  return json;
}

const OUTCOME_WORDS = { pass: 'allows', fail: 'refuses', none: 'no statement applies', skipped: 'not evaluated' };
const VERDICT = { Allow: 'ALLOWED', ExplicitDeny: 'DENIED (explicit deny)', ImplicitDeny: 'DENIED (no statement allows it)' };
const values = (v) => (v === null ? '(absent)' : v.length === 0 ? '(none)' : v.map((x) => (x === '' ? '""' : x)).join(' | '));

/** The layers a request meets, in order, as a row of pass/fail steps. */
function steps(drawn) {
  return el('ol', { className: 'steps', 'aria-label': 'Evaluation layers' },
    drawn.steps.map((s) => el('li', {
      className: 'step ' + s.outcome + (s.deciding ? ' deciding' : ''),
      'data-layer': s.layer,
      'data-outcome': s.outcome,
      'aria-current': s.deciding ? 'step' : undefined,
    }, el('strong', {}, s.name), OUTCOME_WORDS[s.outcome] + (s.deciding ? ': decided here' : ''),
      s.note ? el('div', { className: 'hint' }, s.note) : null)));
}

function statement(st) {
  const label = 'statement ' + (st.sid !== undefined ? st.sid + ' (#' + st.index + ')' : '#' + st.index) + ' ' + st.effect;
  const outcome = st.matched ? 'matches' : 'does not match: ' + ({ action: 'another action', resource: 'another resource', principal: 'does not name the caller', condition: 'a condition failed' }[st.reason] || st.reason);
  const parts = [el('h4', {}, 'Deciding statement: ', st.policy, ', ', label), el('p', {}, outcome)];
  if (st.conditions.length > 0) {
    parts.push(el('div', { className: 'scroll' }, el('table', { className: 'conditions' },
      el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, 'condition'), el('th', {}, 'expected'), el('th', {}, 'presented'))),
      el('tbody', {}, st.conditions.map((c) => el('tr', { className: c.matched ? 'ok' : 'fail' },
        el('td', { className: c.matched ? 'ok' : 'fail' }, c.matched ? 'ok' : 'FAIL'),
        el('td', {}, c.operator + ' ' + c.key + (c.note ? ' (' + c.note + ')' : '')),
        el('td', { className: 'expected' }, values(c.expected)),
        el('td', { className: 'presented' }, values(c.presented))))))));
  }
  return el('section', { className: 'statement' }, parts);
}

/** A decision drawn: verdict, steps, deciding statement, fix. */
export function decisionView(drawn, hints) {
  return el('div', { className: 'decision' },
    el('p', {}, drawn.action, ' on ', drawn.resource, ': ', el('strong', { className: 'verdict-' + drawn.effect }, VERDICT[drawn.effect] || drawn.effect)),
    drawn.principal && drawn.principal.id ? el('p', { className: 'hint' }, 'caller: ', drawn.principal.id) : null,
    steps(drawn),
    drawn.statement ? statement(drawn.statement) : null,
    el('p', { className: 'why' }, el('strong', {}, 'Why: '), drawn.why),
    hints && hints.length > 0 ? el('div', { className: 'fix' }, el('h4', {}, 'Fix'), el('ul', { className: 'fixes' }, hints.map((h) => el('li', {}, h)))) : null);
}

/** Copy buttons copy the text of the element their data-copy names. */
export function wireCopy(root) {
  for (const b of root.querySelectorAll('button.copy')) {
    b.addEventListener('click', () => {
      const text = $(b.dataset.copy).textContent;
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(() => { b.textContent = 'Copied'; }, () => {});
      const range = document.createRange();
      range.selectNodeContents($(b.dataset.copy));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    });
  }
}
`;
