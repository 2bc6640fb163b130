// The SQLite audit writer thread: an append resolves only once its commit returned, a failed commit
// or a thread that dies before answering rejects every caller it held (so issuance fails instead of
// answering), and what was rejected is not in the log. Real threads, real files, real lock contention.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openStore, SQLITE_FILE } from '../../src/store/open.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import {
  AuditWriterError,
  SqliteAuditWriter,
  startAuditThread,
  type ThreadOptions,
} from '../../src/store/sqlite-audit-writer.js';
import { isStoreUnavailable } from '../../src/store/unavailable.js';

const root = mkdtempSync(join(tmpdir(), 'gatepass-audit-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A migrated store file and its path. */
async function migratedFile(): Promise<string> {
  const dataDir = join(root, `store-${++n}`);
  await (await openStore({ dataDir })).close();
  return join(dataDir, SQLITE_FILE);
}

const event = (requestId: string): AuditEvent => ({
  time: 1,
  requestId,
  action: 'sts:Test',
  decision: 'allow',
});

function requestIds(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT request_id FROM audit ORDER BY seq').all() as { request_id: string }[]).map(
      (r) => r.request_id,
    );
  } finally {
    db.close();
  }
}

test('appends from one turn resolve once committed and are all in the file, in order', async () => {
  const path = await migratedFile();
  const writer = new SqliteAuditWriter(path, 5000);
  try {
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.append([event(`r-${i}`)])));
    assert.deepEqual(
      requestIds(path),
      Array.from({ length: 50 }, (_, i) => `r-${i}`),
    );
  } finally {
    await writer.close();
  }
});

test('a writer thread killed while its commit waits rejects every waiting append with a retryable error, and none of them is written', async () => {
  const path = await migratedFile();
  const threads: Worker[] = [];
  const writer = new SqliteAuditWriter(path, 5000, (options: ThreadOptions) => {
    const worker = startAuditThread(options);
    threads.push(worker);
    return worker;
  });
  // Another connection holds the write lock, so the thread's commit waits inside SQLite.
  const holder = new Database(path);
  try {
    await writer.append([event('before')]);
    holder.exec('BEGIN IMMEDIATE');
    const waiting = Array.from({ length: 5 }, (_, i) => writer.append([event(`lost-${i}`)]));
    const settled = Promise.allSettled(waiting);
    // Give the thread time to receive the batch and block on the lock, then kill it.
    await new Promise((r) => setTimeout(r, 200));
    await threads[0]?.terminate();
    const results = await settled;
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof AuditWriterError, String(r.reason));
      assert.ok(isStoreUnavailable(r.reason), 'answered as a retryable 503');
    }
    holder.exec('ROLLBACK');
    // The next append starts a new thread and is written; the rejected ones never were.
    await writer.append([event('after')]);
    assert.equal(threads.length, 2);
    assert.deepEqual(requestIds(path), ['before', 'after']);
  } finally {
    if (holder.inTransaction) holder.exec('ROLLBACK');
    holder.close();
    await writer.close();
  }
});

test('a failed commit rejects its append with the SQLite error and writes none of the batch', async () => {
  const path = await migratedFile();
  const db = new Database(path);
  db.exec(
    `CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.request_id = 'poison' BEGIN SELECT RAISE(ABORT, 'refused'); END`,
  );
  const writer = new SqliteAuditWriter(path, 5000);
  try {
    // One batch: the poisoned event fails the whole commit, the fine one with it.
    const failed = await writer.append([event('fine'), event('poison')]).then(
      () => assert.fail('a failed commit resolved'),
      (err: unknown) => err as { name: string; code: string },
    );
    assert.equal(failed.name, 'SqliteError');
    assert.equal(failed.code, 'SQLITE_CONSTRAINT_TRIGGER');
    assert.deepEqual(requestIds(path), []);
    await writer.append([event('next')]);
    assert.deepEqual(requestIds(path), ['next']);
  } finally {
    db.close();
    await writer.close();
  }
});

test('a writer thread that cannot open its database rejects the append instead of leaving it pending', async () => {
  const writer = new SqliteAuditWriter(join(root, 'no-such-dir', 'x.db'), 100);
  try {
    await assert.rejects(writer.append([event('x')]), AuditWriterError);
  } finally {
    await writer.close();
  }
});

test('a commit waiting for a lock held elsewhere resolves once the lock is released and the commit returned', async () => {
  const path = await migratedFile();
  const writer = new SqliteAuditWriter(path, 5000);
  const holder = new Database(path);
  try {
    holder.exec('BEGIN IMMEDIATE');
    let done = false;
    const appended = writer.append([event('late')]).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(done, false, 'not answered while its commit cannot happen');
    holder.exec('ROLLBACK');
    await appended;
    assert.deepEqual(requestIds(path), ['late']);
  } finally {
    if (holder.inTransaction) holder.exec('ROLLBACK');
    holder.close();
    await writer.close();
  }
});

test('closing while appends are in flight answers each of them as committed first', async () => {
  const path = await migratedFile();
  const writer = new SqliteAuditWriter(path, 5000);
  const appended = Array.from({ length: 20 }, (_, i) => writer.append([event(`c-${i}`)]));
  const closed = writer.close();
  const results = await Promise.allSettled(appended);
  await closed;
  assert.deepEqual(
    results.map((r) => r.status),
    Array.from({ length: 20 }, () => 'fulfilled'),
  );
  assert.equal(requestIds(path).length, 20);
});
