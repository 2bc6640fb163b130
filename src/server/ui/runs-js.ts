// /ui/runs.js: the runs list and one run's timeline (GET /api/v1/run-timelines[/:id]): phases,
// tokens minted, sessions issued per configuration, revocations, and every request made with the
// run's credentials after they were revoked.
// Browser code in a template string: no backticks, no dollar-brace and no backslashes in it.

export const RUNS_JS = `// gatepass operator UI: run timelines.
import { $, api, el, iso } from '/ui/dom.js';

export async function showRuns() {
  const { items } = await api('/api/v1/run-timelines?limit=100');
  const tbody = $('run-list').tBodies[0];
  tbody.replaceChildren(...items.map((r) => el('tr', { className: r.status },
    el('td', {}, el('a', { href: '#run=' + encodeURIComponent(r.id) }, r.id)),
    el('td', {}, r.organization + '/' + r.workspace),
    el('td', {}, r.status),
    el('td', {}, r.phases.plan),
    el('td', {}, r.phases.apply),
    el('td', {}, String(r.tokens)),
    el('td', {}, iso(r.createdAt)))));
  $('runs-empty').hidden = items.length > 0;
}

const config = (tag) => (tag === undefined ? 'unknown configuration' : tag === '' ? 'default' : 'alias ' + tag);
const later = (ms) => (ms < 1000 ? ms + ' ms' : Math.round(ms / 1000) + ' s');
const why = (requestId) => el('a', { href: '#request=' + encodeURIComponent(requestId) }, 'Why?');

function sessionsByConfiguration(t) {
  const groups = new Map();
  for (const s of t.sessions) {
    const k = s.call === 'AssumeRole' ? 'chained (' + config(s.configuration) + ')' : config(s.configuration);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(s);
  }
  const out = el('section', { className: 'sessions' }, el('h3', {}, 'Sessions issued, by configuration'));
  if (groups.size === 0) out.append(el('p', { className: 'hint' }, 'No session was issued to this run.'));
  for (const [name, list] of groups) {
    out.append(el('h4', {}, name), el('div', { className: 'scroll' }, el('table', { className: 'session-table' },
      el('thead', {}, el('tr', {}, ['issued', 'phase', 'call', 'role', 'account', 'access key', 'revoked'].map((h) => el('th', {}, h)))),
      el('tbody', {}, list.map((s) => el('tr', {},
        el('td', {}, iso(s.time)), el('td', {}, s.phase || ''), el('td', {}, s.call + (s.chainDepth ? ' (hop ' + s.chainDepth + ')' : '')),
        el('td', { className: 'role' }, s.roleArn || ''), el('td', {}, s.accountId || ''), el('td', {}, s.accessKeyId || ''),
        el('td', {}, s.revokedAt ? iso(s.revokedAt) + ' (' + s.revokedBy + ')' : 'not revoked')))))));
  }
  return out;
}

function entries(t) {
  const list = [];
  const phaseTimes = [];
  for (const p of t.run.phases) {
    if (p.startedAt) phaseTimes.push({ time: p.startedAt, kind: 'phase', text: [p.phase + ' phase started'] });
    if (p.finishedAt) phaseTimes.push({ time: p.finishedAt, kind: 'phase', text: [p.phase + ' phase ' + p.status + (p.lapsed ? ' (the agent lease lapsed)' : '')] });
  }
  list.push(...phaseTimes);
  for (const k of t.tokens) list.push({ time: k.issuedAt, kind: 'token', text: ['token minted (to the second) for ' + k.phase + ', ' + config(k.configuration) + ' (jti ' + k.jti + ', aud ' + k.aud + ', expires ' + iso(k.expiresAt) + ')'] });
  for (const s of t.sessions) list.push({ time: s.time, kind: 'session', text: [(s.call === 'AssumeRole' ? 'chained session into ' : 'session issued for ') + (s.roleArn || '?') + ', ' + config(s.configuration) + ' (key ' + (s.accessKeyId || '?') + ')'] });
  for (const r of t.revocations) list.push({ time: r.time, kind: 'revocation', text: ['revoked: ' + r.scope + (r.phase ? ' ' + r.phase : '') + ' (' + r.reason + ')'] });
  for (const d of t.afterRevocation) list.push({ time: d.time, kind: 'after-revocation', text: [
    'used after revocation: ' + d.action + ' refused (' + (d.reasonCode || 'denied') + ') with key ' + (d.accessKeyId || '?') + (d.sessionId ? ', session ' + d.sessionId : '') + (d.revokedAt ? ', ' + later(d.time - d.revokedAt) + ' after it was revoked' : ''),
    d.explanation ? el('div', { className: 'hint' }, d.explanation) : null, ' ', why(d.requestId)] });
  for (const d of t.denials) list.push({ time: d.time, kind: 'denial', text: ['denied: ' + d.action + ' (' + (d.reasonCode || 'denied') + ')' + (d.roleArn ? ' into ' + d.roleArn : ''), ' ', why(d.requestId)] });
  return list.sort((a, b) => a.time - b.time);
}

export async function showRun(id) {
  $('run-id').textContent = id;
  $('run-body').replaceChildren(el('p', {}, '…'));
  const t = await api('/api/v1/run-timelines/' + encodeURIComponent(id));
  const facts = el('dl', { className: 'facts' },
    el('dt', {}, 'workspace'), el('dd', {}, t.run.organization + '/' + t.run.workspace),
    el('dt', {}, 'status'), el('dd', {}, t.run.status),
    el('dt', {}, 'opened'), el('dd', {}, iso(t.run.createdAt)),
    t.run.closedAt ? [el('dt', {}, 'closed'), el('dd', {}, iso(t.run.closedAt))] : null,
    el('dt', {}, 'after revocation'), el('dd', { id: 'after-revocation-count' }, String(t.afterRevocation.length) + ' request(s)'));
  $('run-body').replaceChildren(
    facts,
    el('h3', {}, 'Timeline'),
    el('ol', { className: 'timeline', id: 'run-timeline' }, entries(t).map((x) => el('li', { className: x.kind }, el('time', {}, iso(x.time)), x.text))),
    sessionsByConfiguration(t));
}
`;
