// The store for many nodes: PostgreSQL. Same tables and codec as SQLite. Uniqueness is enforced by
// the database (unique partial index), so two nodes racing for a name lose cleanly with 'exists'.
// Change-feed writers take one advisory lock, so change seqs are assigned in commit order and a
// reader following `changesSince` never skips a change that commits late.
import postgres from 'postgres';
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

export interface PostgresStoreOptions {
  url: string;
  /** Connection pool size per node. */
  max?: number;
}

type Sql = postgres.Sql | postgres.TransactionSql;
type Param = string | number | null;

// Arbitrary constants naming gatepass's advisory locks.
const CHANGE_LOCK = 0x67617465;
const MIGRATION_LOCK = 0x6d696772;
const STARTUP_LOCK = 0x73746172;
const CHANGE_CHANNEL = 'gatepass_changes';

function isUniqueViolation(err: unknown): err is postgres.PostgresError {
  return err instanceof postgres.PostgresError && err.code === '23505';
}

/**
 * 40001: a concurrent transaction changed the row first (repeatable read): the caller's view is stale.
 * 40P01: two transactions locked rows in opposite orders and this one was chosen to give way; to its
 * caller that is the same lost race.
 */
function staleOr(err: unknown, kind: Kind, id: string): unknown {
  return err instanceof postgres.PostgresError && (err.code === '40001' || err.code === '40P01')
    ? new StoreConflictError('stale', kind, id)
    : err;
}

class PostgresOps implements StoreOps {
  /** `atomic` runs a write in its own transaction, or in a savepoint inside an open one. */
  constructor(
    private readonly sql: Sql,
    private readonly atomic: <T>(fn: (sql: postgres.TransactionSql) => Promise<T>) => Promise<T>,
  ) {}

  /**
   * Prepared by default: the statements are a small fixed set, and each connection then plans each
   * once. `prepare: false` for texts that vary without bound (multi-row audit inserts).
   */
  private async q<T>(
    text: string,
    params: readonly Param[],
    sql: Sql = this.sql,
    prepare = true,
  ): Promise<T[]> {
    return (await sql.unsafe(text, params as Param[], { prepare })) as unknown as T[];
  }

  async get<K extends Kind>(kind: K, id: string): Promise<Records[K] | undefined> {
    return (await this.getVersioned(kind, id))?.record;
  }

  async getVersioned<K extends Kind>(kind: K, id: string): Promise<Versioned<Records[K]> | undefined> {
    const [row] = await this.q<{ rev: string; doc: string }>(
      'SELECT rev, doc FROM records WHERE kind = $1 AND id = $2',
      [kind, id],
    );
    return row ? { record: decodeDoc<Records[K]>(row.doc), rev: Number(row.rev) } : undefined;
  }

  async getBy<K extends Kind>(kind: K, index: IndexName<K>, value: string): Promise<Records[K] | undefined> {
    const [row] = await this.q<{ doc: string }>(
      `SELECT r.doc FROM record_index i JOIN records r ON r.kind = i.kind AND r.id = i.id
       WHERE i.kind = $1 AND i.name = $2 AND i.value = $3 ORDER BY i.id COLLATE "C" LIMIT 1`,
      [kind, index, value],
    );
    return row ? decodeDoc<Records[K]>(row.doc) : undefined;
  }

  async list<K extends Kind>(kind: K, options: ListOptions<K> = {}): Promise<Records[K][]> {
    const { sql, params } = listQuery(kind, options, 'r.doc');
    const rows = await this.q<{ doc: string }>(sql, params);
    return rows.map((row) => decodeDoc<Records[K]>(row.doc));
  }

  async count<K extends Kind>(kind: K, options: Pick<ListOptions<K>, 'index'> = {}): Promise<number> {
    const { sql, params } = listQuery(kind, options, 'COUNT(*) AS n');
    const [row] = await this.q<{ n: string }>(sql, params);
    return Number(row?.n ?? 0);
  }

