// The cloud side assembled: sealing keys, revocations, the OIDC relying party, the authorizer, STS
// and IAM actions behind one AWS endpoint, and the SigV4 caller resolution that ties them together.
import { assumedRoleArn, roleArn } from '../core/arn.js';
import { open, seal } from '../core/crypto/aead.js';
import type { Clock, Random } from '../core/deps.js';
import { createJsonRegistry, JsonError } from '../core/json/index.js';
import { createRegistry, type QueryRegistry } from '../core/query/dispatch.js';
import { AwsError } from '../core/query/errors.js';
import { singleFlight } from '../core/single-flight.js';
import type { Logger } from '../http/log.js';
import type { Handler } from '../http/transport.js';
import type { AuditEvent } from '../store/records/audit.js';
import type { Kind } from '../store/schema.js';
import type { Store } from '../store/types.js';
import { AuditLog, isRecorded } from './audit/audit-log.js';
import { Authorizer } from './authz/authorizer.js';
import type { Caller, SessionClaims } from './caller/caller.js';
import { presentedCaller, presentedKeyId, refuse } from './caller/refusal.js';
import { awsEndpoint, isAwsRequest } from './endpoint/aws-endpoint.js';
import { ensureAwsManagedPolicies } from './iam/aws-managed.js';
import type { IamDeps } from './iam/common.js';
import { policyActions } from './iam/policies.js';
import { principalPolicyActions } from './iam/principal-policies.js';
import { providerActions } from './iam/providers.js';
import { roleActions } from './iam/roles.js';
import { simulateActions } from './iam/simulate.js';
import { userActions } from './iam/users.js';
import { type HttpsGet, httpsGet } from './oidc/https-get.js';
import { DEFAULT_JWKS_OPTIONS, JwksCache, type JwksOptions } from './oidc/jwks.js';
import { RemovedSigningKeys } from './oidc/removed-keys.js';
import { verifyWebIdentityToken } from './oidc/verify.js';
import { organizationsActions } from './org/actions.js';
import { organizationModel } from './org/index.js';
import {
  deriveAccessKeySecret,
  newSessionIds,
  SessionOpener,
  sealSession,
  sessionKeyVersion,
} from './sessions/credentials.js';
import { SealingKeys } from './sessions/keys.js';
import { Revocations } from './sessions/revocations.js';
import { RunsSeen } from './sessions/runs-seen.js';
import { stsActions } from './sts/actions.js';
import type { StsDeps } from './sts/deps.js';
import { RecordCache } from './sts/record-cache.js';
import { refusalEvent } from './sts/refusal.js';

export interface CloudOptions {
  store: Store;
  masterKey: Uint8Array;
  clock: Clock;
  random: Random;
  log: Logger;
  bodyLimitBytes: number;
  /** Extra CA certificates (PEM) trusted for identity providers, beyond Node's roots. */
  extraCa?: readonly string[];
  httpsGet?: HttpsGet;
  jwks?: JwksOptions;
  /** How often revocations and IAM changes of other nodes are picked up. */
  syncIntervalMs?: number;
  /**
   * Change-feed retention: how often this node records how far it has read the feed and trims
   * what every live node has read (default 10 s), after how long without that heartbeat a node no
   * longer holds trimming back (default 5 minutes; it reloads in full if it comes back), and how many
   * of the latest changes are always kept (default 1,000).
   */
  feed?: { heartbeatMs?: number; staleMs?: number; keep?: number };
  /**
   * `encoded`: STS and IAM denials also carry an encoded authorization failure message. Default
   * `aws`: AWS's words only, as AWS's STS and IAM answer.
   */
  denialMessages?: 'aws' | 'encoded';
  /** false: no RevokeRun, so the STS answers it as AWS's does (InvalidAction) and agents fall back. */
  revokeRun?: boolean;
}

const FEED_HEARTBEAT_MS = 10_000;
const FEED_STALE_MS = 300_000;
/** Rows deleted per trim at most, so one trim never holds the write lock long. */
const FEED_TRIM_LIMIT = 10_000;
/**
 * The latest changes are kept whatever the readers say: slack for a process that reads the feed
 * without taking part in retention (a node of the previous version during a rolling upgrade).
 */
const FEED_KEEP = 1_000;

export interface Cloud {
  handler: Handler;
  /** Every STS and IAM action the endpoint serves. */
  registry: QueryRegistry<Caller>;
  isAwsRequest: typeof isAwsRequest;
  keys: SealingKeys;
  revocations: Revocations;
  authorizer: Authorizer;
  /** Derive the secret of a long-term access key. */
  accessKeySecret(accessKeyId: string, keyVersion: number): string;
  iamDeps: IamDeps;
  /** What the STS actions run on (simulate and explain reuse it). */
  sts: StsDeps;
  /** Apply other nodes' changes now (tests; the timer does it periodically). */
  sync(): Promise<void>;
  /** Write buffered audit events. */
  flushAudit(): Promise<void>;
  stop(): Promise<void>;
}

