// Real disk faults under a `gatepass serve` node on SQLite: its data directory on a small ext4 file
// system on a loop device.
// - Read-only mid-flight: under a load of AssumeRoleWithWebIdentity and CreateRole, ext4 is made to
//   report an error (errors=remount-ro), which stops every later write from reaching the disk, as a
//   power cut does for whatever was not synced. Then the node is killed, the file system unmounted,
//   checked and mounted again, the node restarted: every write a client was told succeeded is there,
//   and every credential a client received has its audit record.
// - Full: writes answer a retryable 503 ServiceUnavailable, reads keep working, and writes succeed
//   again without a restart once space is freed.
// Skipped (saying why) where there are no loop devices or no root.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CreateRoleCommand, GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { openStore } from '../../src/store/open.js';
import { destroyAllLoopFs, type LoopFs, loopUnavailable, makeLoopFs } from '../helpers/loopfs.js';
import {
  callerIdentity,
  findAdmin,
  type Issued,
  iamClient,
  issuedFrom,
  makeWorld,
  type NodeOptions,
  type NodeProcess,
  postWebIdentity,
  ROLE,
  setupRole,
  spawnNode,
  type World,
  xmlValue,
} from './helpers.js';

const skip = loopUnavailable();
/** Each test's bound: a hang fails it, and the guard below still cleans up. */
const TIMEOUT_MS = 240_000;
// The guard: whatever happens to a test (a failure, its timeout), no node, mount or loop device
// outlives this file. Nodes first: a mounted file system in use cannot be unmounted cleanly.
const nodes = new Set<NodeProcess>();
const guard = (): void => {
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
  destroyAllLoopFs();
};
after(async () => {
  await Promise.all([...nodes].map((node) => node.kill9()));
  guard();
});
process.once('exit', guard);

async function startNode(options: NodeOptions): Promise<NodeProcess> {
  const node = await spawnNode(options);
  nodes.add(node);
  node.child.once('exit', () => nodes.delete(node));
  return node;
}

const trust = (accountId: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'sts:AssumeRole' },
    ],
  });

/** What a refused call answered: the AWS error code and HTTP status the SDK parsed. */
function refusal(err: unknown): string {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return `${e.$metadata?.httpStatusCode ?? 'no answer'} ${e.name ?? 'error'}`;
}

async function createRole(iam: IAMClient, name: string, accountId: string): Promise<'ok' | string> {
  try {
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust(accountId) }));
    return 'ok';
  } catch (err) {
    return refusal(err);
  }
}

/** AssumeRoleWithWebIdentity: the credentials, or the HTTP status and AWS error code answered. */
async function webIdentity(node: NodeProcess, world: World, token: string): Promise<Issued | string> {
  const { status, xml } = await postWebIdentity(node.url, world.roleArn, token);
  return status === 200 ? issuedFrom(xml) : `${status} ${xmlValue(xml, 'Code')}`;
}

async function withFaultyNode(
  sizeMb: number,
  body: (ctx: {
    fs: LoopFs;
    world: World;
    options: NodeOptions;
    node: () => NodeProcess;
    restart(): Promise<void>;
  }) => Promise<void>,
): Promise<void> {
  const base = await makeWorld();
  const fs = makeLoopFs(sizeMb);
  let node: NodeProcess | undefined;
  try {
    const dataDir = join(fs.dir, 'node');
    mkdirSync(dataDir, { mode: 0o700 });
    const options: NodeOptions = { dataDir, masterKey: base.masterKey, caFile: base.caFile };
    node = await startNode(options);
    const world = await setupRole(base, node.url, findAdmin([node]));
    await body({
      fs,
      world,
      options,
      node: () => {
        assert.ok(node);
        return node;
      },
      restart: async () => {
        await node?.kill9();
        node = undefined;
        fs.unmount();
        const fsck = fs.fsck();
        assert.ok(fsck <= 1, `e2fsck exit ${fsck}: the file system is not repairable`);
        fs.mount();
        node = await startNode(options);
      },
    });
  } finally {
    await node?.kill9();
    try {
      fs.destroy();
    } finally {
      await base.close();
    }
  }
}