  insert<K extends Kind>(kind: K, record: Records[K]): Promise<void> {
    return this.write(kind, record.id, async (sql) => {
      try {
        await this.q(
          'INSERT INTO records (kind, id, rev, doc) VALUES ($1, $2, 1, $3)',
          [kind, record.id, encodeDoc(record)],
          sql,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError('exists', kind, record.id);
        throw err;
      }
      await this.writeIndexes(sql, kind, record);
      await this.logChange(sql, kind, record.id, 'put');
    });
  }

  update<K extends Kind>(kind: K, record: Records[K], expectRev?: number): Promise<number> {
    return this.write(kind, record.id, async (sql) => {
      const [row] = await this.q<{ rev: string }>(
        'SELECT rev FROM records WHERE kind = $1 AND id = $2 FOR UPDATE',
        [kind, record.id],
        sql,
      );
      if (!row) throw new StoreConflictError('missing', kind, record.id);
      const rev = Number(row.rev);
      if (expectRev !== undefined && rev !== expectRev)
        throw new StoreConflictError('stale', kind, record.id);
      await this.q(
        'UPDATE records SET rev = $1, doc = $2 WHERE kind = $3 AND id = $4',
        [rev + 1, encodeDoc(record), kind, record.id],
        sql,
      );
      await this.writeIndexes(sql, kind, record);
      await this.logChange(sql, kind, record.id, 'put');
      return rev + 1;
    });
  }

  put<K extends Kind>(kind: K, record: Records[K]): Promise<void> {
    return this.write(kind, record.id, async (sql) => {
      await this.q(
        `INSERT INTO records (kind, id, rev, doc) VALUES ($1, $2, 1, $3)
         ON CONFLICT (kind, id) DO UPDATE SET rev = records.rev + 1, doc = EXCLUDED.doc`,
        [kind, record.id, encodeDoc(record)],
        sql,
      );
      await this.writeIndexes(sql, kind, record);
      await this.logChange(sql, kind, record.id, 'put');
    });
  }

  delete<K extends Kind>(kind: K, id: string): Promise<boolean> {
    return this.write(kind, id, async (sql) => {
      const deleted = await this.q(
        'DELETE FROM records WHERE kind = $1 AND id = $2 RETURNING id',
        [kind, id],
        sql,
      );
      if (deleted.length === 0) return false;
      await this.q('DELETE FROM record_index WHERE kind = $1 AND id = $2', [kind, id], sql);
      await this.logChange(sql, kind, id, 'delete');
      return true;
    });
  }

  appendAudit(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const width = AUDIT_COLUMNS.length;
    const tuples = events.map(
      (_, i) => `(${AUDIT_COLUMNS.map((__, j) => `$${i * width + j + 1}`).join(', ')})`,
    );
    return this.q(
      `INSERT INTO audit (${AUDIT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`,
      events.flatMap(auditRow),
      this.sql,
      events.length === 1,
    ).then(() => undefined);
  }

  private async write<T>(
    kind: Kind,
    id: string,
    fn: (sql: postgres.TransactionSql) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.atomic(fn);
    } catch (err) {
      throw staleOr(err, kind, id);
    }
  }

