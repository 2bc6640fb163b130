// POST /api/v1/reach and `gatepass reach` online against a real `gatepass serve` on loopback, with
// the flagship example applied to its store: the same table as offline, plus the workspaces the
// issuer knows (no --as needed); bad bodies get the API's invalid_field errors.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import type { ReachResult } from '../../src/cloud/reach/types.js';
import { cli } from '../explain/helpers.js';
import { type AdminNode, hubAndSpoke, startAdminNode } from '../helpers/admin-node.js';

let n: AdminNode;
let node: AdminNode['node'];
let auth: string[];
let caPem: string;
let adminToken: string;

before(async () => {
  n = await startAdminNode(hubAndSpoke('reach-node'));
  ({ node, auth, caPem, adminToken } = n);
});

after(() => n?.stop());

function post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${node.url}/api/v1/reach`,
      {
        method: 'POST',
        ca: caPem,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const roleName = (arn: string) => arn.replace(/^arn:aws:iam::\d{12}:role\//, '');

test('gatepass reach online: the issuer’s own workspaces, each phase reaching exactly its hub and member roles', async () => {
  // The node notices the applied setup through its change feed: retry until it has.
  let result: ReachResult | undefined;
  for (let i = 0; i < 40; i++) {
    const r = await cli(['reach', '--json', '--fail-on', 'never', ...auth]);
    assert.equal(r.code, 0, r.stderr);
    result = JSON.parse(r.stdout) as ReachResult;
    if (result.subjects.find((s) => s.subject === 'acme/Infra/networking:plan')?.roles.length === 3) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.ok(result);
  const reached = (label: string) =>
    result?.subjects
      .find((s) => s.subject === label)
      ?.roles.map(roleName)
      .sort();
  assert.deepEqual(reached('acme/Infra/networking:plan'), [
    'runs/tfc-plan',
    'terraform-plan',
    'terraform-plan',
  ]);
  assert.deepEqual(reached('acme/Infra/networking:apply'), [
    'runs/tfc-apply',
    'terraform-apply',
    'terraform-apply',
  ]);
  // dns is known to the issuer but trusted by no role.
  assert.deepEqual(reached('acme/Infra/dns:plan'), []);
  assert.deepEqual(reached('acme/Infra/dns:apply'), []);
  assert.deepEqual(result.issuers, [node.url]);
  assert.deepEqual(result.findings, []);
});

test('POST /api/v1/reach refuses bad bodies with invalid_field and names the field', async () => {
  const cases: [unknown, string][] = [
    [{ depth: 0 }, 'depth'],
    [{ nope: true }, 'nope'],
    [{ subjects: ['abc'] }, 'subjects'],
    [{ workspaces: [{ organization: 'acme', project: 'Infra', workspace: 'a*' }] }, 'workspaces[0]'],
    [{ workspaces: 'acme/net' }, 'workspaces'],
    [{ issuers: ['http://plain.example'] }, 'issuers'],
  ];
  for (const [body, field] of cases) {
    const r = await post(body);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(JSON.stringify(r.body), new RegExp(field.replace(/[[\]]/g, '\\$&')));
  }
  const noAuth = await new Promise<number>((resolve, reject) => {
    const req = request(`${node.url}/api/v1/reach`, { method: 'POST', ca: caPem }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('{}');
  });
  assert.equal(noAuth, 401);
});
