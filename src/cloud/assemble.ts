// The cloud side assembled (its composition root): sealing keys, revocations, the OIDC relying party,
// the authorizer, the STS, IAM and Organizations actions behind one AWS endpoint, the caller
// resolution (resolve-caller.ts) and the change feed that keeps this node current (change-feed.ts).
import type { Clock, Random } from '../core/deps.js';
import { createJsonRegistry, JsonError } from '../core/json/index.js';
import { createRegistry, type QueryRegistry } from '../core/query/dispatch.js';
import { AwsError } from '../core/query/errors.js';
import type { Logger } from '../http/log.js';
import type { Handler } from '../http/transport.js';
import type { AuditEvent } from '../store/records/audit.js';
import type { Store } from '../store/types.js';
import { AuditLog, isRecorded } from './audit/audit-log.js';
import { Authorizer } from './authz/authorizer.js';
import { openAuthorizationMessage, sealAuthorizationMessage } from './authz/denial-message.js';
import type { Caller, SessionClaims } from './caller/caller.js';
import { type ChangeFeedOptions, followChangeFeed } from './change-feed.js';
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
import { callerResolver } from './resolve-caller.js';
import { deriveAccessKeySecret, newSessionIds, sealSession } from './sessions/credentials.js';
import { SealingKeys } from './sessions/keys.js';
import { type CommitWith, Revocations } from './sessions/revocations.js';
import { RunsSeen } from './sessions/runs-seen.js';
import { stsActions } from './sts/actions.js';
import type { StsDeps } from './sts/deps.js';
import { RecordCache } from './sts/record-cache.js';
import { refusalEvent } from './sts/refusal.js';

export interface CloudOptions extends ChangeFeedOptions {
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
  /**
   * `encoded`: STS and IAM denials also carry an encoded authorization failure message. Default
   * `aws`: AWS's words only, as AWS's STS and IAM answer.
   */
  denialMessages?: 'aws' | 'encoded';
  /** false: no RevokeRun, so the STS answers it as AWS's does (InvalidAction) and agents fall back. */
  revokeRun?: boolean;
}

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

/** Longest Action name a log line keeps (AWS's longest is under 64 characters). */
const MAX_LOGGED_ACTION = 128;

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

  const sealMessage = (message: Record<string, unknown>): string =>
    sealAuthorizationMessage(keys, random, message);
  const sealer = options.denialMessages === 'encoded' ? { sealMessage } : {};
  const openMessage = (encoded: string): Record<string, unknown> | undefined =>
    openAuthorizationMessage(keys, encoded);

  const auditLog = new AuditLog(store, log);
  const audit = (event: AuditEvent): Promise<void> => auditLog.record(event);
  const flushAudit = (): Promise<void> => auditLog.flush();

  const withAudit: CommitWith = (write) => auditLog.commitWith(write);
  const runsSeen = new RunsSeen(withAudit);
  const sts: StsDeps = {
    store,
    authorizer,
    records,
    clock,
    random,
    async issue(claims) {
      const ids = newSessionIds(random, clock.now());
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
    revokeRun: (record) => revocations.revoke(record, withAudit),
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

  const resolve = callerResolver({ store, clock, keys, revocations, removedKeys, accessKeySecret });

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

  const feed = await followChangeFeed(
    { store, clock, random, log, keys, revocations, removedKeys, jwks, modelChanged },
    options,
  );

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
    sync: feed.sync,
    flushAudit,
    async stop() {
      await feed.stop();
      await flushAudit();
      // A node that leaves holds no trimming back.
      await feed.leave();
    },
  };
}
