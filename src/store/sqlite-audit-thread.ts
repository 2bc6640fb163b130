// The SQLite audit writer's thread: its own connection to the store's file (WAL, synchronous=FULL),
// so a commit and its sync block this thread, not the server's event loop. Every batch that arrived
// while the previous commit was syncing goes into the next commit (group commit), and each batch's
// sender is answered only once that commit returned, that is once it is on stable storage.
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AUDIT_COLUMNS, type AuditRow } from './sql/audit.js';

export interface AuditThreadData {
  path: string;
  busyTimeoutMs: number;
  port: MessagePort;
}

/** Main thread → writer: a batch to commit, or the request to close the connection and end. */
export type AuditThreadRequest = { id: number; rows: AuditRow[] } | { close: true };

/** Writer → main thread: the batches one commit carried, and its error when it failed. */
export interface AuditThreadReply {
  ids: number[];
  error?: { message: string; code: string };
}

const { path, busyTimeoutMs, port } = workerData as AuditThreadData;
const db = new Database(path);
// Waits for the write lock are ours (`commitWaiting`), not SQLite's busy handler: a thread asleep in
// native code cannot be stopped cleanly.
db.pragma('busy_timeout = 0');
db.pragma('synchronous = FULL');
const insert = db.prepare(
  `INSERT INTO audit (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
);
const commit = db.transaction((batches: readonly AuditRow[][]) => {
  for (const rows of batches) for (const row of rows) insert.run(row);
});

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const isBusy = (err: unknown): boolean =>
  err instanceof Database.SqliteError && err.code.startsWith('SQLITE_BUSY');

/**
 * Commit, waiting up to the busy timeout while the main connection or a sibling process holds the
 * write lock (IMMEDIATE fails at BEGIN, before anything was written, so a retry is whole).
 */
function commitWaiting(batches: readonly AuditRow[][]): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (;;) {
    try {
      commit.immediate(batches);
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
    }
    // Blocking this thread is the point: nothing else runs here until the batch is committed.
    Atomics.wait(sleeper, 0, 0, 1);
  }
}

function write(first: AuditThreadRequest): void {
  const ids: number[] = [];
  const batches: AuditRow[][] = [];
  let closing = false;
  for (let next: AuditThreadRequest | undefined = first; next; ) {
    if ('close' in next) closing = true;
    else {
      ids.push(next.id);
      batches.push(next.rows);
    }
    next = (receiveMessageOnPort(port)?.message as AuditThreadRequest | undefined) ?? undefined;
  }
  if (ids.length > 0) {
    let reply: AuditThreadReply = { ids };
    try {
      commitWaiting(batches);
    } catch (err) {
      const { message, code } = err as { message?: unknown; code?: unknown };
      reply = {
        ids,
        error: { message: String(message), code: typeof code === 'string' ? code : 'SQLITE_ERROR' },
      };
    }
    port.postMessage(reply);
  }
  if (closing) {
    db.close();
    port.close();
  }
}

port.on('message', write);
