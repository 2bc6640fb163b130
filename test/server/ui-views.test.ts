// The operator UI's pictures, in Debian's Chromium driven by playwright-core against a real
// `gatepass serve` with the hub-and-spoke example applied: the reach graph (an arrow clicked, and
// one chosen by keyboard, each explained), a run's timeline with requests made after the run was
// revoked (a real run: tokens for the default and an alias configuration, a chained session,
// RevokeRun, then the captured credentials used again), and a denial's evaluation layers; at
// 1280 px and at phone width. Screenshots of each view go to test-output/ui/ (gitignored).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import type { Page } from 'playwright-core';
import type { ReachResult } from '../../src/cloud/reach/types.js';
import type { RunTimeline } from '../../src/server/ui/timeline.js';
import { cli } from '../explain/helpers.js';
import { type AdminNode, hubAndSpoke, startAdminNode } from '../helpers/admin-node.js';
import { withChromium } from '../helpers/chromium.js';

const SHOTS = new URL('../../test-output/ui/', import.meta.url).pathname;
const PLAN = 'acme/Infra/networking:plan';

let n: AdminNode;
let runId = '';
let denialId = '';
const used: { accessKeyId: string; requestId: string }[] = [];

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${n.url}${path}`,
      { method, ca: n.caPem, headers: { authorization: `Bearer ${n.adminToken}`, ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await call(method, path, body, body === undefined ? {} : { 'content-type': 'application/json' });
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

const sts = (credentials?: Keys) =>
  new STSClient({
    endpoint: n.url,
    region: 'us-east-1',
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: n.caPem }) },
    ...(credentials ? { credentials } : {}),
  });

async function webIdentity(token: string, roleArn: string): Promise<Keys> {
  const r = await sts().send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'ui',
      WebIdentityToken: token,
    }),
  );
  const c = r.Credentials;
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
}

/** The AWS error of a call that must fail: its code and request id. */
async function refused(p: Promise<unknown>): Promise<{ code: string; requestId: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name?: string; $metadata?: { requestId?: string } };
    return { code: err.name ?? '', requestId: err.$metadata?.requestId ?? '' };
  }
  assert.fail('the call was allowed');
}

before(async () => {
  n = await startAdminNode(hubAndSpoke('ui-views'));
  // The node notices the applied setup through its change feed.
  let reach: ReachResult | undefined;
  for (let i = 0; i < 60; i++) {
    reach = await json<ReachResult>('POST', '/api/v1/reach', {});
    if (reach.subjects.find((s) => s.subject === PLAN)?.roles.length === 3) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const planRoles = reach?.subjects.find((s) => s.subject === PLAN)?.roles ?? [];
  const [hubPlan, memberPlan] = planRoles;
  const hubApply = reach?.subjects.find((s) => s.subject === 'acme/Infra/networking:apply')?.roles[0];
  assert.ok(hubPlan && memberPlan && hubApply, JSON.stringify(planRoles));

  // A run: the default configuration's token and an alias's, sessions from both, a chained hop.
  const minted = await cli(['token', 'mint', 'acme/networking', '--phase', 'plan', '--json', ...n.auth]);
  assert.equal(minted.code, 0, minted.stderr);
  const plan = JSON.parse(minted.stdout) as { token: string; runId: string };
  runId = plan.runId;
  const alias = await json<{ token: string }>('POST', `/api/v1/runs/${runId}/tokens`, {
    phase: 'plan',
    tag: 'prod',
  });
  const session = await webIdentity(plan.token, hubPlan);
  const chained = (
    await sts(session).send(new AssumeRoleCommand({ RoleArn: memberPlan, RoleSessionName: 'hop' }))
  ).Credentials;
  await webIdentity(alias.token, hubPlan);
  // The plan token into the apply role: denied by the trust policy's sub condition.
  const denial = await refused(
    sts().send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: hubApply,
        RoleSessionName: 'ui',
        WebIdentityToken: plan.token,
      }),
    ),
  );
  assert.equal(denial.code, 'AccessDenied');
  denialId = denial.requestId;

  // The run ends; its captured credentials are used again and refused.
  const revoked = await call(
    'POST',
    '/',
    new URLSearchParams({
      Action: 'RevokeRun',
      Version: '2011-06-15',
      WebIdentityToken: plan.token,
    }).toString(),
    { 'content-type': 'application/x-www-form-urlencoded' },
  );
  assert.equal(revoked.status, 200, revoked.text);
  for (const keys of [
    session,
    {
      accessKeyId: chained?.AccessKeyId ?? '',
      secretAccessKey: chained?.SecretAccessKey ?? '',
      sessionToken: chained?.SessionToken ?? '',
    },
  ]) {
    const r = await refused(sts(keys).send(new GetCallerIdentityCommand({})));
    assert.equal(r.code, 'InvalidClientTokenId');
    used.push({ accessKeyId: keys.accessKeyId, requestId: r.requestId });
  }
  // Audit events are written in batches: wait until both refusals are on the record.
  for (let i = 0; i < 60; i++) {
    const t = await json<RunTimeline>('GET', `/api/v1/run-timelines/${runId}`);
    if (t.afterRevocation.length >= 2) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await mkdir(SHOTS, { recursive: true });
});

after(() => n?.stop());

/** Signed in at /ui in a fresh Chromium; no page error or CSP violation by the end. */
function withBrowser(fn: (page: Page) => Promise<void>): Promise<void> {
  return withChromium(
    async (context) => {
      const page = context.pages()[0] ?? (await context.newPage());
      // Generous: the first layout compiles elkjs in its worker, slow on a loaded 2-core machine.
      page.setDefaultTimeout(90_000);
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${n.url}/ui`);
      await page.fill('#token', n.adminToken);
      await page.click('#signin-form button');
      await page.waitForSelector('#events tbody tr');
      await fn(page);
      assert.deepEqual(
        errors.filter((e) => !/Failed to load resource/.test(e)),
        [],
      );
    },
    { ignoreHTTPSErrors: true },
  );
}

