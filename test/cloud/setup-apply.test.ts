// Applying setup files to a real SQLite store: idempotent, all or nothing, dry runs that write
// nothing, errors that point at the field, and the hub-and-spoke example as shipped.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup, SetupError } from '../../src/cloud/setup/schema.js';
import { fixedClock } from '../../src/core/deps.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { openStore } from '../../src/store/open.js';
import type { Store, StoreOps } from '../../src/store/types.js';

const root = mkdtempSync(join(tmpdir(), 'gatepass-setup-'));
after(() => rmSync(root, { recursive: true, force: true }));
const deps = { random: cryptoRandom, clock: fixedClock(1_800_000_000_000) };
const ENV = {
  GATEPASS_ISSUER_URL: 'https://issuer.example.com',
  GATEPASS_ISSUER_HOST: 'issuer.example.com',
  GATEPASS_ISSUER_THUMBPRINT: 'a'.repeat(40),
};
const example = () =>
  parseSetup(readFileSync('examples/hub-and-spoke/setup.yaml', 'utf8'), 'setup.yaml', ENV);
let n = 0;
const fresh = (): Promise<Store> => openStore({ dataDir: join(root, `s${++n}`) });

async function snapshot(store: Store) {
  const kinds = [
    'account',
    'awsOrganization',
    'organizationalUnit',
    'orgPolicy',
    'oidcProvider',
    'role',
    'managedPolicy',
    'user',
  ] as const;
  const out: Record<string, unknown[]> = {};
  for (const k of kinds) out[k] = await store.list(k);
  return out;
}

test('the hub-and-spoke example applies: accounts placed in OUs, SCP and full-access policies attached, roles resolved', async () => {
  const store = await fresh();
  try {
    const result = await applySetup(store, example(), deps, { file: 'setup.yaml' });
    assert.ok(result.changes.every((c) => c.op === 'create'));
    const ids = Object.fromEntries(result.accounts.map((a) => [a.name, a.id]));
    const [org] = await store.list('awsOrganization');
    assert.equal(org?.managementAccountId, ids.management);
    const units = await store.list('organizationalUnit');
    const tooling = units.find((u) => u.name === 'tooling');
    assert.equal((await store.get('account', ids.hub ?? ''))?.parentId, tooling?.id);
    assert.equal((await store.get('account', ids.management ?? ''))?.parentId, org?.rootId);
    const scps = await store.list('orgPolicy', { index: { name: 'type', value: 'SERVICE_CONTROL_POLICY' } });
    const full = scps.find((p) => p.name === 'FullAWSAccess');
    assert.ok(
      full?.targets.includes(org?.rootId ?? '') && full.targets.includes(ids.dev ?? ''),
      'FullAWSAccess on every level',
    );
    assert.deepEqual(scps.find((p) => p.name === 'hub-chaining-only')?.targets, [tooling?.id]);
    const rcps = await store.list('orgPolicy', { index: { name: 'type', value: 'RESOURCE_CONTROL_POLICY' } });
    assert.deepEqual(
      rcps.map((p) => p.name),
      ['RCPFullAWSAccess'],
    );
    for (const level of [org?.rootId, tooling?.id, ids.hub, ids.dev])
      assert.ok(rcps[0]?.targets.includes(level ?? ''), `RCPFullAWSAccess on ${level}`);
    assert.match(ids.hub ?? '', /^[1-9]\d{11}$/);
    const devPlan = await store.getBy('role', 'arn', `arn:aws:iam::${ids.dev}:role/terraform-plan`);
    assert.match(devPlan?.trustPolicy ?? '', new RegExp(`arn:aws:iam::${ids.hub}:role/runs/tfc-plan`));
    assert.deepEqual(devPlan?.attachedPolicies, ['arn:aws:iam::aws:policy/IAMReadOnlyAccess']);
    const hubPlan = await store.getBy('role', 'arn', `arn:aws:iam::${ids.hub}:role/runs/tfc-plan`);
    assert.deepEqual(hubPlan?.attachedPolicies, [`arn:aws:iam::${ids.hub}:policy/runs/chain-plan`]);
  } finally {
    await store.close();
  }
});

test('applying the same file twice changes nothing the second time', async () => {
  const store = await fresh();
  try {
    await applySetup(store, example(), deps, { file: 'setup.yaml' });
    const before = await snapshot(store);
    const seq = await store.latestChange();
    const again = await applySetup(store, example(), deps, { file: 'setup.yaml' });
    assert.deepEqual(
      again.changes.filter((c) => c.op !== 'unchanged'),
      [],
    );
    assert.deepEqual(await snapshot(store), before);
    assert.equal(await store.latestChange(), seq);
  } finally {
    await store.close();
  }
});

test('a dry run reports the changes and writes nothing', async () => {
  const store = await fresh();
  try {
    const result = await applySetup(store, example(), deps, { file: 'setup.yaml', dryRun: true });
    assert.ok(result.changes.length > 10);
    assert.equal(await store.count('account'), 0);
    assert.equal(await store.latestChange(), 0);
  } finally {
    await store.close();
  }
});