describe('disk faults under a SQLite node (ext4 on a loop device)', { skip, timeout: TIMEOUT_MS }, () => {
  test('the file system turning read-only mid-flight loses no acknowledged write and no issued credential’s audit record', async (t) => {
    await withFaultyNode(64, async ({ fs, world, node, restart }) => {
      const iam = iamClient(node().url, world.admin);
      const tokens = await Promise.all(Array.from({ length: 4 }, () => world.token()));
      const issued: Issued[] = [];
      const roles: string[] = [];
      const refused = new Map<string, number>();
      const count = (what: string): void => {
        refused.set(what, (refused.get(what) ?? 0) + 1);
      };
      let faultAt = 0;
      let stopAt = Number.POSITIVE_INFINITY;
      const now = (): number => performance.now();
      const sts = async (i: number): Promise<void> => {
        for (let n = 0; now() < stopAt; n++) {
          const r = await webIdentity(node(), world, tokens[(i + n) % tokens.length] ?? '');
          if (typeof r === 'string') count(`AssumeRoleWithWebIdentity: ${r}`);
          else issued.push(r);
        }
      };
      const writes = async (i: number): Promise<void> => {
        for (let n = 0; now() < stopAt; n++) {
          const name = `load-${i}-${n}`;
          const r = await createRole(iam, name, world.accountId);
          if (r === 'ok') roles.push(name);
          else count(`CreateRole: ${r}`);
        }
      };
      // The fault comes once the load has run a while; the load goes on 1.5 s after it.
      const fault = (async () => {
        const deadline = now() + 60_000;
        while ((issued.length < 200 || roles.length < 20) && now() < deadline)
          await new Promise((r) => setTimeout(r, 5));
        fs.triggerError();
        faultAt = now();
        stopAt = faultAt + 1500;
      })();
      await Promise.all([
        ...Array.from({ length: 6 }, (_, i) => sts(i)),
        ...Array.from({ length: 2 }, (_, i) => writes(i)),
        fault,
      ]);
      assert.ok(fs.readOnly(), 'the file system turned read-only');
      // While read-only: writes are refused as retryable, reads still answer.
      assert.equal(await createRole(iam, 'while-read-only', world.accountId), '503 ServiceUnavailable');
      assert.equal(await webIdentity(node(), world, tokens[0] ?? ''), '503 ServiceUnavailable');
      assert.equal((await iam.send(new GetRoleCommand({ RoleName: roles[0] }))).Role?.RoleName, roles[0]);
      assert.equal(await callerIdentity(node().url, issued[0] as Issued), 'ok');
      // Every refusal was a clean, retryable one.
      assert.deepEqual(
        [...refused.keys()].filter((what) => !what.endsWith(': 503 ServiceUnavailable')),
        [],
      );
      t.diagnostic(
        `acknowledged before the fault: ${issued.length} credentials, ${roles.length} roles; refused: ${JSON.stringify(Object.fromEntries(refused))}`,
      );

      await restart();
      const store = await openStore({ dataDir: join(fs.dir, 'node') });
      try {
        const audited = new Set(
          (await store.queryAudit({ action: 'sts:AssumeRoleWithWebIdentity', limit: 1_000_000 })).map(
            (e) => e.accessKeyId,
          ),
        );
        const missing = issued.filter((c) => !audited.has(c.accessKeyId)).map((c) => c.accessKeyId);
        const lost: string[] = [];
        const after = iamClient(node().url, world.admin);
        for (const name of roles) {
          try {
            await after.send(new GetRoleCommand({ RoleName: name }));
          } catch (err) {
            lost.push(`${name}: ${refusal(err)}`);
          }
        }
        t.diagnostic(
          `after fsck and restart: ${lost.length} acknowledged roles lost, ${missing.length} issued credentials without an audit record`,
        );
        assert.deepEqual(lost, [], 'acknowledged CreateRole calls lost');
        assert.deepEqual(missing, [], 'issued credentials without an audit record');
        // And the restarted node writes again.
        assert.equal(await createRole(after, 'after-restart', world.accountId), 'ok');
      } finally {
        await store.close();
      }
    });
  });

  test('a full disk answers writes 503 ServiceUnavailable, keeps answering reads, and writes again without a restart once space is freed', async () => {
    await withFaultyNode(24, async ({ fs, world, node }) => {
      const iam = iamClient(node().url, world.admin);
      const issued = await webIdentity(node(), world, await world.token());
      assert.ok(
        typeof issued !== 'string',
        `AssumeRoleWithWebIdentity before the disk filled: ${String(issued)}`,
      );
      const filler = fs.fill();
      assert.ok(filler.bytes > 0);
      // SQLite first fills the room its files already have; the first write that needs a new block
      // is refused. Every answer until then is a success, none a 500.
      const answers = new Map<string, number>();
      let refused: string | undefined;
      for (let n = 0; n < 5000 && refused === undefined; n++) {
        const r = await createRole(iam, `fill-${n}`, world.accountId);
        answers.set(r, (answers.get(r) ?? 0) + 1);
        if (r !== 'ok') refused = r;
      }
      assert.equal(
        refused,
        '503 ServiceUnavailable',
        `answers while full: ${JSON.stringify(Object.fromEntries(answers))}`,
      );
      // Issuance needs its audit record written: refused the same way, never a credential without it.
      assert.equal(await webIdentity(node(), world, await world.token()), '503 ServiceUnavailable');
      // Reads keep working: IAM, and the signed calls of credentials issued before.
      assert.equal((await iam.send(new GetRoleCommand({ RoleName: ROLE }))).Role?.RoleName, ROLE);
      assert.equal(await callerIdentity(node().url, issued), 'ok');

      filler.free();
      // Same process, no restart: writes and issuance succeed again.
      assert.equal(await createRole(iam, 'after-free', world.accountId), 'ok');
      assert.equal(
        (await iam.send(new GetRoleCommand({ RoleName: 'after-free' }))).Role?.RoleName,
        'after-free',
      );
      const again = await webIdentity(node(), world, await world.token());
      assert.ok(
        typeof again !== 'string',
        `AssumeRoleWithWebIdentity after space was freed: ${String(again)}`,
      );
    });
  });
});
