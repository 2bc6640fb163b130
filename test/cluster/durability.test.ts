// Nothing a client received is lost when a node dies: a `gatepass serve` process is killed with
// SIGKILL in the middle of a burst of AssumeRoleWithWebIdentity and CreateRole calls, then started
// again on the same store. Every credential a client got verifies and is in the audit log, every role
// a client was told exists does, and no role is half-written (record, indexes and change feed agree).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateRoleCommand, GetRoleCommand } from '@aws-sdk/client-iam';
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import {
  assumeWithWebIdentity,
  callerIdentity,
  dataDir,
  findAdmin,
  type Issued,
  iamClient,
  makeWorld,
  type NodeOptions,
  type NodeProcess,
  setupRole,
  spawnNode,
  type World,
} from './helpers.js';

const LOOPS = 12;
/** Kill once clients hold this many credentials, with more requests in flight. */
const KILL_AFTER = 60;

let sandbox: PostgresSandbox;
before(async () => {
  sandbox = await startPostgres();
});
after(() => sandbox.stop());

interface Burst {
  issued: Issued[];
  roles: string[];
}

/** Closed-loop clients until the node stops answering; the node is killed once enough arrived. */
async function burstAndKill(node: NodeProcess, world: World): Promise<Burst> {
  const issued: Issued[] = [];
  const roles: string[] = [];
  const tokens = await Promise.all(Array.from({ length: 4 }, () => world.token()));
  let dead = false;
  let killing: Promise<void> | undefined;
  const kill = (): void => {
    killing ??= node.kill9().then(() => {
      dead = true;
    });
  };
  const sts = async (i: number): Promise<void> => {
    for (let n = 0; !dead; n++) {
      try {
        const creds = await assumeWithWebIdentity(
          node.url,
          world.roleArn,
          tokens[(i + n) % tokens.length] ?? '',
        );
        if (creds) issued.push(creds);
      } catch {
        // The node is gone: this request's answer never arrived, so nothing was handed out.
      }
      if (issued.length >= KILL_AFTER) kill();
    }
  };
  const iam = iamClient(node.url, world.admin);
  const writes = async (i: number): Promise<void> => {
    for (let n = 0; !dead; n++) {
      const name = `burst-${i}-${n}`;
      try {
        await iam.send(
          new CreateRoleCommand({
            RoleName: name,
            AssumeRolePolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: `arn:aws:iam::${world.accountId}:root` },
                  Action: 'sts:AssumeRole',
                },
              ],
            }),
          }),
        );
        roles.push(name);
      } catch {
        // Refused or cut off: the client was not told the role exists.
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: LOOPS }, (_, i) => sts(i)),
    ...Array.from({ length: 2 }, (_, i) => writes(i)),
  ]);
  await killing;
  return { issued, roles };
}

async function assertNothingLost(node: NodeProcess, store: Store, world: World, burst: Burst): Promise<void> {
  assert.ok(burst.issued.length >= KILL_AFTER);
  // Every credential a client received verifies on the restarted node...
  for (let i = 0; i < burst.issued.length; i += 16) {
    const results = await Promise.all(burst.issued.slice(i, i + 16).map((c) => callerIdentity(node.url, c)));
    assert.deepEqual(
      results.filter((r) => r !== 'ok'),
      [],
    );
  }
  // ...and its issuance is on record.
  const audited = new Set(
    (await store.queryAudit({ action: 'sts:AssumeRoleWithWebIdentity', limit: 100_000 })).map(
      (e) => e.accessKeyId,
    ),
  );
  const missing = burst.issued.filter((c) => !audited.has(c.accessKeyId));
  assert.deepEqual(
    missing.map((c) => c.accessKeyId),
    [],
    'issued credentials without an audit record',
  );
  // Every role a client was told about exists; every stored role is whole: found through each of its
  // indexes and announced on the change feed.
  const iam = iamClient(node.url, world.admin);
  for (const name of burst.roles)
    assert.equal((await iam.send(new GetRoleCommand({ RoleName: name }))).Role?.RoleName, name);
  const feed = (await store.changesSince(0, 1_000_000)).filter((c) => c.kind === 'role');
  const changed = new Set(feed.map((c) => c.id));
  // The feed is trimmed behind the nodes that read it: a role missing from it must have been written
  // at or below the trimmed point, so only the rest must be there; every role still on it exists.
  const floor = await store.feedFloor();
  const stored = await store.list('role');
  const ids = new Set(stored.map((r) => r.id));
  for (const change of feed) assert.ok(ids.has(change.id), `role ${change.id} on the change feed is stored`);
  for (const role of stored) {
    assert.equal((await store.getBy('role', 'arn', role.arn))?.id, role.id);
    assert.equal(
      (await store.getBy('role', 'accountName', `${role.accountId}\u001f${role.name.toLowerCase()}`))?.id,
      role.id,
    );
    assert.ok(changed.has(role.id) || floor > 0, `role ${role.name} is on the change feed`);
  }
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`kill -9 during a burst (${engine})`, () => {
    test('after restart every credential a client received verifies and is audited, and no IAM change is half-applied', async (t) => {
      const base = await makeWorld();
      const options: NodeOptions = {
        dataDir: dataDir(base, 'node'),
        masterKey: base.masterKey,
        caFile: base.caFile,
        ...(engine === 'postgres' ? { databaseUrl: await sandbox.createDatabase('durability') } : {}),
      };
      let node = await spawnNode(options);
      let store: Store | undefined;
      try {
        const world = await setupRole(base, node.url, findAdmin([node]));
        const burst = await burstAndKill(node, world);
        t.diagnostic(
          `clients received ${burst.issued.length} credentials and ${burst.roles.length} roles before SIGKILL`,
        );
        node = await spawnNode(options);
        store = await openStore(
          options.databaseUrl !== undefined
            ? { dataDir: options.dataDir, databaseUrl: options.databaseUrl }
            : { dataDir: options.dataDir },
        );
        await assertNothingLost(node, store, world, burst);
      } finally {
        await store?.close();
        await node.stop();
        await base.close();
      }
    });
  });
}
