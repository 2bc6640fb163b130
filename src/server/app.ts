// Assembles a running gatepass node: store, logger, metrics, mounts, listener, signal handling.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { denyLapsedRun } from '../agent/deny-list.js';
import { retryingTransient, StsClient } from '../agent/sts-client.js';
import type { Cloud } from '../cloud/assemble.js';
import { isAwsRequest } from '../cloud/endpoint/aws-endpoint.js';
import type { Clock, Random } from '../core/deps.js';
import { errorResponse } from '../core/query/dispatch.js';
import { AwsError } from '../core/query/errors.js';
import type { Logger } from '../http/log.js';
import type { Mount } from '../http/transport.js';
import { createIssuer, type Issuer } from '../issuer/http/mount.js';
import { ensureLocalTls } from '../issuer/local-ca.js';
import { systemClock } from '../runtime/clock.js';
import { cryptoRandom } from '../runtime/random.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { startAuditRetention } from './audit-retention.js';
import { cloudMounts, startCloud } from './cloud-mount.js';
import type { Config } from './config.js';
import { deepFreeze, describeConfig } from './config.js';
import { sendHttpError } from './errors.js';
import { explainMounts } from './explain-api.js';
import { type BoundAddress, createHttpServer, type HttpServer } from './http-server.js';
import { createJsonLogger } from './log.js';
import { loadMasterKey } from './master-key.js';
import { createMetrics, type Metrics } from './metrics.js';
import { reachMounts } from './reach-api.js';
import { revokeMounts } from './revoke-api.js';
import { uiApiMounts } from './ui/api.js';
import { uiMounts } from './ui/mount.js';

/** What the node's services are started with. */
export interface NodeEnv {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  random: Random;
  clock: Clock;
  /** Issuer URL: config.issuerUrl, else this server's own base URL. */
  issuerUrl: string;
  baseUrl: string;
  /** Encrypts keys at rest (issuer signing keys, cloud sealing keys); loaded once per node. */
  masterKey: Uint8Array;
  /** CA certificates (PEM) the cloud side trusts for identity providers, beyond Node's roots. */
  oidcCa: readonly string[];
  /** Work to finish before the store closes at shutdown (flush audit, stop timers). */
  onShutdown(hook: () => Promise<void>): void;
}

/** The node's issuer and cloud side: started before any mount is built, so every mount gets them whole. */
export interface AppServices {
  cloud: Cloud;
  issuer: Issuer;
}

/** What mount factories get to build their routes. */
export interface AppEnv extends NodeEnv {
  services: AppServices;
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
  readonly services: AppServices;
  /** Graceful shutdown, then close the store. Idempotent. */
  stop(): Promise<void>;
}

/** The product's own route modules, in match order; callers can append more through `AppDeps.extraMounts`. */
// The explain API goes first: its paths are under the issuer's /api/v1 prefix.
export const coreMounts: readonly MountFactory[] = [
  explainMounts,
  reachMounts,
  (env) => uiApiMounts({ store: env.store, clock: env.clock, bodyLimitBytes: env.config.bodyLimitBytes }),
  revokeMounts,
  (env) => env.services.issuer.mounts,
  (env) => cloudMounts(env.services.cloud),
  uiMounts,
];

/** Started in dependency order: the cloud side, then the issuer, which tells it when its keyring changes. */
async function startServices(env: NodeEnv): Promise<AppServices> {
  const cloud = await startCloud(env);
  const issuer = await startIssuer(env, cloud);
  return { cloud, issuer };
}

/** The issuer: keyring (bootstrapped on first start), platform API and discovery documents. */
async function startIssuer(env: NodeEnv, cloud: Cloud): Promise<Issuer> {
  const { config, masterKey } = env;
  const issuer = await createIssuer({
    store: env.store,
    clock: env.clock,
    random: env.random,
    log: env.log,
    issuerUrl: env.issuerUrl,
    masterKey,
    alg: config.keyAlg,
    publishAheadMs: config.keyPublishAheadSeconds * 1000,
    rotationPeriodMs: config.keyRotationDays * 86_400_000,
    dataDir: config.dataDir,
    bodyLimitBytes: config.bodyLimitBytes,
    keysChanged: () => cloud.sync(),
    leaseMs: config.runLeaseSeconds * 1000,
    // After a lapsed lease: RevokeRun at the STS endpoints the run's workspace names (another
    // deployment's cloud side), trusting the public roots and the identity-provider CAs.
    revokeAt: async (endpoint, token) => {
      const sts = new StsClient({
        endpoint,
        region: 'us-east-1',
        clock: env.clock,
        userAgent: 'gatepass-issuer',
        ...(env.oidcCa.length > 0 ? { http: { ca: [...rootCertificates, ...env.oidcCa] } } : {}),
      });
      await retryingTransient(() => sts.revokeRun(token));
    },
    // After a lapsed lease where the STS has no RevokeRun (AWS's): the workspace's deny list.
    denyAt: (run) => denyLapsedRun({ ...run, clock: env.clock, ca: [...rootCertificates, ...env.oidcCa] }),
    announceAdminToken: (token, path) => {
      // Shown once, to a person at a terminal; otherwise only where the file is (never into logs).
      if (process.stderr.isTTY) process.stderr.write(`gatepass admin token (also in ${path}):\n  ${token}\n`);
      env.log.log('info', 'admin token written', { file: path });
    },
  });
  env.onShutdown(() => issuer.stop());
  return issuer;
}

function defaultOpenStore(config: Config): Promise<Store> {
  return openStore(
    config.databaseUrl !== undefined
      ? { dataDir: config.dataDir, databaseUrl: config.databaseUrl }
      : { dataDir: config.dataDir },
  );
}

