// Who signed a request: a session token opens to its sealed claims (no store read on the hot path)
// and is refused when expired, revoked, or minted from a token of a signing key revoked as leaked;
// a long-term access key is looked up with its user. Refusals carry what the credential named.
import { assumedRoleArn, roleArn } from '../core/arn.js';
import type { Clock } from '../core/deps.js';
import type { Store } from '../store/types.js';
import type { Caller } from './caller/caller.js';
import { presentedCaller, presentedKeyId, refuse } from './caller/refusal.js';
import type { EndpointDeps } from './endpoint/aws-endpoint.js';
import type { RemovedSigningKeys } from './oidc/removed-keys.js';
import { SessionOpener, sessionKeyVersion } from './sessions/credentials.js';
import type { SealingKeys } from './sessions/keys.js';
import type { Revocations } from './sessions/revocations.js';

export interface CallerResolverDeps {
  store: Store;
  clock: Clock;
  keys: SealingKeys;
  revocations: Revocations;
  removedKeys: RemovedSigningKeys;
  /** The secret of a long-term access key (derived, never stored). */
  accessKeySecret(accessKeyId: string, keyVersion: number): string;
}

/** The endpoint's `resolve`: a verified access key (and session token) to its caller and secret. */
export function callerResolver(deps: CallerResolverDeps): EndpointDeps['resolve'] {
  const { store, clock, keys, revocations, removedKeys, accessKeySecret } = deps;
  const sessions = new SessionOpener(keys);
  return async (accessKeyId, sessionToken) => {
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
}