const noHorizontalScroll = (page: Page) =>
  page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');

test('the reach graph: phases → hub roles → member roles grouped by OU and account; an arrow clicked, and one chosen by keyboard, is explained layer by layer', {
  timeout: 300_000,
}, async () => {
  await withBrowser(async (page) => {
    await page.click('nav a[data-view="graph"]');
    await page.waitForSelector('svg.reach .edge');
    const groups = await page.$$eval('svg.reach .group', (gs) =>
      gs.map((g) => `${g.getAttribute('class')}|${g.querySelector('text')?.textContent}`),
    );
    for (const want of ['workspace|acme/Infra/networking', 'ou|OU tooling', 'ou|OU workloads'])
      assert.ok(
        groups.some((g) => g.includes(want.split('|')[0] ?? '') && g.endsWith(want.split('|')[1] ?? '')),
        `${want} in ${groups.join(', ')}`,
      );
    assert.ok(
      groups.some((g) => /account\|hub \d{12}/.test(g)),
      groups.join(', '),
    );
    // Each phase reaches its hub role and, through it, both member roles: 2 + 4 arrows.
    const edges = await page.$$eval('svg.reach .edge', (es) =>
      es.map((e) => [e.getAttribute('data-from'), e.getAttribute('data-to'), e.textContent]),
    );
    assert.equal(edges.length, 6, JSON.stringify(edges));
    const fromPlan = edges.find((e) => e[0] === PLAN);
    assert.match(fromPlan?.[1] ?? '', /:role\/runs\/tfc-plan$/);
    assert.match(fromPlan?.[2] ?? '', /sub = .*run_phase:plan$/, 'labelled by the condition that admits it');
    await page.screenshot({ path: join(SHOTS, 'graph.png'), fullPage: true });

    await page.click(`svg.reach .edge[data-from="${PLAN}"]`);
    await page.waitForSelector('#edge-body .edge-decision .steps');
    assert.match(
      (await page.textContent('#edge-title')) ?? '',
      /networking:plan → arn:aws:iam::\d{12}:role\/runs\/tfc-plan/,
    );
    const trust = page.locator('#edge-body .step[data-layer="resource"]');
    assert.match((await trust.textContent()) ?? '', /trust policy/);
    assert.equal(await trust.getAttribute('data-outcome'), 'pass');
    const cond = await page.$$eval('#edge-body .conditions tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    assert.ok(
      cond.some((r) => r[0] === 'ok' && /:sub$/.test(r[1] ?? '') && /run_phase:plan$/.test(r[3] ?? '')),
      JSON.stringify(cond),
    );
    assert.match(
      (await page.textContent('#edge-body pre')) ?? '',
      /sts:AssumeRoleWithWebIdentity on .*: ALLOWED/,
    );
    await page.screenshot({ path: join(SHOTS, 'graph-edge.png'), fullPage: true });

    // Keyboard: focus a chained arrow, Enter opens it; Escape closes and gives focus back.
    const hop = 'svg.reach .edge[data-to$=":role/terraform-apply"]';
    await page.focus(hop);
    await page.keyboard.press('Enter');
    await page.locator('#edge-title', { hasText: /terraform-apply$/ }).waitFor();
    await page.waitForSelector('#edge-body .edge-decision .steps');
    assert.equal(await page.evaluate<string>('document.activeElement.id'), 'edge-title');
    const layers = await page.$$eval('#edge-body .edge-decision .step', (ls) =>
      ls.map((l) => l.getAttribute('data-layer')),
    );
    assert.deepEqual(
      layers.slice(0, 3),
      ['scp', 'rcp', 'identity'],
      'a chained hop meets the guard rails and the caller’s policies',
    );
    await page.keyboard.press('Escape');
    assert.equal(await page.isHidden('#edge-panel'), true);
    assert.match(
      await page.evaluate<string>("document.activeElement.getAttribute('data-to')"),
      /terraform-apply$/,
    );

    // Findings are listed and marked on the picture: the reach answer gets two (a role several
    // subjects reach, and a role nobody reaches) on its way to the page.
    await page.route('**/api/v1/reach', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as ReachResult;
      const hubPlan = body.subjects.find((s) => s.subject === PLAN)?.roles[0] ?? '';
      body.findings = [
        {
          rule: 'cross-workspace',
          severity: 'high',
          role: hubPlan,
          message: 'two workspaces reach it',
          subjects: [PLAN],
        },
        {
          rule: 'unreachable-role',
          severity: 'info',
          role: hubPlan.replace(/role\/.*$/, 'role/orphan'),
          message: 'nobody reaches it',
        },
      ];
      await route.fulfill({ response, json: body });
    });
    await page.click('nav a[data-view="audit"]');
    await page.waitForSelector('#audit:not([hidden])');
    await page.click('nav a[data-view="graph"]');
    await page.waitForSelector('svg.reach .node.unreached');
    assert.deepEqual(
      await page.$$eval('#findings li', (lis) => lis.map((li) => li.getAttribute('data-rule'))),
      ['cross-workspace', 'unreachable-role'],
    );
    assert.match(
      (await page.getAttribute('svg.reach .node.finding', 'data-node')) ?? '',
      /role\/runs\/tfc-plan$/,
    );
    assert.match((await page.getAttribute('svg.reach .node.finding', 'class')) ?? '', /sev-high/);
    assert.equal(await page.getAttribute('svg.reach .edge.finding', 'data-from'), PLAN);
    assert.match((await page.getAttribute('svg.reach .node.unreached', 'data-node')) ?? '', /role\/orphan$/);
    await page.click('#findings li[data-rule="unreachable-role"] button');
    assert.match(
      await page.evaluate<string>("document.activeElement.getAttribute('data-node')"),
      /role\/orphan$/,
    );
    await page.screenshot({ path: join(SHOTS, 'graph-findings.png'), fullPage: true });
    await page.unroute('**/api/v1/reach');

    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(
      await noHorizontalScroll(page),
      true,
      'the page does not scroll sideways; the graph scrolls in its box',
    );
    await page.screenshot({ path: join(SHOTS, 'graph-phone.png'), fullPage: true });
  });
});