test('one bad document anywhere writes nothing and names the field', async () => {
  const store = await fresh();
  try {
    const spec = example();
    const prod = spec.accounts.find((a) => a.name === 'prod');
    assert.ok(prod?.roles[1]);
    prod.roles[1].trustPolicy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*', Principal: { AWS: '*' } }],
    });
    await assert.rejects(applySetup(store, spec, deps, { file: 'setup.yaml' }), (err: unknown) => {
      assert.ok(err instanceof SetupError);
      assert.equal(err.problems[0]?.path, 'accounts[3].roles[1].trustPolicy');
      assert.match(err.problems[0]?.message ?? '', /Resource/);
      return true;
    });
    assert.equal(await store.count('account'), 0);
    assert.equal(await store.count('role'), 0);
  } finally {
    await store.close();
  }
});

test('the OIDC guard rail refuses a trust policy whose sub does not pin the organization, unless switched off', async () => {
  const text = (guard: boolean, sub: string) => `
accounts:
  - name: hub
    oidcGuardRail: ${guard}
    oidcProviders: [{ url: "https://issuer.example.com", clientIds: [aws.workload.identity] }]
    roles:
      - name: loose
        trustPolicy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: sts:AssumeRoleWithWebIdentity
              Principal: { Federated: "arn:aws:iam::\${account:hub}:oidc-provider/issuer.example.com" }
              Condition: { StringLike: { "issuer.example.com:sub": "${sub}" } }
`;
  const store = await fresh();
  try {
    await assert.rejects(
      applySetup(store, parseSetup(text(true, 'organization:acme*'), 's.yaml'), deps, { file: 's.yaml' }),
      (err: unknown) => {
        assert.ok(err instanceof SetupError);
        assert.equal(err.problems[0]?.path, 'accounts[0].roles[0].trustPolicy');
        assert.match(err.problems[0]?.message ?? '', /guard rail/);
        return true;
      },
    );
    await applySetup(store, parseSetup(text(true, 'organization:acme:*'), 's.yaml'), deps, {
      file: 's.yaml',
    });
    await applySetup(store, parseSetup(text(false, 'organization:acme*'), 's.yaml'), deps, {
      file: 's.yaml',
    });
    assert.match((await store.list('role'))[0]?.trustPolicy ?? '', /acme\*/);
  } finally {
    await store.close();
  }
});

test('a dry run names the fields an update would change', async () => {
  const text = (description: string, max: number) => `
accounts:
  - name: a
    roles:
      - name: r
        description: ${description}
        maxSessionDuration: ${max}
        trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: { AWS: "arn:aws:iam::123456789012:root" } }] }
`;
  const store = await fresh();
  try {
    await applySetup(store, parseSetup(text('one', 3600), 's.yaml'), deps, { file: 's.yaml' });
    const before = await snapshot(store);
    const result = await applySetup(store, parseSetup(text('two', 7200), 's.yaml'), deps, {
      file: 's.yaml',
      dryRun: true,
    });
    assert.deepEqual(
      result.changes.filter((c) => c.op !== 'unchanged').map((c) => [c.op, c.name, c.fields]),
      [['update', 'a/role/r', ['description', 'maxSessionDuration']]],
    );
    assert.deepEqual(await snapshot(store), before);
  } finally {
    await store.close();
  }
});

test('a changed managed policy document becomes a new default version; an unknown placeholder is an error', async () => {
  const text = (action: string) => `
accounts:
  - name: a
    policies: [{ name: p, document: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "${action}", Resource: "*" }] } }]
`;
  const store = await fresh();
  try {
    await applySetup(store, parseSetup(text('iam:GetRole'), 's.yaml'), deps, { file: 's.yaml' });
    const result = await applySetup(store, parseSetup(text('iam:ListRoles'), 's.yaml'), deps, {
      file: 's.yaml',
    });
    assert.deepEqual(
      result.changes.filter((c) => c.op === 'update').map((c) => [c.name, c.fields]),
      [['a/policy/p', ['document']]],
    );
    const [policy] = (await store.list('managedPolicy')).filter((p) => p.accountId !== 'aws');
    assert.equal(policy?.defaultVersionId, 'v2');
    assert.equal(policy?.versions.length, 2);
    await assert.rejects(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file placeholder syntax, not a template.
      applySetup(store, parseSetup(text('iam:${account:ghost}'), 's.yaml'), deps, { file: 's.yaml' }),
      (err: unknown) =>
        err instanceof SetupError && /unknown account in placeholder/.test(err.problems[0]?.message ?? ''),
    );
  } finally {
    await store.close();
  }
});

