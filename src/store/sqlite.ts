// The embedded store: one SQLite file in WAL mode. better-sqlite3 is synchronous, so the async
// interface is kept honest by a gate: while a transaction awaits between statements, every other
// caller on this connection waits for it instead of slipping its writes into it.
import Database from 'better-sqlite3';
import { decodeDoc, encodeDoc, indexRows, isKind } from './codec.js';
import type { AuditEvent, AuditQuery } from './records/audit.js';
import type { IndexName, Kind, Records } from './schema.js';
import { AUDIT_COLUMNS, auditPruneSql, auditRow, auditSelect, decodeAudit } from './sql/audit.js';
import * as feed from './sql/feed.js';
import { LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE } from './sql/migrations.js';
import {
  type Change,
  type ListOptions,
  type Store,
  StoreConflictError,
  type StoreOps,
  StoreVersionError,
  type Versioned,
} from './types.js';

export interface SqliteStoreOptions {
  /** Database file path (created when missing), or ':memory:'. */
  path: string;
  /** How long a writer waits for another process's lock before failing (SQLITE_BUSY). */
  busyTimeoutMs?: number;
}

const anonymous = (): string => '?';

const INSERT_AUDIT = `INSERT INTO audit (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`;

interface RecordRow {
  rev: number;
  doc: string;
}

type Db = Database.Database;

/** The synchronous operations; the Store wraps them behind the gate. */
class SqliteOps {
  /** Prepared statements by SQL text: preparing costs more than running a point query. */
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  getVersioned<K extends Kind>(kind: K, id: string): Versioned<Records[K]> | undefined {
    const row = this.sql('SELECT rev, doc FROM records WHERE kind = ? AND id = ?').get(kind, id) as
      | RecordRow
      | undefined;
    return row ? { record: decodeDoc<Records[K]>(row.doc), rev: row.rev } : undefined;
  }

  getBy<K extends Kind>(kind: K, index: IndexName<K>, value: string): Records[K] | undefined {
    const row = this.sql(
      `SELECT r.doc FROM record_index i JOIN records r ON r.kind = i.kind AND r.id = i.id
         WHERE i.kind = ? AND i.name = ? AND i.value = ? ORDER BY i.id LIMIT 1`,
    ).get(kind, index, value) as { doc: string } | undefined;
    return row ? decodeDoc<Records[K]>(row.doc) : undefined;
  }

  list<K extends Kind>(kind: K, options: ListOptions<K> = {}): Records[K][] {
    const { sql, params } = listQuery(kind, options, 'r.doc');
    const rows = this.sql(sql).all(...params) as { doc: string }[];
    return rows.map((row) => decodeDoc<Records[K]>(row.doc));
  }

  count<K extends Kind>(kind: K, options: Pick<ListOptions<K>, 'index'> = {}): number {
    const { sql, params } = listQuery(kind, options, 'COUNT(*) AS n');
    return (this.sql(sql).get(...params) as { n: number }).n;
  }

  insert<K extends Kind>(kind: K, record: Records[K]): void {
    this.atomically(() => {
      if (this.currentRev(kind, record.id) !== undefined)
        throw new StoreConflictError('exists', kind, record.id);
      this.sql('INSERT INTO records (kind, id, rev, doc) VALUES (?, ?, 1, ?)').run(
        kind,
        record.id,
        encodeDoc(record),
      );
      this.writeIndexes(kind, record);
      this.logChange(kind, record.id, 'put');
    });
  }

  update<K extends Kind>(kind: K, record: Records[K], expectRev?: number): number {
    return this.atomically(() => {
      const rev = this.currentRev(kind, record.id);
      if (rev === undefined) throw new StoreConflictError('missing', kind, record.id);
      if (expectRev !== undefined && rev !== expectRev)
        throw new StoreConflictError('stale', kind, record.id);
      this.sql('UPDATE records SET rev = ?, doc = ? WHERE kind = ? AND id = ?').run(
        rev + 1,
        encodeDoc(record),
        kind,
        record.id,
      );
      this.writeIndexes(kind, record);
      this.logChange(kind, record.id, 'put');
      return rev + 1;
    });
  }

