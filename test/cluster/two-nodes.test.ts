// Two `gatepass serve` processes on one PostgreSQL database act as one gatepass: they start together
// on an empty database, any node verifies any node's credentials, a revocation or an IAM change on one
// is honoured by the other, key rotation reaches both, racing IAM writes answer ConcurrentModification
// instead of losing an update, audit events of both land in one table, and an SCP written through the
// Organizations API on one holds on the other.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  ListPolicyVersionsCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { organizationsOk } from '../helpers/organizations.js';
import {
  assumeWithWebIdentity,
  callerIdentity,
  dataDir,
  eventually,
  findAdmin,
  iamClient,
  makeWorld,
  type NodeProcess,
  ROLE,
  readPolicy,
  revokeRun,
  setupRole,
  spawnNode,
  stsClient,
  type World,
} from './helpers.js';

let sandbox: PostgresSandbox;
let store: Store;
let world: World;
let a: NodeProcess;
let b: NodeProcess;
const issuedOn: { a: string[]; b: string[] } = { a: [], b: [] };

before(async () => {
  sandbox = await startPostgres();
  const databaseUrl = await sandbox.createDatabase('two_nodes');
  const base = await makeWorld();
  const node = (name: string) =>
    spawnNode({ dataDir: dataDir(base, name), databaseUrl, masterKey: base.masterKey, caFile: base.caFile });
  // Both at once, on a database nobody has migrated or bootstrapped yet.
  [a, b] = await Promise.all([node('a'), node('b')]);
  world = await setupRole(base, a.url, findAdmin([a, b]));
  store = await openPostgresStore({ url: databaseUrl, max: 2 });
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await store?.close();
  await world?.close();
  await sandbox?.stop();
});

test('two nodes started at once on an empty database bootstrap one account and one administrator', async () => {
  assert.equal(await store.count('account'), 1);
  assert.equal(await store.count('user'), 1);
  const withFile = [a, b].filter((n) => existsSync(join(n.dataDir, CREDENTIALS_FILE)));
  assert.equal(withFile.length, 1, 'exactly one node wrote the administrator credentials');
  for (const n of [a, b]) assert.equal((await fetch(`${n.url}/readyz`)).status, 200);
});

test('a credential issued on either node verifies on the other', async () => {
  for (const [from, to, list] of [
    [a, b, issuedOn.a],
    [b, a, issuedOn.b],
  ] as const) {
    const creds = await assumeWithWebIdentity(from.url, world.roleArn, await world.token());
    assert.ok(creds, 'AssumeRoleWithWebIdentity answered 200');
    list.push(creds.accessKeyId);
    assert.equal(await callerIdentity(to.url, creds), 'ok');
  }
});

test('a run revoked on node A is refused by node B (LISTEN/NOTIFY); the delay is measured, not asserted', async (t) => {
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const token = await world.token();
    const creds = await assumeWithWebIdentity(b.url, world.roleArn, token);
    assert.ok(creds);
    assert.equal(await callerIdentity(b.url, creds), 'ok');
    assert.equal(await revokeRun(a.url, token), 200);
    // On A at once (it wrote the revocation); on B once the change reaches it.
    assert.equal(await callerIdentity(a.url, creds), 'InvalidClientTokenId');
    delays.push(
      await eventually(
        'B refuses the revoked session',
        async () => (await callerIdentity(b.url, creds)) === 'InvalidClientTokenId',
      ),
    );
  }
  delays.sort((x, y) => x - y);
  t.diagnostic(
    `revocation honoured on the other node after ${delays.map((d) => d.toFixed(0)).join(', ')} ms`,
  );
});

test('an IAM change on node A reaches node B: its cached authorization is dropped', async () => {
  const creds = await assumeWithWebIdentity(b.url, world.roleArn, await world.token());
  assert.ok(creds);
  const onB = iamClient(b.url, creds);
  // B evaluates (and caches) the role's policies: allowed.
  assert.equal((await onB.send(new GetRoleCommand({ RoleName: ROLE }))).Role?.RoleName, ROLE);
  const admin = iamClient(a.url, world.admin);
  await admin.send(new DeleteRolePolicyCommand({ RoleName: ROLE, PolicyName: 'read' }));
  try {
    await eventually('B denies GetRole once the policy is gone', async () => {
      try {
        await onB.send(new GetRoleCommand({ RoleName: ROLE }));
        return false;
      } catch (err) {
        return (err as { name?: string }).name === 'AccessDenied';
      }
    });
  } finally {
    await admin.send(readPolicy());
  }
});