/** The store with its transactions watched: each transaction's writes counted, how its body ended. */
function watched(store: Store, failOnWrite?: number) {
  const seen = { writes: 0, bodies: [] as ('resolved' | 'rejected')[] };
  const transaction: Store['transaction'] = (fn) =>
    store.transaction(async (tx) => {
      // A lost disk write, half way through: the engine refuses this one write.
      const step = (): void => {
        seen.writes++;
        if (seen.writes === failOnWrite) throw new Error('injected write failure');
      };
      const faulty: StoreOps = {
        get: (kind, id) => tx.get(kind, id),
        getVersioned: (kind, id) => tx.getVersioned(kind, id),
        getBy: (kind, index, value) => tx.getBy(kind, index, value),
        list: (kind, options) => tx.list(kind, options),
        count: (kind, options) => tx.count(kind, options),
        insert: async (kind, record) => {
          step();
          return tx.insert(kind, record);
        },
        update: async (kind, record, expectRev) => {
          step();
          return tx.update(kind, record, expectRev);
        },
        put: async (kind, record) => {
          step();
          return tx.put(kind, record);
        },
        delete: async (kind, id) => {
          step();
          return tx.delete(kind, id);
        },
        appendAudit: async (events) => {
          step();
          return tx.appendAudit(events);
        },
      };
      try {
        const out = await fn(faulty);
        seen.bodies.push('resolved');
        return out;
      } catch (err) {
        seen.bodies.push('rejected');
        throw err;
      }
    });
  return { store: Object.assign(Object.create(store) as Store, { transaction }), seen };
}

test('an apply whose store write fails half way changes nothing: no record, no audit event, no change', async () => {
  const store = await fresh();
  try {
    // Applied once, then changed: the second apply updates as well as creates.
    await applySetup(store, example(), deps, { file: 'setup.yaml' });
    const before = await snapshot(store);
    const seq = await store.latestChange();
    const audit = await store.queryAudit({ limit: 100 });
    const changed = example();
    const hub = changed.accounts.find((a) => a.name === 'hub');
    assert.ok(hub?.roles[0]);
    hub.roles[0].description = 'changed';
    hub.users.push({
      name: 'late',
      path: '/',
      inlinePolicies: {},
      attachedPolicies: [],
      tags: {},
      accessKey: false,
    });
    const { store: faulty, seen } = watched(store, 2);
    await assert.rejects(applySetup(faulty, changed, deps, { file: 'setup.yaml' }), /injected write failure/);
    assert.equal(seen.writes, 2, 'the first write landed in the transaction before the second failed');
    assert.deepEqual(await snapshot(store), before);
    assert.equal(await store.latestChange(), seq);
    assert.deepEqual(await store.queryAudit({ limit: 100 }), audit);
    // The same file applies once the store takes writes again.
    const result = await applySetup(store, changed, deps, { file: 'setup.yaml' });
    assert.deepEqual(
      result.changes.filter((c) => c.op !== 'unchanged').map((c) => `${c.op} ${c.name}`),
      ['update hub/role/tfc-plan', 'create hub/user/late'],
    );
  } finally {
    await store.close();
  }
});

test('a dry run writes nothing and its transaction ends normally (no throw to roll back), for a new and a changed file', async () => {
  const store = await fresh();
  try {
    const first = watched(store);
    const planned = await applySetup(first.store, example(), deps, { file: 'setup.yaml', dryRun: true });
    assert.deepEqual(first.seen, { writes: 0, bodies: ['resolved'] });
    const applied = await applySetup(store, example(), deps, { file: 'setup.yaml' });
    assert.deepEqual(
      planned.changes.map((c) => `${c.op} ${c.kind} ${c.name}`),
      applied.changes.map((c) => `${c.op} ${c.kind} ${c.name}`),
      'the dry run plans exactly what the apply then does',
    );
    const again = watched(store);
    const result = await applySetup(again.store, example(), deps, { file: 'setup.yaml', dryRun: true });
    assert.ok(result.changes.every((c) => c.op === 'unchanged'));
    assert.deepEqual(again.seen, { writes: 0, bodies: ['resolved'] });
  } finally {
    await store.close();
  }
});

test('a role may name a policy the same file creates in a later account, by ARN, only once it exists', async () => {
  const text = (order: 'policy-first' | 'role-first') => {
    const owner = `  - name: owner
    id: "111111111111"
    policies: [{ name: shared, document: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "*" }] } }]
`;
    const user = `  - name: user
    roles:
      - name: r
        attachedPolicies: ["arn:aws:iam::111111111111:policy/shared"]
        trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: { AWS: "arn:aws:iam::111111111111:root" } }] }
`;
    return `accounts:\n${order === 'policy-first' ? owner + user : user + owner}`;
  };
  const store = await fresh();
  try {
    // As IAM would answer: the policy does not exist yet when the role that names it is created.
    await assert.rejects(
      applySetup(store, parseSetup(text('role-first'), 's.yaml'), deps, { file: 's.yaml', dryRun: true }),
      (err: unknown) =>
        err instanceof SetupError &&
        err.problems.length === 1 &&
        err.problems[0]?.path === 'accounts[0].roles[0].attachedPolicies[0]',
    );
    const result = await applySetup(store, parseSetup(text('policy-first'), 's.yaml'), deps, {
      file: 's.yaml',
    });
    assert.ok(result.changes.some((c) => c.op === 'create' && c.name === 'user/role/r'));
  } finally {
    await store.close();
  }
});