  put<K extends Kind>(kind: K, record: Records[K]): void {
    this.atomically(() => {
      const rev = this.currentRev(kind, record.id);
      if (rev === undefined) this.insert(kind, record);
      else this.update(kind, record);
    });
  }

  delete<K extends Kind>(kind: K, id: string): boolean {
    return this.atomically(() => {
      const { changes } = this.sql('DELETE FROM records WHERE kind = ? AND id = ?').run(kind, id);
      if (changes === 0) return false;
      this.sql('DELETE FROM record_index WHERE kind = ? AND id = ?').run(kind, id);
      this.logChange(kind, id, 'delete');
      return true;
    });
  }

  /** One wrapper for every audit batch: better-sqlite3 builds four closures per `transaction()` call. */
  private appendTx: Database.Transaction<(events: readonly AuditEvent[]) => void> | undefined;

  appendAudit(events: readonly AuditEvent[]): void {
    if (!this.appendTx) {
      const insert = this.sql(INSERT_AUDIT);
      this.appendTx = this.db.transaction((batch: readonly AuditEvent[]) => {
        for (const event of batch) insert.run(auditRow(event));
      });
    }
    // IMMEDIATE on its own, a savepoint inside an open transaction (as `atomically`).
    this.appendTx.immediate(events);
  }

  private atomically<T>(fn: () => T): T {
    // Nested inside an open transaction this becomes a savepoint, so a failed write undoes only itself.
    // On its own it takes the write lock up front (IMMEDIATE): a deferred read-then-write would fail at
    // once with SQLITE_BUSY when another process (a `--workers` sibling) wrote since the read.
    return this.db.transaction(fn).immediate();
  }

  private currentRev(kind: Kind, id: string): number | undefined {
    const row = this.sql('SELECT rev FROM records WHERE kind = ? AND id = ?').get(kind, id) as
      | { rev: number }
      | undefined;
    return row?.rev;
  }

  private writeIndexes<K extends Kind>(kind: K, record: Records[K]): void {
    this.sql('DELETE FROM record_index WHERE kind = ? AND id = ?').run(kind, record.id);
    const holder = this.sql(
      'SELECT id FROM record_index WHERE kind = ? AND name = ? AND value = ? AND is_unique = 1 AND id <> ?',
    );
    const insert = this.sql(
      'INSERT INTO record_index (kind, name, value, id, is_unique) VALUES (?, ?, ?, ?, ?)',
    );
    for (const row of indexRows(kind, record)) {
      if (row.unique && holder.get(kind, row.name, row.value, record.id) !== undefined) {
        throw new StoreConflictError('exists', kind, record.id, row.name);
      }
      insert.run(kind, row.name, row.value, record.id, row.unique ? 1 : 0);
    }
  }

  private logChange(kind: Kind, id: string, op: Change['op']): void {
    this.sql('INSERT INTO changes (kind, id, op) VALUES (?, ?, ?)').run(kind, id, op);
  }
}

function listQuery<K extends Kind>(
  kind: K,
  options: ListOptions<K>,
  select: string,
): { sql: string; params: (string | number)[] } {
  const params: (string | number)[] = [kind];
  let sql: string;
  if (options.index) {
    sql = `SELECT ${select} FROM record_index i JOIN records r ON r.kind = i.kind AND r.id = i.id
           WHERE i.kind = ? AND i.name = ? AND i.value = ?`;
    params.push(options.index.name, options.index.value);
  } else {
    sql = `SELECT ${select} FROM records r WHERE r.kind = ?`;
  }
  if (options.afterId !== undefined) {
    sql += ' AND r.id > ?';
    params.push(options.afterId);
  }
  if (select.startsWith('COUNT')) return { sql, params };
  sql += ' ORDER BY r.id';
  if (options.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(Math.max(0, Math.floor(options.limit)));
  }
  return { sql, params };
}

