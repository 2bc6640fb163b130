// Which store failures are the storage's, not the request's: the disk is full or read-only, an I/O
// error, the database server unreachable or shutting down. Nothing was acknowledged, nothing the
// client sent was wrong, and the same request may succeed later, so the service answers a retryable
// 503 for them. Recognised by their codes (better-sqlite3's SqliteError, postgres.js's errors), so
// this module needs neither driver.

/** SQLite result codes (extended codes start with these): SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED… */
const SQLITE_UNAVAILABLE = [
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
];

/**
 * PostgreSQL SQLSTATE classes and codes: 08 connection exception, 53 insufficient resources
 * (53100 disk full), 57P01-57P03 shutting down or not yet accepting connections, 58 system (I/O)
 * error, 25006 read-only transaction (a standby), 40P01 is not here: a lost race is a conflict.
 */
const PG_CLASSES = ['08', '53', '58'];
const PG_CODES = new Set(['57P01', '57P02', '57P03', '25006']);

/** postgres.js's own connection errors and the socket errors under them. */
const CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (err.name === 'SqliteError')
    return SQLITE_UNAVAILABLE.some((c) => code === c || code.startsWith(`${c}_`));
  if (err.name === 'PostgresError')
    return PG_CODES.has(code) || PG_CLASSES.some((c) => code.length === 5 && code.startsWith(c));
  return CONNECTION_CODES.has(code);
}
