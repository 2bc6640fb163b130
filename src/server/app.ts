// Assembles a running gatepass node: store, logger, metrics, mounts, listener, signal handling.
import type { Clock, Random } from '../core/deps.js';
import { systemClock } from '../core/deps.js';
import type { Logger } from '../core/http.js';
import { cryptoRandom } from '../core/random.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import type { Config } from './config.js';
import { describeConfig } from './config.js';
import { type BoundAddress, createHttpServer, type HttpServer, type Mount } from './http-server.js';
import { createJsonLogger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';

/** What mount factories get to build their routes. */
export interface AppEnv {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  random: Random;
  clock: Clock;
  /** Issuer URL: config.issuerUrl, else this server's own base URL. */
  issuerUrl: string;
  baseUrl: string;
}

export type MountFactory = (env: AppEnv) => readonly Mount[] | Promise<readonly Mount[]>;

export interface AppDeps {
  log?: Logger;
  random?: Random;
  clock?: Clock;
  metrics?: Metrics;
  /** Defaults to openStore({ dataDir, databaseUrl }). */
  openStore?: (config: Config) => Promise<Store>;
  /** Route modules beyond the built-ins (issuer, cloud, …), checked in order after coreMounts. */
  extraMounts?: readonly MountFactory[];
  /** Install SIGTERM/SIGINT handlers that shut down and exit (the CLI does; tests do not). */
  handleSignals?: boolean;
  /** Process exit, injectable for tests of the signal path. */
  exit?: (code: number) => void;
}

export interface App {
  readonly address: BoundAddress;
  readonly issuerUrl: string;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly http: HttpServer;
  /** Graceful shutdown, then close the store. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The product's own route modules, in match order. The issuer and cloud (STS/IAM) mounts are added
 * here as those areas land; callers can append more through `AppDeps.extraMounts`.
 */
export const coreMounts: readonly MountFactory[] = [];

function defaultOpenStore(config: Config): Promise<Store> {
  return openStore(
    config.databaseUrl !== undefined
      ? { dataDir: config.dataDir, databaseUrl: config.databaseUrl }
      : { dataDir: config.dataDir },
  );
}

export async function startServer(config: Config, deps: AppDeps = {}): Promise<App> {
  const log = deps.log ?? createJsonLogger({ level: config.logLevel });
  const random = deps.random ?? cryptoRandom;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  const store = await (deps.openStore ?? defaultOpenStore)(config);

  // Mount factories need the base URL, which is only known once bound (port 0); routes are resolved
  // through this late-bound list so the listener can start first.
  let mounts: readonly Mount[] = [];
  const router: Mount = {
    name: 'app',
    match: (p, m) => mounts.some((mount) => mount.match(p, m)),
    handler: async (req, res, ctx) => {
      const path = new URL(req.url ?? '/', 'http://request.invalid').pathname;
      const mount = mounts.find((m) => m.match(path, req.method ?? 'GET'));
      if (!mount) throw new Error('route vanished between match and dispatch');
      ctx.route ??= mount.name;
      await mount.handler(req, res, ctx);
    },
  };

  let routesReady = false;
  const ready = async (): Promise<boolean> => {
    if (!routesReady) return false;
    await store.ping();
    return true;
  };
  const http = createHttpServer({ config, log, metrics, mounts: [router], ready, random, clock });

  let address: BoundAddress;
  try {
    address = await http.listen();
    const issuerUrl = config.issuerUrl ?? address.url;
    const env: AppEnv = { config, store, log, metrics, random, clock, issuerUrl, baseUrl: address.url };
    const built: Mount[] = [];
    for (const factory of [...coreMounts, ...(deps.extraMounts ?? [])]) built.push(...(await factory(env)));
    mounts = built;
    routesReady = true;
  } catch (err) {
    await http.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
  const issuerUrl = config.issuerUrl ?? address.url;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.log('info', 'shutting down', { graceMs: config.shutdownGraceMs });
      try {
        await http.close();
      } finally {
        await store.close();
      }
      log.log('info', 'stopped');
    })();
    return stopping;
  };

  if (deps.handleSignals) installSignalHandlers(stop, log, deps.exit ?? ((code) => process.exit(code)));

  log.log('info', 'listening', {
    url: address.url,
    issuerUrl,
    store: store.engine,
    config: describeConfig(config),
  });

  return { address, issuerUrl, store, metrics, http, stop };
}

function installSignalHandlers(stop: () => Promise<void>, log: Logger, exit: (code: number) => void): void {
  let received = false;
  const remove = (): void => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    if (received) {
      // A second signal means "now": skip the remaining grace period.
      log.log('warn', 'second signal; exiting immediately', { signal });
      remove();
      exit(1);
      return;
    }
    received = true;
    log.log('info', 'signal received', { signal });
    stop().then(
      () => {
        remove();
        exit(0);
      },
      (err: unknown) => {
        log.log('error', 'shutdown failed', { err });
        remove();
        exit(1);
      },
    );
  }
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
