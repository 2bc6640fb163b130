import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { openStore } from '../../src/store/open.js';
import { durablePool, openPostgresStore } from '../../src/store/postgres.js';
import { LATEST_VERSION } from '../../src/store/sql/migrations.js';
import { type Store, StoreVersionError } from '../../src/store/types.js';
import { role, storeConformance } from './conformance.js';

let sandbox: PostgresSandbox;
before(async () => {
  sandbox = await startPostgres();
});
after(() => sandbox.stop());

let n = 0;
const urls = new WeakMap<Store, string>();
storeConformance('postgres', {
  async fresh() {
    const url = await sandbox.createDatabase(`conformance_${++n}`);
    const store = await openStore({ dataDir: '/nonexistent', databaseUrl: url });
    urls.set(store, url);
    return store;
  },
  async reopen(store) {
    const url = urls.get(store);
    assert.ok(url);
    const other = await openPostgresStore({ url });
    urls.set(other, url);
    return other;
  },
});

test('nodes migrating the same database at once apply each migration exactly once', async () => {
  const url = await sandbox.createDatabase('migrate_race');
  const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url })));
  try {
    const sql = postgres(url, { max: 1 });
    const rows = await sql`SELECT version FROM schema_migrations`;
    await sql.end();
    assert.equal(rows.length, LATEST_VERSION);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test('two nodes racing for one unique name: exactly one wins, the other gets exists', async () => {
  const url = await sandbox.createDatabase('unique_race');
  const [a, b] = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
  assert.ok(a && b);
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).insert(
          'role',
          role('contested', { id: `AROACONTESTED${String(i).padStart(6, '0')}` }),
        ),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal(await a.count('role'), 1);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a database written by a newer schema version is refused', async () => {
  const url = await sandbox.createDatabase('newer_schema');
  await (await openPostgresStore({ url })).close();
  const sql = postgres(url, { max: 1 });
  await sql`INSERT INTO schema_migrations (version, description, applied_at) VALUES (${LATEST_VERSION + 1}, 'future', 'x')`;
  await sql.end();
  await assert.rejects(openPostgresStore({ url }), (err: unknown) => err instanceof StoreVersionError);
});

test('a commit on one node wakes the watchers of another (LISTEN/NOTIFY), once the transaction commits', async () => {
  const url = await sandbox.createDatabase('watch_notify');
  const [a, b] = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
  assert.ok(a?.watch && b);
  let woken = 0;
  let wake: () => void = () => undefined;
  const watcher = await a.watch(() => {
    woken++;
    wake();
  });
  try {
    const arrived = new Promise<void>((resolve) => {
      wake = resolve;
    });
    await b.transaction(async (tx) => {
      await tx.insert('role', role('notified'));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(woken, 0, 'nothing is announced before the commit');
    });
    await arrived;
    const changes = await a.changesSince(0);
    assert.deepEqual(
      changes.map((c) => c.id),
      [role('notified').id],
    );
  } finally {
    await watcher.close();
    await a.close();
    await b.close();
  }
});

test('the startup lock admits one node at a time: a second node waits until the first releases it', async () => {
  const url = await sandbox.createDatabase('startup_lock');
  const [a, b] = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
  assert.ok(a?.lockStartup && b?.lockStartup);
  try {
    const order: string[] = [];
    const releaseA = await a.lockStartup();
    order.push('a locked');
    const waitingB = b.lockStartup().then((release) => {
      order.push('b locked');
      return release;
    });
    // B's request is on the server before A lets go: it can only be granted after.
    const probe = postgres(url, { max: 1 });
    for (let i = 0; i < 500; i++) {
      const [row] =
        await probe`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`;
      if (row?.n === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await probe.end();
    order.push('a releases');
    await releaseA();
    const releaseB = await waitingB;
    await releaseB();
    await releaseB();
    assert.deepEqual(order, ['a locked', 'a releases', 'b locked']);
  } finally {
    await a.close();
    await b.close();
  }
});

test('commits are durable even where the database has synchronous_commit off; a stronger setting is kept', async () => {
  const off = await sandbox.createDatabase('sync_off');
  const strong = await sandbox.createDatabase('sync_remote_apply');
  const admin = postgres(off, { max: 1 });
  try {
    // The sandbox may name them apart per process (a shared external server): ask the URLs.
    const name = (url: string) => new URL(url).pathname.slice(1);
    await admin.unsafe(`ALTER DATABASE ${name(off)} SET synchronous_commit = off`);
    await admin.unsafe(`ALTER DATABASE ${name(strong)} SET synchronous_commit = remote_apply`);
  } finally {
    await admin.end();
  }
  const setting = async (url: string): Promise<string> => {
    const pool = await durablePool(url, 2);
    try {
      // Two connections at once: every connection of the pool, not only the first, has it.
      const rows = await Promise.all(
        [0, 1].map(
          async () =>
            ((await pool.unsafe('SHOW synchronous_commit')) as unknown as { synchronous_commit: string }[])[0]
              ?.synchronous_commit,
        ),
      );
      assert.equal(new Set(rows).size, 1);
      return rows[0] ?? '';
    } finally {
      await pool.end();
    }
  };
  // The database's setting is what a plain connection gets...
  const plain = postgres(off, { max: 1 });
  assert.equal((await plain.unsafe('SHOW synchronous_commit'))[0]?.synchronous_commit, 'off');
  await plain.end();
  // ...but gatepass's connections never commit asynchronously.
  assert.equal(await setting(off), 'on');
  assert.equal(await setting(strong), 'remote_apply');
});
