// One interface for everything gatepass keeps. Two engines implement it (SQLite embedded, PostgreSQL
// for many nodes) and both must pass test/store/conformance.ts.
import type { AuditEvent, AuditQuery } from './records/audit.js';
import type { IndexName, Kind, Records } from './schema.js';

export interface ListOptions<K extends Kind> {
  /** Only records whose index has this exact value. */
  index?: { name: IndexName<K>; value: string };
  /** Records with id greater than this (ids are compared as byte strings). */
  afterId?: string;
  limit?: number;
}

export interface Versioned<T> {
  record: T;
  /** Incremented on every write; used for optimistic concurrency. */
  rev: number;
}

/** Reads and writes, inside a transaction or (on Store) each on its own. */
export interface StoreOps {
  get<K extends Kind>(kind: K, id: string): Promise<Records[K] | undefined>;
  getVersioned<K extends Kind>(kind: K, id: string): Promise<Versioned<Records[K]> | undefined>;
  /** Look up by a unique index. */
  getBy<K extends Kind>(kind: K, index: IndexName<K>, value: string): Promise<Records[K] | undefined>;
  /** Ordered by id. */
  list<K extends Kind>(kind: K, options?: ListOptions<K>): Promise<Records[K][]>;
  count<K extends Kind>(kind: K, options?: Pick<ListOptions<K>, 'index'>): Promise<number>;
  /** Fails with StoreConflictError('exists') on a duplicate id or unique index value. */
  insert<K extends Kind>(kind: K, record: Records[K]): Promise<void>;
  /**
   * Replace a record. With `expectRev`, fails with StoreConflictError('stale') when another writer
   * got there first; fails with StoreConflictError('missing') when the record does not exist.
   */
  update<K extends Kind>(kind: K, record: Records[K], expectRev?: number): Promise<number>;
  /** Insert or replace. */
  put<K extends Kind>(kind: K, record: Records[K]): Promise<void>;
  delete<K extends Kind>(kind: K, id: string): Promise<boolean>;
  appendAudit(events: readonly AuditEvent[]): Promise<void>;
}

export interface Change {
  seq: number;
  kind: Kind;
  id: string;
  op: 'put' | 'delete';
}

export interface Store extends StoreOps {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * Run `fn` in one transaction: all of its writes land or none do. `fn` must only use `tx`.
   * Retries are the caller's business (conflicts surface as StoreConflictError).
   */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  queryAudit(query: AuditQuery): Promise<AuditEvent[]>;
  /** Delete up to `limit` of the oldest audit events with `time` before `before` (epoch ms); the count. */
  pruneAudit(before: number, limit: number): Promise<number>;
  /** Every committed write, in commit order, for cache invalidation and revocation fan-out. */
  changesSince(seq: number, limit?: number): Promise<Change[]>;
  /** The latest change seq (0 when nothing was ever written), trimmed or not. */
  latestChange(): Promise<number>;
  /**
   * Record that `node` (one process following the feed) has read every change up to `seq`, as of
   * `now` (epoch ms): a heartbeat that holds trimming back to its position while it is fresh.
   */
  markFeedRead(node: string, seq: number, now: number): Promise<void>;
  /** `node` stops following the feed (shutting down): it holds nothing back any more. */
  leaveFeed(node: string): Promise<void>;
  /**
   * Delete up to `limit` of the oldest changes that every reader seen at or after `liveSince` has
   * read, always keeping those within `keep` seqs of the latest (default 0); readers not seen since
   * are forgotten. Nothing is deleted while no reader is live. The count.
   */
  trimChanges(liveSince: number, limit: number, keep?: number): Promise<number>;
  /**
   * The highest seq trimmed away (0 when nothing was). A reader whose position is below it may have
   * missed changes, so it reloads what it holds in full instead of following the feed.
   */
  feedFloor(): Promise<number>;
  /** Current schema version after migrations. */
  schemaVersion(): Promise<number>;
  ping(): Promise<void>;
  /**
   * Push notification that other connections committed changes (then read `changesSince`). Engines
   * without push (SQLite) leave it out and callers poll `latestChange`.
   */
  watch?(listener: () => void): Promise<{ close(): Promise<void> }>;
  /**
   * Serialise first-start work (keyrings, bootstrap accounts) between nodes that share this store:
   * resolves once this node holds the lock, with the function that releases it. Left out where nodes
   * cannot start at once (SQLite: `--workers` start one after the other).
   */
  lockStartup?(): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export type ConflictReason = 'exists' | 'stale' | 'missing';

export class StoreConflictError extends Error {
  override readonly name = 'StoreConflictError';
  constructor(
    readonly reason: ConflictReason,
    readonly kind: Kind,
    readonly id: string,
    /** For 'exists' on a unique index: which index. */
    readonly index?: string,
  ) {
    super(`${reason}: ${kind} ${index ? `(${index}) ` : ''}${id}`);
  }
}

/** The database was written by a newer gatepass: refuse rather than corrupt it. */
export class StoreVersionError extends Error {
  override readonly name = 'StoreVersionError';
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `store schema version ${found} is newer than this gatepass supports (${supported}); upgrade gatepass`,
    );
  }
}
