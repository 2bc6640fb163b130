// Which store failures answer a retryable 503: real errors from both drivers, not hand-made ones.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { isStoreUnavailable } from '../../src/store/unavailable.js';

const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a failure');
};

test('a full database and a read-only one are unavailable; a bad statement or a constraint is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-unavailable-'));
  try {
    const path = join(dir, 'db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)');
    // A page budget stands in for a full disk: SQLite answers SQLITE_FULL either way.
    db.pragma('max_page_count = 8');
    const full = caught(() => {
      for (let i = 0; i < 1000; i++)
        db.prepare('INSERT INTO t VALUES (?, ?)').run(String(i), 'x'.repeat(1000));
    });
    assert.equal((full as { code?: string }).code, 'SQLITE_FULL');
    assert.equal(isStoreUnavailable(full), true);
    const readOnly = new Database(path, { readonly: true });
    const ro = caught(() => readOnly.prepare("INSERT INTO t VALUES ('ro', 'x')").run());
    assert.match((ro as { code?: string }).code ?? '', /^SQLITE_READONLY/);
    assert.equal(isStoreUnavailable(ro), true);
    assert.equal(isStoreUnavailable(caught(() => db.exec('SELEKT 1'))), false);
    assert.equal(
      isStoreUnavailable(caught(() => db.prepare("INSERT INTO t VALUES ('0', 'again')").run())),
      false,
    );
    readOnly.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable PostgreSQL server is unavailable; plain errors are not', async () => {
  // A port that was just free: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
  const sql = postgres(`postgres://nobody@127.0.0.1:${port}/none`, { max: 1, connect_timeout: 2 });
  const err = await sql.unsafe('SELECT 1').then(
    () => assert.fail('expected a connection error'),
    (e: unknown) => e,
  );
  await sql.end({ timeout: 1 });
  assert.equal(isStoreUnavailable(err), true);
  assert.equal(isStoreUnavailable(new Error('boom')), false);
  assert.equal(isStoreUnavailable(Object.assign(new Error('x'), { code: 'ENOENT' })), false);
  assert.equal(isStoreUnavailable('SQLITE_FULL'), false);
});
