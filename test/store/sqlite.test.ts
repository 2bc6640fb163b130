import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openStore, SQLITE_FILE } from '../../src/store/open.js';
import { LATEST_VERSION } from '../../src/store/sql/migrations.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { type Store, StoreVersionError } from '../../src/store/types.js';
import { role, storeConformance } from './conformance.js';

const root = mkdtempSync(join(tmpdir(), 'gatepass-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
const paths = new WeakMap<Store, string>();
storeConformance('sqlite', {
  async fresh() {
    const dataDir = join(root, `store-${++n}`);
    const store = await openStore({ dataDir });
    paths.set(store, dataDir);
    return store;
  },
  async reopen(store) {
    const dataDir = paths.get(store);
    assert.ok(dataDir);
    const other = await openStore({ dataDir });
    paths.set(other, dataDir);
    return other;
  },
});

test('openStore creates an owner-only data directory holding a WAL-mode SQLite file', async () => {
  const dataDir = join(root, 'fresh', 'nested');
  const store = await openStore({ dataDir });
  await store.close();
  assert.equal(statSync(dataDir).mode & 0o777, 0o700);
  const db = new Database(join(dataDir, SQLITE_FILE), { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    db.close();
  }
});

test('a process killed in the middle of a transaction leaves the previous state', async () => {
  const dataDir = join(root, 'crash');
  const store = await openStore({ dataDir });
  await store.insert('role', role('before'));
  await store.close();
  // The child writes inside a transaction and dies with SIGKILL before it can commit or roll back.
  const script = `
    import { openStore } from ${JSON.stringify(new URL('../../src/store/open.ts', import.meta.url).href)};
    const store = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
    await store.transaction(async (tx) => {
      const r = await tx.get('role', ${JSON.stringify(role('before').id)});
      await tx.update('role', { ...r, description: 'half-written' });
      await tx.insert('role', { ...r, id: 'AROAHALFWRITTEN0001', name: 'half', arn: r.arn + '-half' });
      process.kill(process.pid, 'SIGKILL');
    });
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(child.signal, 'SIGKILL', child.stderr);
  const reopened = await openStore({ dataDir });
  try {
    assert.equal(await reopened.count('role'), 1);
    assert.equal((await reopened.get('role', role('before').id))?.description, '');
    assert.equal(await reopened.get('role', 'AROAHALFWRITTEN0001'), undefined);
  } finally {
    await reopened.close();
  }
});

test('a database written by a newer schema version is refused, not touched', async () => {
  const path = join(root, 'newer.db');
  (await Promise.resolve(openSqliteStore({ path }))).close();
  const db = new Database(path);
  db.prepare(
    "INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, 'future', 'x')",
  ).run(LATEST_VERSION + 1);
  db.close();
  assert.throws(
    () => openSqliteStore({ path }),
    (err: unknown) => err instanceof StoreVersionError && err.found === LATEST_VERSION + 1,
  );
});

test('reads issued while a transaction is open wait for it and see the committed result', async () => {
  const store = openSqliteStore({ path: ':memory:' });
  try {
    let reading: Promise<number> | undefined;
    await store.transaction(async (tx) => {
      await tx.insert('role', role('inside'));
      reading = store.count('role');
      await new Promise((resolve) => setImmediate(resolve));
      await tx.insert('role', role('inside-2'));
    });
    assert.equal(await reading, 2);
  } finally {
    await store.close();
  }
});