  private async writeIndexes<K extends Kind>(sql: Sql, kind: K, record: Records[K]): Promise<void> {
    await this.q('DELETE FROM record_index WHERE kind = $1 AND id = $2', [kind, record.id], sql);
    for (const row of indexRows(kind, record)) {
      try {
        await this.q(
          'INSERT INTO record_index (kind, name, value, id, is_unique) VALUES ($1, $2, $3, $4, $5)',
          [kind, row.name, row.value, record.id, row.unique ? 1 : 0],
          sql,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError('exists', kind, record.id, row.name);
        throw err;
      }
    }
  }

  private async logChange(sql: Sql, kind: Kind, id: string, op: Change['op']): Promise<void> {
    await this.q('SELECT pg_advisory_xact_lock($1)', [CHANGE_LOCK], sql);
    await this.q('INSERT INTO changes (kind, id, op) VALUES ($1, $2, $3)', [kind, id, op], sql);
    // Delivered at commit, once per transaction: every node's watcher wakes up and reads the feed.
    await this.q(`SELECT pg_notify('${CHANGE_CHANNEL}', '')`, [], sql);
  }
}

function listQuery<K extends Kind>(
  kind: K,
  options: ListOptions<K>,
  select: string,
): { sql: string; params: Param[] } {
  const params: Param[] = [kind];
  const p = (value: Param): string => {
    params.push(value);
    return `$${params.length}`;
  };
  let sql = options.index
    ? `SELECT ${select} FROM record_index i JOIN records r ON r.kind = i.kind AND r.id = i.id
       WHERE i.kind = $1 AND i.name = ${p(options.index.name)} AND i.value = ${p(options.index.value)}`
    : `SELECT ${select} FROM records r WHERE r.kind = $1`;
  // Ids compare as byte strings on both engines: the C collation, whatever the database's locale.
  if (options.afterId !== undefined) sql += ` AND r.id COLLATE "C" > ${p(options.afterId)}`;
  if (select.startsWith('COUNT')) return { sql, params };
  sql += ' ORDER BY r.id COLLATE "C"';
  if (options.limit !== undefined) sql += ` LIMIT ${p(Math.max(0, Math.floor(options.limit)))}`;
  return { sql, params };
}

async function migrate(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    // Nodes starting together take turns; the second finds the work done.
    await tx.unsafe('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.unsafe(MIGRATIONS_TABLE);
    const [row] = (await tx.unsafe('SELECT MAX(version) AS v FROM schema_migrations')) as unknown as {
      v: number | null;
    }[];
    const current = row?.v ?? 0;
    if (current > LATEST_VERSION) throw new StoreVersionError(current, LATEST_VERSION);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements('postgres')) await tx.unsafe(statement);
      await tx.unsafe(
        'INSERT INTO schema_migrations (version, description, applied_at) VALUES ($1, $2, $3)',
        [migration.version, migration.description, new Date().toISOString()],
      );
    }
  });
}

/**
 * The connection pool, with commits that are durable when they return. The server's (or database's,
 * or role's) `synchronous_commit` is kept as it is (`on`, `local`, `remote_write`, `remote_apply`)
 * unless it is `off`: then a commit could be acknowledged and still lost to a crash of the database
 * server, so gatepass's connections ask for `on` instead. Exported for the store tests.
 */
