// The operator UI at /ui: its files and headers over HTTP, then in Debian's Chromium driven by
// playwright-core against a live node: sign in with the admin token, find a denial in the audit log,
// open its explanation; see an IAM write with its caller and target; caller-chosen text (a token's sub)
// stays text.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { IAMClient, UpdateRoleDescriptionCommand } from '@aws-sdk/client-iam';
import { chromium } from 'playwright-core';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';
import { httpRequest } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const PLAN_SUB = 'organization:acme:project:Infra:workspace:net:run_phase:plan';
const XSS_SUB = '<img src=x onerror="window.__xss=1">';
let fx: CloudFixture;
let adminToken: string;
let roleArn: string;

async function webIdentity(sub: string): Promise<number> {
  const token = await fx.idp.sign(fx.idp.claims({ sub }));
  const res = await fetch(`${fx.url}/`, {
    method: 'POST',
    body: new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: 'ui',
      WebIdentityToken: token,
    }),
  });
  await res.text();
  return res.status;
}

before(async () => {
  fx = await startCloud();
  adminToken = readFileSync(join(fx.dataDir, 'admin-token'), 'utf8').trim();
  const host = fx.idp.issuer.replace(/^https:\/\//, '');
  const spec = parseSetup(
    [
      'accounts:',
      '  - name: hub',
      `    id: "${fx.accountId}"`,
      `    oidcProviders: [{ url: "${fx.idp.issuer}", clientIds: [aws.workload.identity], thumbprints: [${fx.pki.caThumbprint}] }]`,
      '    roles:',
      '      - name: ui-plan',
      '        trustPolicy:',
      '          Version: "2012-10-17"',
      '          Statement:',
      '            - Effect: Allow',
      `              Principal: { Federated: "arn:aws:iam::${fx.accountId}:oidc-provider/${host}" }`,
      '              Action: sts:AssumeRoleWithWebIdentity',
      `              Condition: { StringEquals: { "${host}:aud": aws.workload.identity, "${host}:sub": "${PLAN_SUB}" } }`,
    ].join('\n'),
    'ui.yaml',
  );
  await applySetup(fx.app.store, spec, { random: cryptoRandom, clock: systemClock }, { file: 'ui.yaml' });
  await fx.cloud.sync();
  roleArn = `arn:aws:iam::${fx.accountId}:role/ui-plan`;
  assert.equal(await webIdentity(PLAN_SUB), 200);
  assert.equal(await webIdentity(PLAN_SUB.replace(':plan', ':apply')), 403);
  assert.equal(await webIdentity(XSS_SUB), 403);
  // A management write by the administrator: on the record, with the role it changed.
  await new IAMClient({ endpoint: fx.url, region: 'us-east-1', credentials: fx.admin, maxAttempts: 1 }).send(
    new UpdateRoleDescriptionCommand({ RoleName: 'ui-plan', Description: 'plan only' }),
  );
  await fx.cloud.flushAudit();
});

after(() => fx?.stop());

test('/ui serves the page, script and style with a CSP that allows no inline script and no framing', async () => {
  for (const [path, type] of [
    ['/ui', /^text\/html/],
    ['/ui/', /^text\/html/],
    ['/ui/app.js', /^text\/javascript/],
    ['/ui/app.css', /^text\/css/],
    ['/ui/dom.js', /^text\/javascript/],
    ['/ui/graph.js', /^text\/javascript/],
    ['/ui/runs.js', /^text\/javascript/],
    ['/ui/elk-api.js', /^text\/javascript/],
    ['/ui/elk-worker.js', /^text\/javascript/],
  ] as const) {
    const r = await httpRequest(`${fx.url}${path}`);
    assert.equal(r.status, 200, path);
    assert.match(String(r.headers['content-type']), type);
    assert.match(String(r.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  assert.doesNotMatch((await httpRequest(`${fx.url}/ui`)).body, /<script>|\sstyle=|\son[a-z]+=/);
  assert.equal((await httpRequest(`${fx.url}/ui/nope.js`)).status, 404);
});

test('/ui serves the graph layout library from the node itself, gzipped only when the browser takes gzip', async () => {
  const get = (encoding: string) =>
    new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      const req = request(
        `${fx.url}/ui/elk-worker.js`,
        { headers: { 'accept-encoding': encoding } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  const file = readFileSync(createRequire(import.meta.url).resolve('elkjs/lib/elk-worker.min.js'));
  const plain = await get('identity');
  assert.equal(plain.encoding, undefined);
  assert.ok(plain.body.equals(file), 'the package’s worker, byte for byte');
  const zipped = await get('gzip, deflate, br');
  assert.equal(zipped.encoding, 'gzip');
  assert.ok(gunzipSync(zipped.body).equals(file));
  assert.ok(zipped.body.length < file.length / 2);
  assert.equal((await get('gzip;q=0, identity')).encoding, undefined);
});

test('in Chromium: sign in, find the denial, read why; a wrong token is refused; caller text stays text', async () => {
  assert.ok(existsSync(CHROMIUM), 'Debian chromium is installed by .ci/run');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${fx.url}/ui`);

    await page.fill('#token', 'not-the-token');
    await page.click('#signin-form button');
    await page.waitForSelector('#error:not([hidden])');
    assert.match((await page.textContent('#error')) ?? '', /token was refused/);

    await page.fill('#token', adminToken);
    await page.click('#signin-form button');
    await page.waitForSelector('#events tbody tr');
    const rows = await page.$$eval('#events tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    const denials = rows.filter((r) => r[1] === 'deny' && r[2] === 'sts:AssumeRoleWithWebIdentity');
    assert.equal(denials.length, 2, JSON.stringify(rows));
    assert.ok(rows.some((r) => r[1] === 'allow' && r[5] === PLAN_SUB));
    // The IAM write shows who made it and the role it changed.
    assert.ok(
      rows.some(
        (r) =>
          r[1] === 'allow' &&
          r[2] === 'iam:UpdateRoleDescription' &&
          /:user\/gatepass-admin$/.test(r[5] ?? '') &&
          r[7] === roleArn,
      ),
      JSON.stringify(rows),
    );
    // The sub an attacker chose is shown as the characters it is, and ran nothing.
    assert.ok(denials.some((r) => r[5] === XSS_SUB));
    assert.equal(await page.evaluate(() => (globalThis as Record<string, unknown>).__xss), undefined);
    assert.equal(await page.$$eval('#events img', (imgs) => imgs.length), 0);

    // Filters go to the API: only denials.
    await page.selectOption('select[name=decision]', 'deny');
    await page.click('#filters button');
    await page.waitForSelector('#events tbody tr.allow', { state: 'detached' });

    // "Why?" on the wrong-phase denial: the failed sub condition, as `gatepass explain` prints it.
    const applyRow = page.locator('#events tbody tr', { hasText: ':run_phase:apply' });
    await applyRow.getByRole('button', { name: 'Why?' }).click();
    let why = '';
    for (let i = 0; i < 100 && !/AssumeRole/.test(why); i++) {
      await new Promise((r) => setTimeout(r, 50));
      why = (await page.textContent('#explanation')) ?? '';
    }
    assert.match(why, /sts:AssumeRoleWithWebIdentity/);
    assert.match(why, /deciding layer: trust policy/);
    assert.match(why, /:sub expected \S+run_phase:plan, the token has \S+run_phase:apply/);
    assert.match(page.url(), /#request=/);

    // Back, then sign out: the token leaves the tab.
    await page.click('#back');
    await page.waitForSelector('#audit:not([hidden])');
    await page.click('#signout');
    await page.waitForSelector('#signin:not([hidden])');
    assert.equal(
      await page.evaluate(
        () => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length,
      ),
      0,
    );
    // Failed loads are the refused token's 401 (and, in some builds, a favicon): not page errors.
    assert.deepEqual(
      errors.filter((e) => !/Failed to load resource/.test(e)),
      [],
    );
  } finally {
    await browser.close();
  }
});
