// How nodes learn each other's writes, each path alone: PostgreSQL's LISTEN/NOTIFY with polling
// switched off, and polling with no NOTIFY at all (PostgreSQL without it, SQLite between processes'
// connections). Two cloud sides on two connections to one store, as two nodes have.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { type Cloud, type CloudOptions, createCloud } from '../../src/cloud/assemble.js';
import type { SessionClaims } from '../../src/cloud/caller/caller.js';
import { newSessionIds, openSession, sealSession } from '../../src/cloud/sessions/credentials.js';
import { type RunRef, runRevocationRecord } from '../../src/cloud/sessions/revocations.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { createJsonLogger } from '../../src/server/log.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { role } from '../store/conformance.js';
import { callerIdentity, eventually } from './helpers.js';

const HOUR = 3_600_000;
const masterKey = cryptoRandom.bytes(32);
const log = createJsonLogger({ level: 'error', stream: { write: () => true } });
let sandbox: PostgresSandbox;
const root = mkdtempSync(join(tmpdir(), 'gatepass-feed-'));
before(async () => {
  sandbox = await startPostgres();
});
after(async () => {
  await sandbox.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The store as an engine without push notifications: callers can only poll. */
function withoutWatch(store: Store): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'watch') return undefined;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

interface Pair {
  a: Cloud;
  b: Cloud;
  close(): Promise<void>;
}

async function pair(
  open: () => Promise<Store>,
  b: { push: boolean; syncIntervalMs: number },
  feedA?: CloudOptions['feed'],
): Promise<Pair> {
  const storeA = await open();
  const storeB = b.push ? await open() : withoutWatch(await open());
  const cloud = (store: Store, syncIntervalMs: number, feed?: CloudOptions['feed']) =>
    createCloud({
      store,
      masterKey,
      clock: systemClock,
      random: cryptoRandom,
      log,
      bodyLimitBytes: 1 << 20,
      syncIntervalMs,
      ...(feed ? { feed } : {}),
    });
  // One after the other, as nodes bootstrapping under the startup lock do.
  const cloudA = await cloud(storeA, HOUR, feedA);
  const cloudB = await cloud(storeB, b.syncIntervalMs);
  return {
    a: cloudA,
    b: cloudB,
    async close() {
      await cloudA.stop();
      await cloudB.stop();
      await storeA.close();
      await storeB.close();
    },
  };
}

/** Revoke a new run on `cloud`; its id. */
async function revokeNewRun(cloud: Cloud): Promise<RunRef> {
  const runId = `run-${crypto.randomUUID()}`;
  const run = { issuer: 'https://issuer.example', runId };
  const now = Date.now();
  await cloud.revocations.revoke({ ...runRevocationRecord(run, now, 'test'), expiresAt: now + HOUR });
  return run;
}

async function revocationCrosses(p: Pair): Promise<number> {
  const run = await revokeNewRun(p.a);
  return eventually('the other node honours the revocation', async () => p.b.revocations.isRunRevoked(run));
}

let dbs = 0;
const postgresStore = async (): Promise<() => Promise<Store>> => {
  const url = await sandbox.createDatabase(`feed_${++dbs}`);
  return () => openStore({ dataDir: root, databaseUrl: url });
};

test('PostgreSQL, LISTEN/NOTIFY alone (polling every hour): a revocation reaches the other node', async (t) => {
  const p = await pair(await postgresStore(), { push: true, syncIntervalMs: HOUR });
  try {
    t.diagnostic(`honoured after ${(await revocationCrosses(p)).toFixed(0)} ms`);
  } finally {
    await p.close();
  }
});

test('PostgreSQL, polling alone (no NOTIFY): a revocation reaches the other node', async (t) => {
  const p = await pair(await postgresStore(), { push: false, syncIntervalMs: 250 });
  try {
    t.diagnostic(`honoured after ${(await revocationCrosses(p)).toFixed(0)} ms`);
  } finally {
    await p.close();
  }
});

test('SQLite, polling between two connections to one file (as --workers have): a revocation reaches the other', async (t) => {
  const dataDir = join(root, 'sqlite');
  const p = await pair(() => openStore({ dataDir }), { push: false, syncIntervalMs: 250 });
  try {
    t.diagnostic(`honoured after ${(await revocationCrosses(p)).toFixed(0)} ms`);
  } finally {
    await p.close();
  }
});

function sessionClaims(): SessionClaims {
  return {
    ...newSessionIds(cryptoRandom, Date.now()),
    accountId: '111111111111',
    roleId: 'AROAEXAMPLEEXAMPLE01',
    roleName: 'deploy',
    rolePath: '/',
    sessionName: 'rotated',
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 3600,
    chainDepth: 1,
    tags: {},
    transitiveTagKeys: [],
  };
}

test('PostgreSQL: a sealing key rotated on one node opens the credentials it seals on the other', async () => {
  const p = await pair(await postgresStore(), { push: true, syncIntervalMs: HOUR });
  try {
    const version = await p.a.keys.rotate();
    const creds = sealSession(p.a.keys, sessionClaims(), cryptoRandom);
    assert.ok(creds.sessionToken.startsWith(`GP1.${version}.`));
    await eventually(
      'the other node opens a token sealed with the new key',
      async () => openSession(p.b.keys, creds.accessKeyId, creds.sessionToken) !== undefined,
    );
    assert.equal(p.b.keys.active().version, version, 'and seals with it too');
  } finally {
    await p.close();
  }
});

test('a revocation from another node leaves the policy cache warm; an IAM write from it drops the cache', async () => {
  const p = await pair(await postgresStore(), { push: true, syncIntervalMs: HOUR });
  try {
    let dropped = 0;
    const invalidate = p.b.authorizer.invalidate.bind(p.b.authorizer);
    p.b.authorizer.invalidate = () => {
      dropped++;
      invalidate();
    };
    await revocationCrosses(p);
    await p.b.sync();
    assert.equal(dropped, 0);
    await p.a.iamDeps.store.insert('role', role('fresh'));
    await eventually('the IAM write drops the cache', async () => dropped > 0);
  } finally {
    await p.close();
  }
});

test('a credential sealed with a key another node rotated a moment ago verifies at once, before any sync', async () => {
  // B neither hears notifications nor polls: only the on-demand load can teach it the new key.
  const p = await pair(await postgresStore(), { push: false, syncIntervalMs: HOUR });
  const server = createServer((req, res) => {
    void p.b.handler(req, res, {
      requestId: crypto.randomUUID(),
      log,
      remoteAddress: '127.0.0.1',
      secure: false,
      startedAt: Date.now(),
      path: new URL(req.url ?? '/', 'http://request.invalid').pathname,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const version = await p.a.keys.rotate();
    const creds = sealSession(p.a.keys, sessionClaims(), cryptoRandom);
    assert.ok(creds.sessionToken.startsWith(`GP1.${version}.`));
    assert.equal(await callerIdentity(url, creds), 'ok');
    const madeUp = { ...creds, sessionToken: creds.sessionToken.replace(`GP1.${version}.`, 'GP1.999999.') };
    assert.equal(await callerIdentity(url, madeUp), 'InvalidClientTokenId');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await p.close();
  }
});

for (const engine of ['sqlite', 'postgres'] as const) {
  test(`${engine}: the feed is trimmed behind live nodes, and a node it was trimmed past reloads in full (a revocation it never read is honoured)`, async () => {
    const open =
      engine === 'postgres' ? await postgresStore() : () => openStore({ dataDir: join(root, 'trim-sqlite') });
    // A trims at every sync, counting a node stale as soon as it has not been seen in this millisecond;
    // B syncs only when told to (no notifications, polling every hour).
    const p = await pair(
      open,
      { push: false, syncIntervalMs: HOUR },
      { heartbeatMs: 0, staleMs: 0, keep: 0 },
    );
    const store = await open();
    try {
      await p.b.sync();
      const behind = p.b.revocations.position;
      const runId = await revokeNewRun(p.a);
      await p.a.iamDeps.store.insert('role', role(`after-${engine}`));
      await new Promise((r) => setTimeout(r, 5));
      // B has gone quiet past the staleness window: A trims everything it has read itself.
      await p.a.sync();
      assert.ok((await store.feedFloor()) > behind, 'the feed was trimmed past B');
      assert.deepEqual(
        (await store.changesSince(behind)).filter((c) => c.kind === 'revocation'),
        [],
        "the revocation's change is gone from the feed",
      );
      assert.equal(p.b.revocations.isRunRevoked(runId), false);
      await p.b.sync();
      assert.equal(p.b.revocations.isRunRevoked(runId), true, 'B reloaded its revocations in full');
      assert.ok(p.b.revocations.position >= (await store.feedFloor()));
      // And B follows the feed again from there.
      const next = await revokeNewRun(p.a);
      await p.b.sync();
      assert.equal(p.b.revocations.isRunRevoked(next), true);
    } finally {
      await store.close();
      await p.close();
    }
  });
}