export async function startServer(givenConfig: Config, deps: AppDeps = {}): Promise<App> {
  let config = givenConfig;
  const log = deps.log ?? createJsonLogger({ level: config.logLevel });
  const random = deps.random ?? cryptoRandom;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createMetrics();
  // A local CA and server certificate for the issuer host, when asked for and no cert is given.
  if (config.tlsAutoHost !== undefined && config.tlsCert === undefined) {
    const tls = await ensureLocalTls({ dir: join(config.dataDir, 'tls'), host: config.tlsAutoHost });
    log.log('info', 'local TLS certificate', {
      host: config.tlsAutoHost,
      caFile: tls.caPath,
      thumbprint: tls.thumbprint,
    });
    // Not a secret: what an IAM OIDC provider's ThumbprintList needs, and the CA clients must trust.
    process.stderr.write(
      `gatepass local CA: ${tls.caPath}\nIAM OIDC provider thumbprint: ${tls.thumbprint}\n`,
    );
    // The node's own issuer is served under this CA, so its cloud side trusts it without extra setup.
    config = deepFreeze({
      ...config,
      tlsCert: tls.certPath,
      tlsKey: tls.keyPath,
      oidcCaFile: config.oidcCaFile ?? tls.caPath,
    });
  }
  const masterKey = loadMasterKey(
    config.masterKeyFile !== undefined
      ? { dataDir: config.dataDir, masterKeyFile: config.masterKeyFile }
      : { dataDir: config.dataDir },
  );
  const oidcCa = config.oidcCaFile !== undefined ? [await readFile(config.oidcCaFile, 'utf8')] : [];
  const shutdownHooks: (() => Promise<void>)[] = [];
  const store = await (deps.openStore ?? defaultOpenStore)(config);

  // Services and mounts need the base URL, which is only known once bound (port 0): the listener
  // starts first, and its one route answers from the mounts once they are all built.
  let mounts: readonly Mount[] | undefined;
  const router: Mount = {
    name: 'app',
    // Until every mount is built, every route answers a retryable 503, never a 404 (SDKs do not
    // retry a 404, and a load balancer may send traffic before /readyz says so).
    match: (p, m) => mounts === undefined || mounts.some((mount) => mount.match(p, m)),
    handler: async (req, res, ctx) => {
      if (mounts === undefined) {
        ctx.route = 'starting';
        sendStarting(req, res, ctx.requestId);
        return;
      }
      const mount = mounts.find((m) => m.match(ctx.path, req.method ?? 'GET'));
      if (!mount) throw new Error('route vanished between match and dispatch');
      ctx.route ??= mount.name;
      await mount.handler(req, res, ctx);
    },
  };

  const ready = async (): Promise<boolean> => {
    if (mounts === undefined) return false;
    await store.ping();
    return true;
  };
  const http = createHttpServer({ config, log, metrics, mounts: [router], ready, random, clock });

  let address: BoundAddress;
  let services: AppServices;
  try {
    address = await http.listen();
    const issuerUrl = config.issuerUrl ?? address.url;
    const nodeEnv: NodeEnv = {
      config,
      store,
      log,
      metrics,
      random,
      clock,
      issuerUrl,
      baseUrl: address.url,
      masterKey,
      oidcCa,
      onShutdown: (hook) => shutdownHooks.push(hook),
    };
    const built: Mount[] = [];
    // Nodes starting together on one database bootstrap keys and accounts one at a time.
    const unlock = await store.lockStartup?.();
    try {
      services = await startServices(nodeEnv);
      const env: AppEnv = { ...nodeEnv, services };
      for (const factory of [...coreMounts, ...(deps.extraMounts ?? [])]) built.push(...(await factory(env)));
    } finally {
      await unlock?.();
    }
    mounts = built;
    if (config.auditRetentionDays !== undefined) {
      const retention = startAuditRetention(config.auditRetentionDays, { store, clock, random, log });
      shutdownHooks.push(() => retention.stop());
    }
  } catch (err) {
    await http.close().catch(() => undefined);
    // What did start (the cloud side's feed, the issuer's reaper) stops before the store closes.
    for (const hook of shutdownHooks.reverse()) await hook().catch(() => undefined);
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
        for (const hook of shutdownHooks.reverse()) {
          await hook().catch((err: unknown) => log.log('error', 'shutdown hook failed', { err }));
        }
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

  return { address, issuerUrl, store, metrics, http, services, stop };
}

/** Seconds a client is asked to wait before retrying a node that is still starting. */
const STARTING_RETRY_AFTER = '1';

/**
 * The answer to a request that arrives before the node has mounted its routes: for the AWS endpoint
 * the protocol's own retryable 503 (`ServiceUnavailable` in Query XML, or JSON for an
 * `X-Amz-Target` call), for anything else the server's `not_ready` error. Both carry Retry-After.
 */
export function sendStarting(req: IncomingMessage, res: ServerResponse, requestId: string): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  const retry = { 'retry-after': STARTING_RETRY_AFTER };
  if (!isAwsRequest(path, method, q < 0 ? '' : url.slice(q + 1))) {
    sendHttpError(res, 'not_ready', requestId, retry);
    return;
  }
  // The catalog's words: a temporary failure, which every AWS SDK retries.
  const error = new AwsError('ServiceUnavailable');
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target !== '') {
    const body = JSON.stringify({ __type: 'ServiceUnavailableException', message: error.message });
    res.writeHead(503, {
      ...retry,
      'x-amzn-RequestId': requestId,
      'content-type': 'application/x-amz-json-1.1',
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(body);
    return;
  }
  const r = errorResponse(error, 'sts', requestId);
  res.writeHead(503, { ...r.headers, ...retry });
  res.end(r.body);
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