test('a run’s timeline: tokens and sessions per configuration (default, alias, chained), the revocation, and each use of its credentials after it', {
  timeout: 240_000,
}, async () => {
  await withBrowser(async (page) => {
    await page.click('nav a[data-view="runs"]');
    await page.click(`#run-list a[href="#run=${runId}"]`);
    await page.waitForSelector('#run-timeline li.after-revocation');
    const items = await page.$$eval('#run-timeline li', (lis) =>
      lis.map((li) => [li.className, li.textContent ?? '']),
    );
    const kinds = items.map((i) => i[0]);
    assert.ok(kinds.indexOf('revocation') > kinds.lastIndexOf('session'), JSON.stringify(kinds));
    assert.ok(kinds.indexOf('after-revocation') > kinds.indexOf('revocation'), JSON.stringify(kinds));
    const after = items.filter((i) => i[0] === 'after-revocation').map((i) => i[1]);
    for (const u of used)
      assert.ok(
        after.some((t) => t.includes(u.accessKeyId) && /InvalidClientTokenId/.test(t)),
        `${u.accessKeyId} in ${after.join('\n')}`,
      );
    assert.ok(items.some((i) => i[0] === 'token' && /alias prod/.test(i[1])));
    const headings = await page.$$eval('.sessions h4', (hs) => hs.map((h) => h.textContent));
    assert.deepEqual(headings.sort(), ['alias prod', 'chained (default)', 'default']);
    const revokedCells = await page.$$eval('.session-table tbody tr td:last-child', (tds) =>
      tds.map((t) => t.textContent ?? ''),
    );
    assert.ok(
      revokedCells.length === 3 && revokedCells.every((t) => /^\d{4}-.*\(run: run ended\)$/.test(t)),
      JSON.stringify(revokedCells),
    );
    await page.screenshot({ path: join(SHOTS, 'run-timeline.png'), fullPage: true });

    // "Why?" of a use after revocation: the refusal's story, as `gatepass explain` tells it.
    await page.click(`#run-timeline li.after-revocation a[href="#request=${used[0]?.requestId}"]`);
    // Locators, not waitForFunction: a string predicate would need eval, which the page's CSP refuses.
    await page.locator('#explanation', { hasText: /revoked with its run/ }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goBack();
    await page.waitForSelector('#run-timeline li.after-revocation');
    assert.equal(await noHorizontalScroll(page), true);
    await page.screenshot({ path: join(SHOTS, 'run-timeline-phone.png'), fullPage: true });
  });
});

test('a denial’s layers: a row of pass/fail steps, the deciding trust statement with expected and presented sub side by side, the fix, the text to copy', {
  timeout: 240_000,
}, async () => {
  await withBrowser(async (page) => {
    await page.goto(`${n.url}/ui#request=${denialId}`);
    await page.waitForSelector('#decisions .steps');
    const steps = await page.$$eval('#decisions .step', (ls) =>
      ls.map((l) => [
        l.getAttribute('data-layer'),
        l.getAttribute('data-outcome'),
        l.getAttribute('aria-current'),
      ]),
    );
    assert.deepEqual(
      steps.find((s) => s[0] === 'resource'),
      ['resource', 'fail', 'step'],
    );
    assert.deepEqual(steps.filter((s) => s[2] === 'step').length, 1, 'one deciding layer');
    const rows = await page.$$eval('#decisions .conditions tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    const sub = rows.find((r) => /:sub$/.test(r[1] ?? ''));
    assert.ok(sub, JSON.stringify(rows));
    assert.equal(sub[0], 'FAIL');
    assert.match(sub[2] ?? '', /run_phase:apply$/, 'expected');
    assert.match(sub[3] ?? '', /run_phase:plan$/, 'presented');
    assert.ok((await page.$$('#decisions .fixes li')).length > 0, 'a fix is offered');
    assert.match((await page.textContent('#explanation')) ?? '', /deciding layer: trust policy/);
    await page.screenshot({ path: join(SHOTS, 'why-layers.png'), fullPage: true });
    // Tab reaches the copy button; the text is selected for copying.
    await page.focus('button.copy');
    await page.keyboard.press('Enter');
    assert.match(await page.evaluate<string>('String(getSelection())'), /deciding layer: trust policy/);
    await page.setViewportSize({ width: 390, height: 844 });
    assert.equal(await noHorizontalScroll(page), true);
    // At phone width each condition stacks, so its values keep the width of the screen.
    const widths = await page.$$eval('#decisions .conditions td.presented', (tds) =>
      tds.map((td) => td.getBoundingClientRect().width),
    );
    assert.ok(widths.length > 0 && widths.every((w) => w > 250), JSON.stringify(widths));
    await page.screenshot({ path: join(SHOTS, 'why-layers-phone.png'), fullPage: true });
  });
});

test('the UI’s API: admin token only; run timelines, the org tree, and a reach edge’s decision explained; bad input is a named invalid_field', async () => {
  const list = await json<{
    items: { id: string; tokens: number; organization: string; workspace: string }[];
  }>('GET', '/api/v1/run-timelines');
  const mine = list.items.find((r) => r.id === runId);
  assert.deepEqual([mine?.organization, mine?.workspace, mine?.tokens], ['acme', 'networking', 2]);
  const tree = await json<{
    accounts: { name: string; parentId?: string }[];
    units: { id: string; name: string }[];
  }>('GET', '/api/v1/org-tree');
  const tooling = tree.units.find((u) => u.name === 'tooling');
  assert.equal(tree.accounts.find((a) => a.name === 'hub')?.parentId, tooling?.id);

  const reach = await json<ReachResult>('POST', '/api/v1/reach', {});
  const decision = reach.subjects.find((s) => s.subject === PLAN)?.edges[0]?.decisions[0];
  const explained = await json<{
    drawn: { effect: string; steps: { layer: string; outcome: string }[] };
    lines: string[];
  }>('POST', '/api/v1/explain/trace', { trace: decision });
  assert.equal(explained.drawn.effect, 'Allow');
  assert.equal(explained.drawn.steps.find((s) => s.layer === 'resource')?.outcome, 'pass');
  assert.match(explained.lines[0] ?? '', /^sts:AssumeRoleWithWebIdentity on \S+: ALLOWED$/);

  const why = await json<{ events: { drawn?: { decidingLayer: string } }[] }>(
    'GET',
    `/api/v1/explain/${denialId}`,
  );
  assert.equal(why.events[0]?.drawn?.decidingLayer, 'trust policy');

  const bad: [string, string, unknown, number, RegExp][] = [
    ['GET', '/api/v1/run-timelines?limit=0', undefined, 400, /limit/],
    ['GET', '/api/v1/run-timelines?limit=abc', undefined, 400, /limit/],
    ['GET', '/api/v1/run-timelines/run%20x', undefined, 400, /"id"/],
    ['GET', '/api/v1/run-timelines/run-nope', undefined, 404, /run/],
    ['POST', '/api/v1/explain/trace', {}, 400, /"trace"/],
    ['POST', '/api/v1/explain/trace', { trace: decision, extra: 1 }, 400, /extra/],
    [
      'POST',
      '/api/v1/explain/trace',
      { trace: { ...decision, layers: [{ layer: 'kernel' }] } },
      400,
      /trace\.layers\[0\]\.layer/,
    ],
    ['POST', '/api/v1/explain/trace', '{not json', 400, /./],
  ];
  for (const [method, path, body, status, field] of bad) {
    const r = await call(
      method,
      path,
      body,
      body === undefined ? {} : { 'content-type': 'application/json' },
    );
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.match(r.text, field, `${method} ${path}`);
  }
  for (const [method, path] of [
    ['GET', '/api/v1/run-timelines'],
    ['GET', `/api/v1/run-timelines/${runId}`],
    ['GET', '/api/v1/org-tree'],
    ['POST', '/api/v1/explain/trace'],
  ] as const) {
    const r = await call(method, path, method === 'POST' ? { trace: decision } : undefined, {
      authorization: 'Bearer not-the-token',
    });
    assert.equal(r.status, 401, `${method} ${path}`);
  }
});