const MESSAGE_AAD = 'gatepass:authorization-message';

/** Longest Action name a log line keeps (AWS's longest is under 64 characters). */
const MAX_LOGGED_ACTION = 128;

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

/** Opens an encoded authorization message sealed by any node (undefined when it is not one). */
export function openAuthorizationMessage(
  keys: SealingKeys,
  encoded: string,
): Record<string, unknown> | undefined {
  const match = /^(\d{1,9})\.([A-Za-z0-9_-]+)$/.exec(encoded.trim());
  const key = match?.[1] ? keys.get(Number(match[1])) : undefined;
  if (!key || !match?.[2]) return undefined;
  try {
    return JSON.parse(open(key.key, match[2], MESSAGE_AAD).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export async function createCloud(options: CloudOptions): Promise<Cloud> {
  const { store, clock, random, log } = options;
  const keys = new SealingKeys(store, options.masterKey, random, clock);
  await keys.load();
  const revocations = new Revocations(store);
  await revocations.load();
  const removedKeys = new RemovedSigningKeys(store);
  await removedKeys.load();
  await store.transaction((tx) => ensureAwsManagedPolicies(tx, clock.now()));
  const authorizer = new Authorizer(organizationModel);
  const records = new RecordCache();
  /** The IAM or organization model changed: drop the policy sets and records derived from it. */
  const modelChanged = (): void => {
    authorizer.invalidate();
    records.invalidate();
  };
  const jwks = new JwksCache(options.httpsGet ?? httpsGet, clock, options.jwks ?? DEFAULT_JWKS_OPTIONS);

  const accessKeySecret = (accessKeyId: string, keyVersion: number): string => {
    const key = keys.get(keyVersion);
    if (!key) throw new AwsError('InvalidClientTokenId');
    return deriveAccessKeySecret(key, accessKeyId);
  };

  const sealMessage = (message: Record<string, unknown>): string => {
    const key = keys.active();
    return `${key.version}.${seal(key.key, Buffer.from(JSON.stringify(message)), MESSAGE_AAD, random)}`;
  };
  const sealer = options.denialMessages === 'encoded' ? { sealMessage } : {};
  const openMessage = (encoded: string): Record<string, unknown> | undefined =>
    openAuthorizationMessage(keys, encoded);

  const auditLog = new AuditLog(store, log);
  const audit = (event: AuditEvent): Promise<void> => auditLog.record(event);
  const flushAudit = (): Promise<void> => auditLog.flush();

  const runsSeen = new RunsSeen(store);
  const sts: StsDeps = {
    store,
    authorizer,
    records,
    clock,
    random,
    async issue(claims) {
      const ids = newSessionIds(random);
      // Extended in place, not spread into a copy: a spread-built object serialises at half speed.
      const full: SessionClaims = Object.assign(claims, ids);
      const creds = sealSession(keys, full, random);
      return {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        sessionToken: creds.sessionToken,
        expiration: claims.exp * 1000,
      };
    },
    verifyToken: (token, provider, now, opts) =>
      verifyWebIdentityToken(token, provider, jwks, {
        now,
        ...(opts?.ignoreExpiry ? { ignoreExpiry: true } : {}),
        ...(opts?.purpose ? { purpose: opts.purpose } : {}),
        ...(options.extraCa ? { ca: options.extraCa } : {}),
        isKeyRemoved: (kid) => removedKeys.isRemoved(kid),
      }),
    runRevocation: (run) => revocations.runRevocation(run),
    revokeRun: (record) => revocations.revoke(record),
    noteRun: (issuer, runId, now) => runsSeen.note(issuer, runId, now),
    runIssuers: async (runId) =>
      (await store.list('stsRun', { index: { name: 'run', value: runId } })).map((r) => r.issuer),
    ...sealer,
    openMessage,
    audit,
  };

  const iamDeps: IamDeps = {
    store,
    authorizer,
    clock,
    random,
    accessKeySecret,
    currentKeyVersion: () => keys.active().version,
    ...sealer,
    changed: modelChanged,
    audit,
  };

  const registry = createRegistry<Caller>([
    ...stsActions(sts).filter((a) => options.revokeRun !== false || a.name !== 'RevokeRun'),
    ...providerActions(iamDeps),
    ...roleActions(iamDeps),
    ...principalPolicyActions(iamDeps, { kind: 'role', noun: 'Role', inlineMax: 10_240, attachedMax: 10 }),
    ...policyActions(iamDeps),
    ...userActions(iamDeps),
    ...principalPolicyActions(iamDeps, { kind: 'user', noun: 'User', inlineMax: 2_048, attachedMax: 10 }),
    ...simulateActions(iamDeps),
  ]);

  const sessions = new SessionOpener(keys);
  const resolve = async (
    accessKeyId: string,
    sessionToken: string | undefined,
  ): Promise<{ caller: Caller; secret: string }> => {
    if (sessionToken !== undefined) {
      let opened = sessions.open(accessKeyId, sessionToken);
      // Sealed by a key another node has just created: load it rather than refuse a good token.
      const version = opened ? undefined : sessionKeyVersion(sessionToken);
      if (version !== undefined && (await keys.loadIfNewer(version)))
        opened = sessions.open(accessKeyId, sessionToken);
      if (!opened)
        throw refuse('InvalidClientTokenId', presentedKeyId(accessKeyId), { kind: 'session-token-invalid' });
      const s = opened.claims;
      const arn = roleArn(s.accountId, s.rolePath, s.roleName);
      const caller: Caller = {
        kind: 'role-session',
        accountId: s.accountId,
        arn: assumedRoleArn(s.accountId, s.roleName, s.sessionName),
        roleArn: arn,
        accessKeyId,
        session: s,
      };
      if (s.exp * 1000 <= clock.now())
        throw refuse('ExpiredToken', presentedCaller(caller), { kind: 'expired', expiredAt: s.exp * 1000 });
      // A revoked session is no longer a valid token, whatever its expiry says.
      const revoked = revocations.covering(s, arn);
      if (revoked) {
        throw refuse('InvalidClientTokenId', presentedCaller(caller), {
          kind: 'revoked',
          scope: revoked.scope,
          // A run or phase revocation is keyed by issuer and run; people know it by its run id.
          subject: revoked.runId ?? revoked.subject,
          ...(revoked.phase !== undefined ? { phase: revoked.phase } : {}),
          revokedAt: revoked.createdAt,
          reason: revoked.reason,
        });
      }
      // Minted from a token of a key revoked as leaked: whoever holds the key could have minted it.
      const keyRevokedAt = s.tokenKid !== undefined ? removedKeys.revokedAt(s.tokenKid) : undefined;
      if (s.tokenKid !== undefined && keyRevokedAt !== undefined) {
        throw refuse('InvalidClientTokenId', presentedCaller(caller), {
          kind: 'signing-key-revoked',
          kid: s.tokenKid,
          revokedAt: keyRevokedAt,
        });
      }
      return { caller, secret: opened.secretAccessKey };
    }
    const key = /^AKIA[A-Z2-7]{16}$/.test(accessKeyId)
      ? await store.get('accessKey', accessKeyId)
      : undefined;
    const unknownKey = () =>
      refuse('InvalidClientTokenId', presentedKeyId(accessKeyId), { kind: 'access-key-unknown' });
    if (key?.status !== 'Active') throw unknownKey();
    const user = await store.get('user', key.userId);
    if (!user) throw unknownKey();
    return {
      caller: {
        kind: 'user',
        accountId: user.accountId,
        userId: user.id,
        userName: user.name,
        arn: user.arn,
        accessKeyId,
      },
      secret: accessKeySecret(key.id, key.keyVersion),
    };
  };

  const jsonRegistry = createJsonRegistry<Caller>(
    organizationsActions({ store, authorizer, clock, random, changed: modelChanged, audit }),
  );

  const stsActionNames = new Set(registry.actions.filter((a) => a.service === 'sts').map((a) => a.name));
  const handler = awsEndpoint({
    registry,
    jsonRegistry,
    random,
    now: () => clock.now(),
    bodyLimitBytes: options.bodyLimitBytes,
    resolve,
    onError: (info) => {
      const { requestId, error } = info;
      // The raw Action parameter is the client's: logged cut, as AWS quotes it in its own message.
      const action = info.action?.slice(0, MAX_LOGGED_ACTION);
      if ((error instanceof AwsError || error instanceof JsonError) && error.status < 500) {
        log.log('info', 'aws request refused', { requestId, action, code: error.code, detail: error.detail });
        // A refusal the action recorded itself (with its decision) is not recorded twice.
        const denial = isRecorded(error) ? undefined : refusalEvent(info, error, stsActionNames, clock.now());
        if (denial) auditLog.record(denial).catch(() => undefined);
      } else {
        log.log('error', 'aws request failed', { requestId, action, err: error });
      }
    },
  });

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
    handler,
    registry,
    isAwsRequest,
    keys,
    revocations,
    authorizer,
    accessKeySecret,
    iamDeps,
    sts,
    sync,
    flushAudit,
    async stop() {
      clearInterval(timer);
      await watcher?.close();
      await syncing.idle();
      await flushAudit();
      // A node that leaves holds no trimming back; a failure here only means waiting out the staleness.
      await store.leaveFeed(feedNode).catch(() => undefined);
    },
  };
}
