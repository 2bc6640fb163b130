// Assembles the issuer: keyring, platform model, runs and minting, and its HTTP routes (the platform
// API and the well-known documents). Startup bootstraps the first signing key and the admin token.
// It lives in http/ with the routes: the issuer's model (the folder above) never imports its HTTP face.
import type { Clock, Random } from '../../core/deps.js';
import { singleFlight } from '../../core/single-flight.js';
import type { Logger } from '../../http/log.js';
import type { Mount } from '../../http/transport.js';
import type { SigningAlg } from '../../store/records/keyring.js';
import type { Store } from '../../store/types.js';
import { ensureAdminToken } from '../admin-token.js';
import { normalizeIssuer } from '../discovery.js';
import { Keyring } from '../keyring.js';
import { LeaseReaper, type LeaseReaperDeps } from '../leases.js';
import { Platform } from '../platform.js';
import { Runs } from '../runs.js';
import { API_PREFIX, createApiRouter } from './api.js';
import { createWellKnown } from './wellknown.js';

/** The lease reaper's period, at most: a lapsed lease is acted on within this. */
export const REAP_EVERY_MS = 1000;

export interface IssuerOptions {
  store: Store;
  clock: Clock;
  random: Random;
  log: Logger;
  issuerUrl: string;
  masterKey: Uint8Array;
  alg: SigningAlg;
  publishAheadMs: number;
  rotationPeriodMs: number;
  dataDir: string;
  bodyLimitBytes: number;
  /** Told once about a newly created admin token. */
  announceAdminToken: (token: string, path: string) => void;
  /** This node's cloud side applies keyring changes now (see ApiDeps.keysChanged). */
  keysChanged?: () => Promise<void>;
  /** How long an agent's lease on its run phase lasts without renewal (ms). */
  leaseMs: number;
  /** RevokeRun at another deployment's STS after a lapsed lease (see LeaseReaper). */
  revokeAt?: (endpoint: string, token: string) => Promise<void>;
  /** The deny list after a lapsed lease, where the STS has no RevokeRun (see LeaseReaper). */
  denyAt?: LeaseReaperDeps['denyAt'];
}

export interface Issuer {
  mounts: Mount[];
  keyring: Keyring;
  platform: Platform;
  runs: Runs;
  issuer: string;
  reaper: LeaseReaper;
  /** Stop the lease reaper (shutdown). */
  stop(): Promise<void>;
}

export async function createIssuer(o: IssuerOptions): Promise<Issuer> {
  const issuer = normalizeIssuer(o.issuerUrl);
  const keyring = new Keyring({
    store: o.store,
    masterKey: o.masterKey,
    clock: o.clock,
    random: o.random,
    alg: o.alg,
    publishAheadMs: o.publishAheadMs,
    rotationPeriodMs: o.rotationPeriodMs,
  });
  const platform = new Platform({ store: o.store, clock: o.clock, random: o.random });
  const runs = new Runs({
    store: o.store,
    clock: o.clock,
    random: o.random,
    keyring,
    platform,
    issuer,
    leaseMs: o.leaseMs,
  });
  const reaper = new LeaseReaper({
    store: o.store,
    clock: o.clock,
    log: o.log,
    runs,
    platform,
    issuer,
    ...(o.revokeAt ? { revokeAt: o.revokeAt } : {}),
    ...(o.denyAt ? { denyAt: o.denyAt } : {}),
  });

  const maintenance = await keyring.maintain(true);
  if (maintenance.created.length > 0) o.log.log('info', 'signing key created', { kids: maintenance.created });
  const adminId = await ensureAdminToken({
    store: o.store,
    clock: o.clock,
    random: o.random,
    dataDir: o.dataDir,
    announce: o.announceAdminToken,
  });
  if (adminId !== undefined) o.log.log('info', 'admin token created', { id: adminId });

  const api = createApiRouter({
    store: o.store,
    clock: o.clock,
    platform,
    runs,
    keyring,
    bodyLimit: o.bodyLimitBytes,
    ...(o.keysChanged ? { keysChanged: o.keysChanged } : {}),
  });
  const wellKnown = createWellKnown(issuer, keyring, o.publishAheadMs);
  // A lapsed lease is found within a second (or a third of a short lease) of lapsing.
  const reaping = singleFlight(
    () => reaper.tick(),
    (err) => o.log.log('warn', 'lease reaper failed', { err }),
  );
  const timer = setInterval(() => reaping.start(), Math.min(REAP_EVERY_MS, Math.floor(o.leaseMs / 3)));
  timer.unref();
  return {
    issuer,
    keyring,
    platform,
    runs,
    reaper,
    async stop() {
      clearInterval(timer);
      await reaping.idle();
    },
    mounts: [
      { name: 'oidc', match: wellKnown.match, handler: (_req, res, ctx) => wellKnown.handle(res, ctx.path) },
      {
        name: 'api',
        match: (p) => p === API_PREFIX || p.startsWith(`${API_PREFIX}/`),
        handler: (req, res, ctx) => api.dispatch(req, res, ctx),
      },
    ],
  };
}