test('a signing key rotated through node A is published by node B', async () => {
  const holder = [a, b].find((n) => existsSync(join(n.dataDir, 'admin-token')));
  assert.ok(holder, 'one node wrote the admin token');
  const adminToken = readFileSync(join(holder.dataDir, 'admin-token'), 'utf8').trim();
  const res = await fetch(`${a.url}/api/v1/keys/rotate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(res.status, 201);
  const { kid } = (await res.json()) as { kid: string };
  assert.ok(kid);
  await eventually('B publishes the new key', async () => {
    const jwks = (await (await fetch(`${b.url}/.well-known/jwks`)).json()) as { keys: { kid: string }[] };
    return jwks.keys.some((k) => k.kid === kid);
  });
});

/** Each call either lands (200) or is refused as AWS refuses a lost race; returns the outcomes. */
async function race(calls: (() => Promise<unknown>)[]): Promise<boolean[]> {
  const settled = await Promise.allSettled(calls.map((call) => call()));
  return settled.map((s) => {
    if (s.status === 'fulfilled') return true;
    const e = s.reason as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, 'ConcurrentModificationException', String(s.reason));
    assert.equal(e.$metadata?.httpStatusCode, 409);
    assert.equal(e.$fault, 'client', 'a Sender fault');
    return false;
  });
}

test('IAM writes racing on two nodes on one role and one policy: each lands or is ConcurrentModification; none is lost', async (t) => {
  const onA = iamClient(a.url, world.admin);
  const onB = iamClient(b.url, world.admin);
  const tagged = await race(
    Array.from(
      { length: 16 },
      (_, i) => () =>
        (i % 2 ? onA : onB).send(
          new TagRoleCommand({ RoleName: ROLE, Tags: [{ Key: `k${i}`, Value: `${i}` }] }),
        ),
    ),
  );
  const tags = (await onA.send(new ListRoleTagsCommand({ RoleName: ROLE }))).Tags ?? [];
  assert.deepEqual(
    tags.map((tag) => tag.Key).sort(),
    tagged.flatMap((ok, i) => (ok ? [`k${i}`] : [])).sort(),
  );

  const arn = (
    await onA.send(
      new CreatePolicyCommand({
        PolicyName: 'contested',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: '*' }],
        }),
      }),
    )
  ).Policy?.Arn;
  assert.ok(arn);
  const versioned = await race(
    Array.from(
      { length: 4 },
      (_, i) => () =>
        (i % 2 ? onA : onB).send(
          new CreatePolicyVersionCommand({
            PolicyArn: arn,
            PolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Sid: `V${i}`, Effect: 'Allow', Action: 'iam:GetRole', Resource: '*' }],
            }),
          }),
        ),
    ),
  );
  const versions = (await onB.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions ?? [];
  assert.equal(versions.length, 1 + versioned.filter(Boolean).length);
  assert.equal(new Set(versions.map((v) => v.VersionId)).size, versions.length);
  t.diagnostic(
    `ConcurrentModification: ${tagged.filter((ok) => !ok).length}/16 TagRole, ${versioned.filter((ok) => !ok).length}/4 CreatePolicyVersion`,
  );
});

test('audit events from both nodes land in one table', async () => {
  const events = await store.queryAudit({ action: 'sts:AssumeRoleWithWebIdentity', limit: 1000 });
  const keys = new Set(events.map((e) => e.accessKeyId));
  for (const id of [...issuedOn.a, ...issuedOn.b]) assert.ok(keys.has(id), `audit has ${id}`);
});

test('an SCP created and attached through the Organizations API on node A holds on node B, and its detach too (LISTEN/NOTIFY); the delay is measured, not asserted', async (t) => {
  const org = (op: string, body: Record<string, unknown> = {}) =>
    organizationsOk(a.url, world.admin, op, body);
  await org('CreateOrganization', { FeatureSet: 'ALL' });
  const root = ((await org('ListRoots')).Roots as { Id: string }[])[0]?.Id ?? '';
  await org('EnablePolicyType', { RootId: root, PolicyType: 'SERVICE_CONTROL_POLICY' });
  const member = (
    (await org('CreateAccount', { AccountName: 'member', Email: 'member@example.com' }))
      .CreateAccountStatus as {
      AccountId: string;
    }
  ).AccountId;
  // A session in the member account, through node B (SCPs do not bind the management account).
  const assumed = await stsClient(b.url, world.admin).send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${member}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'two-nodes',
    }),
  );
  const c = assumed.Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
  const onB = iamClient(b.url, {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
  });
  const listsRoles = async (): Promise<boolean> => {
    try {
      await onB.send(new ListRolesCommand({}));
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'AccessDenied') return false;
      throw err;
    }
  };
  // B evaluates (and caches) the member's SCPs: FullAWSAccess alone, allowed.
  assert.equal(await listsRoles(), true);
  const policy = (
    (
      await org('CreatePolicy', {
        Name: 'no-list-roles',
        Description: 'two nodes',
        Type: 'SERVICE_CONTROL_POLICY',
        Content: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 'iam:ListRoles', Resource: '*' }],
        }),
      })
    ).Policy as { PolicySummary: { Id: string } }
  ).PolicySummary.Id;
  await org('AttachPolicy', { PolicyId: policy, TargetId: member });
  const held = await eventually(
    'B denies ListRoles under the SCP attached on A',
    async () => !(await listsRoles()),
  );
  await org('DetachPolicy', { PolicyId: policy, TargetId: member });
  const lifted = await eventually('B allows ListRoles once A detached the SCP', listsRoles);
  t.diagnostic(`SCP attach honoured on B after ${held.toFixed(0)} ms, detach after ${lifted.toFixed(0)} ms`);
});