function migrate(db: Db): void {
  // One IMMEDIATE transaction holding the write lock, and the version read inside it: processes
  // opening the same file at once (workers) take turns, and the later ones find the work done.
  db.transaction(() => {
    db.exec(MIGRATIONS_TABLE);
    const current =
      (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
    if (current > LATEST_VERSION) throw new StoreVersionError(current, LATEST_VERSION);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements('sqlite')) db.exec(statement);
      db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.description,
        new Date().toISOString(),
      );
    }
  }).immediate();
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  const db = new Database(options.path);
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  try {
    // The busy timeout first: switching to WAL needs a lock that a sibling process may hold right now.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    // FULL: every commit syncs the WAL before it returns, so what a caller was told is written survives
    // a power cut or a file system that stops mid-flight, not only a crash of this process (NORMAL's
    // guarantee). Audit events share commits (group commit, cloud/audit/audit-log.ts), so issuance pays one
    // sync per batch of requests.
    db.pragma('synchronous = FULL');
    migrate(db);
    // From here SQLite's own busy wait would sleep with the event loop blocked while a sibling process
    // writes; the store waits for the write lock asynchronously instead (see `retryBusy`).
    db.pragma('busy_timeout = 0');
  } catch (err) {
    db.close();
    throw err;
  }
  return new SqliteStore(db, busyTimeoutMs);
}

const isBusy = (err: unknown): boolean =>
  err instanceof Database.SqliteError && err.code.startsWith('SQLITE_BUSY');

/**
 * Between attempts at the write lock another process holds (for well under a millisecond per
 * commit): yield at first, then poll every 1-2 ms.
 */
function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) =>
    attempt < 3 ? setImmediate(resolve) : setTimeout(resolve, Math.min(2, 2 ** (attempt - 3))),
  );
}

