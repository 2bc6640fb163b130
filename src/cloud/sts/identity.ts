// GetCallerIdentity (always allowed, even under an explicit deny), DecodeAuthorizationMessage, and
// gatepass's RevokeRun extension.
import { AwsError } from '../../core/query/errors.js';
import type { RequestMeta } from '../authz.js';
import { type Caller, callerUserId } from '../caller.js';
import { accessDenied } from './common.js';
import type { StsDeps } from './deps.js';
import { runIdOf, unverifiedIssuer } from './web-identity.js';

export function getCallerIdentity(caller: Caller): { arn: string; userId: string; account: string } {
  return { arn: caller.arn, userId: callerUserId(caller), account: caller.accountId };
}

/**
 * GetAccessKeyInfo: the account an access key belongs to, the first question about a leaked key.
 * Long-term keys (AKIA) are looked up; a session key (ASIA) is sealed with its token and known only
 * to its own holder, so another caller's is answered as unknown rather than guessed.
 */
export async function getAccessKeyInfo(
  deps: StsDeps,
  caller: Caller,
  accessKeyId: string,
  meta: RequestMeta & { requestId: string },
): Promise<string> {
  const decision = await deps.store.transaction((tx) =>
    deps.authorizer.authorize(tx, caller, 'sts:GetAccessKeyInfo', '*', meta),
  );
  if (decision.effect !== 'Allow') {
    throw accessDenied(
      deps,
      `User: ${caller.arn} is not authorized to perform: sts:GetAccessKeyInfo`,
      decision,
      meta.requestId,
    );
  }
  if (accessKeyId === caller.accessKeyId) return caller.accountId;
  const key = accessKeyId.startsWith('AKIA') ? await deps.store.get('accessKey', accessKeyId) : undefined;
  if (!key)
    throw new AwsError(
      'InvalidParameterValue',
      `The access key ID ${accessKeyId.slice(0, 128)} is not known.`,
    );
  return key.accountId;
}

export async function decodeAuthorizationMessage(
  deps: StsDeps,
  caller: Caller,
  encoded: string,
  meta: RequestMeta & { requestId: string },
): Promise<string> {
  const decision = await deps.store.transaction((tx) =>
    deps.authorizer.authorize(tx, caller, 'sts:DecodeAuthorizationMessage', '*', meta),
  );
  if (decision.effect !== 'Allow') {
    throw accessDenied(
      deps,
      `User: ${caller.arn} is not authorized to perform: sts:DecodeAuthorizationMessage`,
      decision,
      meta.requestId,
    );
  }
  const message = deps.openMessage(encoded);
  if (!message)
    throw new AwsError('InvalidAuthorizationMessageException', 'The encoded message is not valid.');
  return JSON.stringify(message);
}

/**
 * RevokeRun (gatepass extension, unsigned): whoever holds a run's token may end the run's sessions.
 * The token is verified like AssumeRoleWithWebIdentity's (expiry aside: ending a run must work after
 * its phase deadline) against any provider registered for its issuer.
 */
export async function revokeRun(
  deps: StsDeps,
  token: string,
  meta: RequestMeta & { requestId: string },
): Promise<{ runId: string }> {
  const iss = unverifiedIssuer(token);
  if (iss === undefined)
    throw new AwsError('InvalidIdentityToken', 'The ID Token provided is not a valid JWT.');
  const providers = (await deps.store.list('oidcProvider')).filter((p) => p.url === iss);
  if (providers.length === 0)
    throw new AwsError('InvalidIdentityToken', `No OpenIDConnect provider found for ${iss.slice(0, 255)}`);
  let lastError: unknown;
  for (const provider of providers) {
    try {
      const verified = await deps.verifyToken(token, provider, meta.now, { ignoreExpiry: true });
      const runId = runIdOf(verified.claims);
      if (!runId) throw new AwsError('InvalidIdentityToken', 'The token carries no run id.');
      // Sessions live at most 12 hours, so the revocation can be pruned after that.
      await deps.revokeRun(runId, meta.now + 43_200_000, 'run ended');
      await deps.audit({
        time: meta.now,
        requestId: meta.requestId,
        action: 'sts:RevokeRun',
        decision: 'allow',
        runId,
        ...(typeof verified.claims.jti === 'string' ? { jti: verified.claims.jti } : {}),
        ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
      });
      return { runId };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError instanceof AwsError ? lastError : new AwsError('InvalidIdentityToken');
}
