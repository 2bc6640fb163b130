// `gatepass serve --workers N`: one machine's cores behind one port (node:cluster). The primary only
// supervises; every worker is a whole node on the shared store. The first worker starts alone, so
// first-start work (master key file, local CA, keyrings, bootstrap administrator) happens once; the
// others start after it is ready. Workers learn each other's writes through the store's change feed,
// as separate machines do.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../http/log.js';
import type { Config } from './config.js';
import { createJsonLogger } from './log.js';

const READY = 'gatepass:ready';
const STOP = 'gatepass:stop';
/** A worker that keeps dying is a broken configuration, not bad luck: stop instead of looping. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export interface ClusterDeps {
  log?: Logger;
  exit?: (code: number) => void;
}

/** In a worker: run the node, report readiness to the primary, stop when told or orphaned. */
export async function runWorker(config: Config): Promise<void> {
  const { startServer } = await import('./app.js');
  let app: Awaited<ReturnType<typeof startServer>>;
  try {
    app = await startServer(config, { handleSignals: true });
  } catch (err) {
    // The IPC channel would keep this process alive after the CLI reports the error: let go of it.
    process.disconnect?.();
    throw err;
  }
  const stop = (): void => {
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('message', (message) => {
    if (message === STOP) stop();
  });
  // The primary died (even by SIGKILL): do not keep serving unsupervised on its port.
  process.on('disconnect', stop);
  process.send?.(READY);
}

function whenReady(worker: Worker, log: Logger): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (message !== READY) return;
      worker.off('exit', onExit);
      worker.off('message', onMessage);
      resolve(worker);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      worker.off('message', onMessage);
      log.log('error', 'worker exited during start', { pid: worker.process.pid, code, signal });
      reject(new Error('a worker failed to start'));
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}

/** In the primary: start `config.workers` workers, restart the ones that die, stop them on a signal. */
export async function runPrimary(config: Config, deps: ClusterDeps = {}): Promise<void> {
  const log = deps.log ?? createJsonLogger({ level: config.logLevel });
  const exit = deps.exit ?? ((code: number) => process.exit(code));
  const workers = new Set<Worker>();
  let stopping = false;
  const restarts: number[] = [];
  let port: number | undefined;
  cluster.on('listening', (_worker, address) => {
    port ??= address.port;
  });
  // Every forked worker is tracked from the start, so a stop also reaches the ones still starting.
  const forkReady = (): Promise<Worker> => {
    const worker = cluster.fork();
    workers.add(worker);
    worker.once('exit', () => workers.delete(worker));
    return whenReady(worker, log);
  };

  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    log.log('info', 'stopping workers', { workers: workers.size });
    if (workers.size === 0) exit(code);
    for (const worker of workers) {
      worker.once('exit', () => {
        if (workers.size === 0) {
          log.log('info', 'stopped');
          exit(code);
        }
      });
      if (worker.isConnected()) worker.send(STOP);
      else worker.process.kill('SIGTERM');
    }
  };

  const supervise = (worker: Worker): void => {
    worker.once('exit', (code, signal) => {
      if (stopping) return;
      log.log('error', 'worker died', { pid: worker.process.pid, code, signal });
      const now = Date.now();
      restarts.push(now);
      while ((restarts[0] ?? now) < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        log.log('error', 'workers keep dying; giving up', { restarts: restarts.length });
        stopAll(1);
        return;
      }
      forkReady().then(supervise, () => stopAll(1));
    });
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      // A second signal means "now".
      for (const worker of workers) worker.process.kill('SIGKILL');
      exit(1);
      return;
    }
    log.log('info', 'signal received', { signal });
    stopAll(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  log.log('info', 'starting workers', { workers: config.workers });
  try {
    supervise(await forkReady());
    const rest = await Promise.all(Array.from({ length: config.workers - 1 }, forkReady));
    for (const worker of rest) supervise(worker);
  } catch {
    stopAll(1);
    return;
  }
  log.log('info', 'workers ready', {
    workers: workers.size,
    port,
    pids: [...workers].map((w) => w.process.pid),
  });
}

export const isClusterWorker = (): boolean => cluster.isWorker;