export async function durablePool(url: string, max = 10): Promise<postgres.Sql> {
  const options = { max, onnotice: () => undefined, idle_timeout: 30 };
  const sql = postgres(url, options);
  let setting: string | undefined;
  try {
    const [row] = (await sql.unsafe('SHOW synchronous_commit')) as unknown as {
      synchronous_commit: string;
    }[];
    setting = row?.synchronous_commit;
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  if (setting !== 'off') return sql;
  await sql.end({ timeout: 1 });
  return postgres(url, { ...options, connection: { synchronous_commit: 'on' } });
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const sql = await durablePool(options.url, options.max ?? 10);
  try {
    await migrate(sql);
  } catch (err) {
    await sql.end({ timeout: 1 });
    throw err;
  }
  return new PostgresStore(sql);
}

class PostgresStore extends PostgresOps implements Store {
  readonly engine = 'postgres' as const;

  constructor(private readonly pool: postgres.Sql) {
    super(pool, (fn) => pool.begin(fn) as Promise<never>);
  }

  async transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    // Repeatable read: a row changed by a concurrent transaction fails the later write (40001 → stale)
    // instead of silently overwriting it, so read-modify-write never loses an update.
    const result = await this.pool.begin('isolation level repeatable read', async (tx) => {
      const ops = new PostgresOps(tx, (inner) => tx.savepoint(inner) as Promise<never>);
      return { value: await fn(ops) };
    });
    return (result as { value: T }).value;
  }

  async queryAudit(query: AuditQuery): Promise<AuditEvent[]> {
    const { sql, params } = auditSelect(query, (n) => `$${n}`);
    const rows = (await this.pool.unsafe(sql, params as Param[])) as unknown as {
      seq: string;
      doc: string;
    }[];
    return rows.map((row) => decodeAudit(row.seq, row.doc));
  }

  async pruneAudit(before: number, limit: number): Promise<number> {
    const result = await this.pool.unsafe(
      auditPruneSql((n) => `$${n}`),
      [before, Math.max(0, Math.floor(limit))],
    );
    return result.count;
  }

  async changesSince(seq: number, limit = 1000): Promise<Change[]> {
    const rows = (await this.pool.unsafe(
      'SELECT seq, kind, id, op FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2',
      [seq, Math.max(0, Math.floor(limit))],
    )) as unknown as { seq: string; kind: string; id: string; op: string }[];
    return rows.flatMap((row): Change[] =>
      isKind(row.kind) && (row.op === 'put' || row.op === 'delete')
        ? [{ seq: Number(row.seq), kind: row.kind, id: row.id, op: row.op }]
        : [],
    );
  }

  async latestChange(): Promise<number> {
    const [row] = (await this.pool.unsafe(feed.LATEST)) as unknown as { s: string | null }[];
    return Number(row?.s ?? 0);
  }

  async markFeedRead(node: string, seq: number, now: number): Promise<void> {
    await this.pool.unsafe(
      feed.MARK((n) => `$${n}`),
      [node, seq, now],
    );
  }

  async leaveFeed(node: string): Promise<void> {
    await this.pool.unsafe(
      feed.LEAVE((n) => `$${n}`),
      [node],
    );
  }

  async trimChanges(liveSince: number, limit: number, keep = 0): Promise<number> {
    const p = (n: number): string => `$${n}`;
    return (await this.pool.begin(async (tx) => {
      await tx.unsafe(feed.DROP_STALE(p), [liveSince]);
      const [mark] = (await tx.unsafe(feed.WATERMARK)) as unknown as { w: string | null }[];
      if (mark?.w == null) return 0;
      const [latest] = (await tx.unsafe(feed.LATEST)) as unknown as { s: string | null }[];
      const watermark = Math.min(Number(mark.w), Number(latest?.s ?? 0) - Math.max(0, Math.floor(keep)));
      const [row] = (await tx.unsafe(feed.TRIM_BOUND(p), [
        watermark,
        Math.max(0, Math.floor(limit)),
      ])) as unknown as { b: string | null }[];
      if (row?.b == null) return 0;
      const deleted = await tx.unsafe(feed.DELETE(p), [row.b]);
      await tx.unsafe(feed.SET_FLOOR(p), [row.b, row.b]);
      return deleted.count;
    })) as number;
  }

  async feedFloor(): Promise<number> {
    const [row] = (await this.pool.unsafe(feed.FLOOR)) as unknown as { f: string }[];
    return Number(row?.f ?? 0);
  }

  async schemaVersion(): Promise<number> {
    const [row] = (await this.pool.unsafe('SELECT MAX(version) AS v FROM schema_migrations')) as unknown as {
      v: number | null;
    }[];
    return row?.v ?? 0;
  }

  async ping(): Promise<void> {
    await this.pool.unsafe('SELECT 1');
  }

  async watch(listener: () => void): Promise<{ close(): Promise<void> }> {
    const { unlisten } = await this.pool.listen(CHANGE_CHANNEL, () => listener());
    return { close: () => unlisten() };
  }

  async lockStartup(): Promise<() => Promise<void>> {
    // A session-level lock on one reserved connection: held across the many transactions of a start.
    const conn = await this.pool.reserve();
    try {
      await conn.unsafe('SELECT pg_advisory_lock($1)', [STARTUP_LOCK]);
    } catch (err) {
      conn.release();
      throw err;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        await conn.unsafe('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK]);
      } finally {
        conn.release();
      }
    };
  }

  async close(): Promise<void> {
    await this.pool.end({ timeout: 5 });
  }
}
