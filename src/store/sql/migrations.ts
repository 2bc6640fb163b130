// Versioned schema migrations, applied in order at open inside one transaction each. Both engines
// share the statements; the few dialect differences are spelled out per migration. Never edit a
// shipped migration: add a new one.

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  description: string;
  statements: (dialect: Dialect) => readonly string[];
}

const serial = (d: Dialect): string =>
  d === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
const bigint = (d: Dialect): string => (d === 'sqlite' ? 'INTEGER' : 'BIGINT');

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'records, secondary indexes, change feed, audit log',
    statements: (d) => [
      `CREATE TABLE records (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        rev ${bigint(d)} NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (kind, id)
      )`,
      `CREATE TABLE record_index (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        id TEXT NOT NULL,
        is_unique ${bigint(d)} NOT NULL,
        PRIMARY KEY (kind, name, value, id)
      )`,
      // Uniqueness is enforced by the database, not only checked, so two nodes racing lose cleanly.
      'CREATE UNIQUE INDEX record_index_unique ON record_index (kind, name, value) WHERE is_unique = 1',
      'CREATE INDEX record_index_by_record ON record_index (kind, id)',
      `CREATE TABLE changes (
        seq ${serial(d)},
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        op TEXT NOT NULL
      )`,
      `CREATE TABLE audit (
        seq ${serial(d)},
        time ${bigint(d)} NOT NULL,
        request_id TEXT NOT NULL,
        action TEXT NOT NULL,
        decision TEXT NOT NULL,
        run_id TEXT,
        workspace_id TEXT,
        role_arn TEXT,
        session_id TEXT,
        doc TEXT NOT NULL
      )`,
      'CREATE INDEX audit_time ON audit (time)',
      'CREATE INDEX audit_run ON audit (run_id) WHERE run_id IS NOT NULL',
      'CREATE INDEX audit_workspace ON audit (workspace_id) WHERE workspace_id IS NOT NULL',
      'CREATE INDEX audit_role ON audit (role_arn) WHERE role_arn IS NOT NULL',
      'CREATE INDEX audit_session ON audit (session_id) WHERE session_id IS NOT NULL',
      'CREATE INDEX audit_request ON audit (request_id)',
    ],
  },
  {
    version: 2,
    description: 'change-feed retention: readers and the trimmed point',
    statements: (d) => [
      `CREATE TABLE feed_readers (
        node TEXT PRIMARY KEY,
        seq ${bigint(d)} NOT NULL,
        seen ${bigint(d)} NOT NULL
      )`,
      `CREATE TABLE feed_state (
        id ${bigint(d)} PRIMARY KEY,
        trimmed_through ${bigint(d)} NOT NULL
      )`,
      'INSERT INTO feed_state (id, trimmed_through) VALUES (1, 0)',
    ],
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;
