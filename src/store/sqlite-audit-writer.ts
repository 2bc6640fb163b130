// Audit events appended outside a transaction go to a writer thread (sqlite-audit-thread.ts) with its
// own connection, so the durable commit's sync never blocks the event loop. `append` resolves once the
// commit that carried the events returned (synced, synchronous=FULL) and rejects when it failed or the
// thread died before answering: nothing is reported written that is not on stable storage.
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { AuditEvent } from './records/audit.js';
import { auditRow } from './sql/audit.js';
import type { AuditThreadData, AuditThreadReply, AuditThreadRequest } from './sqlite-audit-thread.js';

/** The writer thread stopped before answering: the events it held may or may not be committed. */
export class AuditWriterError extends Error {
  override readonly name = 'AuditWriterError';
  constructor(readonly reason: string) {
    super(`audit writer thread ${reason}`);
  }
}

interface Pending {
  resolve(): void;
  reject(err: unknown): void;
}

export interface ThreadOptions {
  workerData: AuditThreadData;
  transferList: MessagePort[];
}

interface Thread {
  worker: Worker;
  port: MessagePort;
  exited: Promise<void>;
}

/**
 * The thread from the compiled file; from the TypeScript source (tests, under tsx) through a bootstrap
 * that registers tsx first, as Node 20 does not carry the main thread's loader into a worker.
 */
export function startAuditThread(options: ThreadOptions): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./sqlite-audit-thread.js', import.meta.url), options);
  const source = JSON.stringify(new URL('./sqlite-audit-thread.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${source}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

export class SqliteAuditWriter {
  private thread: Thread | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Called once no append waits for its answer (close waits for that). */
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly busyTimeoutMs: number,
    /** Starts the thread; tests wrap it to hold the Worker and kill it mid-commit. */
    private readonly startThread: (options: ThreadOptions) => Worker = startAuditThread,
  ) {}

  append(events: readonly AuditEvent[]): Promise<void> {
    const rows = events.map(auditRow);
    const thread = this.started();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A waiting answer keeps the process alive (and its thread's exit heard); an idle thread does not.
      if (this.pending.size === 1) {
        thread.worker.ref();
        thread.port.ref();
      }
      thread.port.postMessage({ id, rows } satisfies AuditThreadRequest);
    });
  }

  /** Waits for the commits in flight, then closes the thread's connection. */
  async close(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    // Every answer first: one still in flight when the thread exits would fail a committed append.
    if (this.pending.size > 0)
      await new Promise<void>((resolve) => {
        this.onDrained = resolve;
      });
    thread.worker.ref();
    thread.port.postMessage({ close: true } satisfies AuditThreadRequest);
    await thread.exited;
  }

  /** The running thread, started on first use and again after one died. */
  private started(): Thread {
    if (this.thread) return this.thread;
    const { port1, port2 } = new MessageChannel();
    const data: AuditThreadData = { path: this.path, busyTimeoutMs: this.busyTimeoutMs, port: port2 };
    const worker = this.startThread({ workerData: data, transferList: [port2] });
    worker.unref();
    port1.on('message', (reply: AuditThreadReply) => this.answer(reply));
    port1.unref();
    const thread: Thread = {
      worker,
      port: port1,
      exited: new Promise<void>((resolve) => {
        let failure: unknown;
        worker.on('error', (err) => {
          failure = err;
        });
        worker.on('exit', (code) => {
          if (this.thread === thread) this.thread = undefined;
          port1.close();
          const reason = failure instanceof Error ? `failed: ${failure.message}` : `exited (${code})`;
          this.failAll(new AuditWriterError(reason));
          resolve();
        });
      }),
    };
    this.thread = thread;
    return thread;
  }

  private answer(reply: AuditThreadReply): void {
    // Rebuilt as better-sqlite3's own error, so storage faults are recognised (store/unavailable.ts).
    const error = reply.error ? new Database.SqliteError(reply.error.message, reply.error.code) : undefined;
    for (const id of reply.ids) {
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (error) waiter?.reject(error);
      else waiter?.resolve();
    }
    if (this.pending.size === 0) {
      this.thread?.worker.unref();
      this.thread?.port.unref();
      this.drained();
    }
  }

  private drained(): void {
    const done = this.onDrained;
    this.onDrained = undefined;
    done?.();
  }

  private failAll(error: AuditWriterError): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(error);
    this.drained();
  }
}
