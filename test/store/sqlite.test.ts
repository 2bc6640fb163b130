import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
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

/** Run `body` (an ES module snippet with `openStore` and `dataDir` in scope) in N processes at once. */
async function inProcesses(count: number, dataDir: string, body: string): Promise<void> {
  const script = `
    import { openStore } from ${JSON.stringify(new URL('../../src/store/open.ts', import.meta.url).href)};
    const dataDir = ${JSON.stringify(dataDir)};
    const worker = Number(process.argv[1]);
    ${body}
  `;
  const runs = Array.from(
    { length: count },
    (_, i) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script, String(i)],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${i}: ${stderr}`))));
      }),
  );
  await Promise.all(runs);
}

test('processes opening the same new file at once all succeed and each migration is applied once', async () => {
  const dataDir = join(root, 'open-race');
  await inProcesses(4, dataDir, 'const s = await openStore({ dataDir }); await s.close();');
  // Read-write: a read-only connection cannot rebuild the WAL index the last closer may have left.
  const db = new Database(join(dataDir, SQLITE_FILE), { fileMustExist: true });
  try {
    const rows = db.prepare('SELECT version FROM schema_migrations').all();
    assert.equal(rows.length, LATEST_VERSION);
  } finally {
    db.close();
  }
});

test('processes writing one file at once (workers) lose no write, and the change feed lists each once in order', async () => {
  const dataDir = join(root, 'write-race');
  await (await openStore({ dataDir })).close();
  await inProcesses(
    3,
    dataDir,
    `const s = await openStore({ dataDir });
    const base = ${JSON.stringify(role('w'))};
    for (let i = 0; i < 40; i++) {
      const id = 'AROAW' + worker + String(i).padStart(14, '0');
      await s.insert('role', { ...base, id, name: 'w' + worker + '-' + i, arn: base.arn + worker + '-' + i });
      await s.appendAudit([{ time: i, requestId: 'r' + worker + '-' + i, action: 'sts:Test', decision: 'allow' }]);
      if (i % 4 === 0) await s.transaction(async (tx) => {
        const r = await tx.get('role', id);
        await tx.update('role', { ...r, description: 'updated' });
      });
    }
    await s.close();`,
  );
  const store = await openStore({ dataDir });
  try {
    assert.equal(await store.count('role'), 120);
    assert.equal((await store.queryAudit({ limit: 1000 })).length, 120);
    const changes = await store.changesSince(0, 10_000);
    assert.equal(changes.length, 120 + 3 * 10);
    const seqs = changes.map((c) => c.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.equal(new Set(seqs).size, seqs.length);
  } finally {
    await store.close();
  }
});
