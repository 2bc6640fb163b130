// Following the store's change feed: other nodes' revocations, sealing keys, signing key states and
// IAM/organization changes reach this node's memory, pushed where the store can (a PostgreSQL NOTIFY)
// and polled always as the fallback. The node also takes part in the feed's retention: it records
// how far it has read, and trims what every live node has read.
import type { Clock, Random } from '../core/deps.js';
import { singleFlight } from '../core/single-flight.js';
import type { Logger } from '../http/log.js';
import type { Kind } from '../store/schema.js';
import type { Store } from '../store/types.js';
import type { JwksCache } from './oidc/jwks.js';
import type { RemovedSigningKeys } from './oidc/removed-keys.js';
import type { SealingKeys } from './sessions/keys.js';
import type { Revocations } from './sessions/revocations.js';

const FEED_HEARTBEAT_MS = 10_000;
const FEED_STALE_MS = 300_000;
/** Rows deleted per trim at most, so one trim never holds the write lock long. */
const FEED_TRIM_LIMIT = 10_000;
/**
 * The latest changes are kept whatever the readers say: slack for a process that reads the feed
 * without taking part in retention (a node of the previous version during a rolling upgrade).
 */
const FEED_KEEP = 1_000;

/** Kinds no cached policy set is built from (a new kind invalidates until it is listed here). */
const OUTSIDE_POLICY_CACHE: ReadonlySet<Kind> = new Set<Kind>([
  'revocation',
  'stsRun',
  'run',
  'mint',
  'signingKey',
  'agentToken',
  'adminToken',
  'organization',
  'project',
  'workspace',
  'variable',
  'variableSet',
]);

export interface ChangeFeedOptions {
  /**
   * How often revocations and IAM changes of other nodes are picked up (default 250 ms; 500 ms when
   * the store pushes changes, where polling only covers a lost notification).
   */
  syncIntervalMs?: number;
  /**
   * Change-feed retention: how often this node records how far it has read the feed and trims
   * what every live node has read (default 10 s), after how long without that heartbeat a node no
   * longer holds trimming back (default 5 minutes; it reloads in full if it comes back), and how many
   * of the latest changes are always kept (default 1,000).
   */
  feed?: { heartbeatMs?: number; staleMs?: number; keep?: number };
}

export interface ChangeFeedDeps {
  store: Store;
  clock: Clock;
  random: Random;
  log: Logger;
  keys: SealingKeys;
  revocations: Revocations;
  removedKeys: RemovedSigningKeys;
  jwks: JwksCache;
  /** The IAM or organization model changed: drop what was derived from it. */
  modelChanged(): void;
}

export interface ChangeFeed {
  /** Apply other nodes' changes now (one sync at a time). */
  sync(): Promise<void>;
  /** Stop following: no timer, no watcher, no sync in flight. */
  stop(): Promise<void>;
  /** Leave the feed's retention, so this node no longer holds trimming back. */
  leave(): Promise<void>;
}

export async function followChangeFeed(
  deps: ChangeFeedDeps,
  options: ChangeFeedOptions,
): Promise<ChangeFeed> {
  const { store, clock, random, log, keys, revocations, removedKeys, jwks, modelChanged } = deps;
  let lastChange = await store.latestChange();
  // This process as a change-feed reader: one row in the store, refreshed by the heartbeat below.
  const feedNode = random.uuid();
  const heartbeatMs = options.feed?.heartbeatMs ?? FEED_HEARTBEAT_MS;
  const staleMs = options.feed?.staleMs ?? FEED_STALE_MS;
  const keep = options.feed?.keep ?? FEED_KEEP;
  let lastHeartbeat = Number.NEGATIVE_INFINITY;
  const heartbeat = async (): Promise<void> => {
    const now = clock.now();
    if (now - lastHeartbeat < heartbeatMs) return;
    lastHeartbeat = now;
    try {
      await store.markFeedRead(feedNode, Math.min(revocations.position, lastChange), now);
      const trimmed = await store.trimChanges(now - staleMs, FEED_TRIM_LIMIT, keep);
      if (trimmed > 0) log.log('debug', 'change feed trimmed', { rows: trimmed });
    } catch (err) {
      // Retention can wait for the next heartbeat (a full disk, say); following the feed cannot.
      log.log('warn', 'change feed heartbeat failed', { err });
    }
  };
  /** The feed was trimmed past this node (it stalled, or started just before a trim): start over. */
  const reloadAll = async (): Promise<void> => {
    const latest = await store.latestChange();
    await revocations.load();
    await keys.load();
    if (await removedKeys.load()) jwks.forgetHolding((kid) => removedKeys.isOurs(kid));
    modelChanged();
    lastChange = latest;
    log.log('warn', 'change feed trimmed past this node: reloaded in full', { seq: latest });
  };
  const syncOnce = async (): Promise<void> => {
    const from = Math.min(revocations.position, lastChange);
    await revocations.sync();
    // Another node (or the setup command) changed something: reload sealing keys when they changed,
    // drop cached policy sets on anything that may feed them. Busy kinds that cannot (token mints,
    // runs) leave the caches warm, so issuer traffic on one node does not cool every node's caches.
    let policies = false;
    let sealing = false;
    let signing = false;
    for (;;) {
      const changes = await store.changesSince(lastChange, 1000);
      if (changes.length === 0) break;
      for (const change of changes) {
        lastChange = change.seq;
        if (change.kind === 'sealingKey') sealing = true;
        else if (change.kind === 'signingKey') signing = true;
        else if (!OUTSIDE_POLICY_CACHE.has(change.kind)) policies = true;
      }
    }
    if (policies) modelChanged();
    if (sealing) await keys.load();
    // Our issuer's keys changed state: its cached JWKS is stale (a new key must verify at once).
    if (signing && (await removedKeys.load())) jwks.forgetHolding((kid) => removedKeys.isOurs(kid));
    // Read after the changes: a trim that deleted any of them (anything past `from`) shows here.
    if ((await store.feedFloor()) > from) await reloadAll();
    await heartbeat();
  };
  // One sync at a time (the timer, a notification, an explicit call): each reads the feed from where
  // the last one stopped, so the trimmed point is only ever compared with a settled position.
  let syncs: Promise<void> = Promise.resolve();
  const sync = (): Promise<void> => {
    const run = syncs.then(syncOnce);
    syncs = run.catch(() => undefined);
    return run;
  };
  // Other nodes' changes (revocations within a second, IAM, keys): pushed where the store can (a
  // PostgreSQL NOTIFY wakes the sync at once), polled always as the fallback.
  const syncing = singleFlight(sync, (err) => log.log('warn', 'cloud sync failed', { err }));
  const syncSoon = (): void => syncing.start();
  const watcher = store.watch ? await store.watch(syncSoon) : undefined;
  // With push, polling only covers a lost notification: every 500 ms keeps even that case within a second.
  const timer = setInterval(syncSoon, options.syncIntervalMs ?? (watcher ? 500 : 250));
  timer.unref();

  return {
    sync,
    async stop() {
      clearInterval(timer);
      await watcher?.close();
      await syncing.idle();
    },
    // A failure here only means waiting out the staleness.
    leave: () => store.leaveFeed(feedNode).catch(() => undefined),
  };
}