class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  private readonly ops: SqliteOps;
  /** Resolves when the running transaction ends; undefined when none is open. */
  private busy: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly busyTimeoutMs: number,
  ) {
    this.ops = new SqliteOps(db);
  }

  /**
   * Run `attempt` once no transaction of ours is open; while another process holds the write lock
   * (SQLITE_BUSY, raised before anything was written) wait without blocking the event loop and try
   * again, for up to the busy timeout.
   */
  private async retryBusy<T>(attempt: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let n = 0; ; n++) {
      while (this.busy) await this.busy;
      if (this.closed) throw new Error('store is closed');
      try {
        return attempt();
      } catch (err) {
        if (!isBusy(err) || Date.now() >= deadline) throw err;
      }
      await backoff(n);
    }
  }

  private gate<T>(fn: (ops: SqliteOps) => T): Promise<T> {
    return this.retryBusy(() => fn(this.ops));
  }

  get<K extends Kind>(kind: K, id: string): Promise<Records[K] | undefined> {
    return this.gate((ops) => ops.getVersioned(kind, id)?.record);
  }
  getVersioned<K extends Kind>(kind: K, id: string): Promise<Versioned<Records[K]> | undefined> {
    return this.gate((ops) => ops.getVersioned(kind, id));
  }
  getBy<K extends Kind>(kind: K, index: IndexName<K>, value: string): Promise<Records[K] | undefined> {
    return this.gate((ops) => ops.getBy(kind, index, value));
  }
  list<K extends Kind>(kind: K, options?: ListOptions<K>): Promise<Records[K][]> {
    return this.gate((ops) => ops.list(kind, options));
  }
  count<K extends Kind>(kind: K, options?: Pick<ListOptions<K>, 'index'>): Promise<number> {
    return this.gate((ops) => ops.count(kind, options));
  }
  insert<K extends Kind>(kind: K, record: Records[K]): Promise<void> {
    return this.gate((ops) => ops.insert(kind, record));
  }
  update<K extends Kind>(kind: K, record: Records[K], expectRev?: number): Promise<number> {
    return this.gate((ops) => ops.update(kind, record, expectRev));
  }
  put<K extends Kind>(kind: K, record: Records[K]): Promise<void> {
    return this.gate((ops) => ops.put(kind, record));
  }
  delete<K extends Kind>(kind: K, id: string): Promise<boolean> {
    return this.gate((ops) => ops.delete(kind, id));
  }
  appendAudit(events: readonly AuditEvent[]): Promise<void> {
    return this.gate((ops) => ops.appendAudit(events));
  }

  async transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    // IMMEDIATE takes the write lock up front, so a read-then-write never fails half way with BUSY.
    // Begun and gated in the same tick: no other caller's statement can slip into it.
    let release = (): void => undefined;
    await this.retryBusy(() => {
      this.db.exec('BEGIN IMMEDIATE');
      this.busy = new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    let open = true;
    const ops = this.ops;
    const guard = <R>(op: () => R): Promise<R> => {
      if (!open) return Promise.reject(new Error('transaction already finished'));
      try {
        return Promise.resolve(op());
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const tx: StoreOps = {
      get: (kind, id) => guard(() => ops.getVersioned(kind, id)?.record),
      getVersioned: (kind, id) => guard(() => ops.getVersioned(kind, id)),
      getBy: (kind, index, value) => guard(() => ops.getBy(kind, index, value)),
      list: (kind, options) => guard(() => ops.list(kind, options)),
      count: (kind, options) => guard(() => ops.count(kind, options)),
      insert: (kind, record) => guard(() => ops.insert(kind, record)),
      update: (kind, record, expectRev) => guard(() => ops.update(kind, record, expectRev)),
      put: (kind, record) => guard(() => ops.put(kind, record)),
      delete: (kind, id) => guard(() => ops.delete(kind, id)),
      appendAudit: (events) => guard(() => ops.appendAudit(events)),
    };
    try {
      try {
        const result = await fn(tx);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      open = false;
      this.busy = undefined;
      release();
    }
  }

  queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    return this.gate(() => {
      const { sql, params } = auditSelect(query, () => '?');
      const rows = this.db.prepare(sql).all(...params) as { seq: number; doc: string }[];
      return rows.map((row) => decodeAudit(row.seq, row.doc));
    });
  }

  pruneAudit(before: number, limit: number): Promise<number> {
    return this.gate(
      () => this.db.prepare(auditPruneSql(() => '?')).run(before, Math.max(0, Math.floor(limit))).changes,
    );
  }

  changesSince(seq: number, limit = 1000): Promise<Change[]> {
    return this.gate(() => {
      const rows = this.db
        .prepare('SELECT seq, kind, id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?')
        .all(seq, Math.max(0, Math.floor(limit))) as { seq: number; kind: string; id: string; op: string }[];
      return rows.flatMap((row): Change[] =>
        isKind(row.kind) && (row.op === 'put' || row.op === 'delete')
          ? [{ seq: row.seq, kind: row.kind, id: row.id, op: row.op }]
          : [],
      );
    });
  }

  latestChange(): Promise<number> {
    return this.gate(() => (this.db.prepare(feed.LATEST).get() as { s: number | null }).s ?? 0);
  }

  markFeedRead(node: string, seq: number, now: number): Promise<void> {
    return this.gate(() => {
      this.db.prepare(feed.MARK(anonymous)).run(node, seq, now);
    });
  }

  leaveFeed(node: string): Promise<void> {
    return this.gate(() => {
      this.db.prepare(feed.LEAVE(anonymous)).run(node);
    });
  }

  trimChanges(liveSince: number, limit: number, keep = 0): Promise<number> {
    return this.gate(() =>
      this.db
        .transaction(() => {
          this.db.prepare(feed.DROP_STALE(anonymous)).run(liveSince);
          const readers = (this.db.prepare(feed.WATERMARK).get() as { w: number | null }).w;
          if (readers === null) return 0;
          const latest = (this.db.prepare(feed.LATEST).get() as { s: number | null }).s ?? 0;
          const watermark = Math.min(readers, latest - Math.max(0, Math.floor(keep)));
          const bound = (
            this.db.prepare(feed.TRIM_BOUND(anonymous)).get(watermark, Math.max(0, Math.floor(limit))) as {
              b: number | null;
            }
          ).b;
          if (bound === null) return 0;
          const { changes } = this.db.prepare(feed.DELETE(anonymous)).run(bound);
          this.db.prepare(feed.SET_FLOOR(anonymous)).run(bound, bound);
          return changes;
        })
        .immediate(),
    );
  }

  feedFloor(): Promise<number> {
    return this.gate(() => (this.db.prepare(feed.FLOOR).get() as { f: number } | undefined)?.f ?? 0);
  }

  schemaVersion(): Promise<number> {
    return this.gate(
      () =>
        (this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null })
          .v ?? 0,
    );
  }

  ping(): Promise<void> {
    return this.gate(() => {
      this.db.prepare('SELECT 1').get();
    });
  }

  async close(): Promise<void> {
    while (this.busy) await this.busy;
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
