// `gatepass serve --workers 2` on each store: both workers serve one port, a revocation is honoured by
// every worker, a worker killed with SIGKILL is replaced, and SIGTERM stops the primary and workers.
// Every call opens a new connection, which the primary hands to the workers in turn.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { ConfigError, resolveConfig } from '../../src/server/config.js';
import { alive } from '../helpers/child.js';
import {
  assumeWithWebIdentity,
  callerIdentity,
  dataDir,
  eventually,
  findAdmin,
  type Issued,
  makeWorld,
  type NodeProcess,
  revokeRun,
  setupRole,
  spawnNode,
  type World,
} from './helpers.js';

/** Consecutive calls that must agree, so every worker answered at least a few of them. */
const ROUND = 12;

let sandbox: PostgresSandbox;
before(async () => {
  sandbox = await startPostgres();
});
after(() => sandbox.stop());

async function allAnswer(url: string, creds: Issued, expected: string): Promise<boolean> {
  for (let i = 0; i < ROUND; i++) if ((await callerIdentity(url, creds)) !== expected) return false;
  return true;
}

test('workers is configured like every key: file < GATEPASS_WORKERS < --workers, 1 by default, 1 to 256', () => {
  assert.equal(resolveConfig({ env: {} }).workers, 1);
  assert.equal(resolveConfig({ file: { workers: 3 }, env: {} }).workers, 3);
  assert.equal(resolveConfig({ file: { workers: 3 }, env: { GATEPASS_WORKERS: '4' } }).workers, 4);
  assert.equal(
    resolveConfig({ file: { workers: 3 }, env: { GATEPASS_WORKERS: '4' }, flags: { workers: '2' } }).workers,
    2,
  );
  assert.throws(
    () => resolveConfig({ env: { GATEPASS_WORKERS: '0' }, flags: { workers: 'many' } }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.problems.some((p) => p.includes('workers') && p.includes('GATEPASS_WORKERS')) &&
      err.problems.some((p) => p.includes('workers') && p.includes('--workers')),
  );
});

test('a first worker that cannot start stops the primary with a failure instead of leaving it waiting', async () => {
  const base = await makeWorld();
  try {
    await assert.rejects(
      spawnNode({ dataDir: dataDir(base, 'bad'), masterKey: 'not-a-key', caFile: base.caFile, workers: 2 }),
      /exited 1 before "workers ready"/,
    );
  } finally {
    await base.close();
  }
});

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`serve --workers 2 (${engine})`, () => {
    let node: NodeProcess;
    let world: World;
    let base: Awaited<ReturnType<typeof makeWorld>>;
    const listening = (): number => node.lines.filter((l) => l.msg === 'listening').length;
    const pids = (): number[] => {
      const ready = node.lines.find((l) => l.msg === 'workers ready');
      return Array.isArray(ready?.pids) ? (ready.pids as number[]) : [];
    };

    before(async () => {
      base = await makeWorld();
      node = await spawnNode({
        dataDir: dataDir(base, 'node'),
        masterKey: base.masterKey,
        caFile: base.caFile,
        workers: 2,
        ...(engine === 'postgres' ? { databaseUrl: await sandbox.createDatabase('workers') } : {}),
      });
      world = await setupRole(base, node.url, findAdmin([node]));
    });
    after(async () => {
      await node?.stop();
      await base?.close();
    });

    test('two workers serve one port and every one verifies a credential another issued', async () => {
      assert.equal(listening(), 2);
      assert.equal(pids().length, 2);
      const creds = await assumeWithWebIdentity(node.url, world.roleArn, await world.token());
      assert.ok(creds);
      assert.ok(await allAnswer(node.url, creds, 'ok'));
    });

    test('a revocation through one worker is honoured by every worker', async (t) => {
      const token = await world.token();
      const creds = await assumeWithWebIdentity(node.url, world.roleArn, token);
      assert.ok(creds);
      assert.ok(await allAnswer(node.url, creds, 'ok'));
      assert.equal(await revokeRun(node.url, token), 200);
      const ms = await eventually('every worker refuses the revoked session', () =>
        allAnswer(node.url, creds, 'InvalidClientTokenId'),
      );
      t.diagnostic(`all workers refused within ${ms.toFixed(0)} ms (including ${ROUND} calls)`);
    });

    test('a worker killed with SIGKILL is replaced and the port keeps serving', async () => {
      const [victim] = pids();
      assert.ok(victim);
      process.kill(victim, 'SIGKILL');
      await eventually('a replacement worker listens', async () => listening() === 3);
      assert.ok(node.lines.some((l) => l.msg === 'worker died' && l.pid === victim));
      const creds = await assumeWithWebIdentity(node.url, world.roleArn, await world.token());
      assert.ok(creds);
      assert.ok(await allAnswer(node.url, creds, 'ok'));
    });

    test('SIGTERM stops the primary with 0 and no worker outlives it', async () => {
      const workers = node.lines.filter((l) => l.msg === 'listening').length;
      assert.ok(workers >= 2);
      const survivors = pids().filter(alive);
      assert.equal(await node.stop(), 0);
      await eventually('workers are gone', async () => survivors.every((pid) => !alive(pid)));
    });
  });
}
