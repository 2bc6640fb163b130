// GetCallerIdentity (always allowed, even under an explicit deny), DecodeAuthorizationMessage, and
// gatepass's RevokeRun extension.
import { AwsError, awsError } from '../../core/query/errors.js';
import type { RequestMeta } from '../authz/authorizer.js';
import { type Caller, callerUserId } from '../caller/caller.js';
import { MAX_SESSION_MS, runRevocationRecord } from '../sessions/revocations.js';
import { accessDenied } from './common.js';
import type { StsDeps, VerifiedToken } from './deps.js';
import { runIdOf, runPhaseOf, unverifiedIssuer } from './web-identity.js';

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
      new AwsError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:GetAccessKeyInfo`),
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
      new AwsError(
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:DecodeAuthorizationMessage`,
      ),
      decision,
      meta.requestId,
    );
  }
  const message = deps.openMessage(encoded);
  if (!message)
    throw new AwsError('InvalidAuthorizationMessageException', 'The encoded message is not valid.');
  return JSON.stringify(message);
}

export type RevokeScope = 'Run' | 'Phase';

/**
 * RevokeRun (gatepass extension, unsigned): whoever holds a run's token may end the run's sessions
 * and tokens, or (scope Phase) those of the token's phase only. The run is (the token's verified
 * `iss`, its run id): the revocation never matches another issuer's run, and a token whose issuer is
 * not the one whose run obtained sessions here is refused outright. The token is verified like
 * AssumeRoleWithWebIdentity's, expiry aside: a token past its `exp` that verifies still proves the
 * run, and ending a run must work after its phase deadline. Past `exp` + 12 hours no session it can
 * have minted is alive, so such a token is refused (ExpiredTokenException) and changes nothing.
 * Besides the provider's client ids it accepts the revoke-only audience, which nothing else does.
 */
export async function revokeRun(
  deps: StsDeps,
  input: { token: string; scope: RevokeScope },
  meta: RequestMeta & { requestId: string },
): Promise<{ runId: string; phase?: string }> {
  const iss = unverifiedIssuer(input.token);
  if (iss === undefined) throw awsError('notAJwt');
  const providers = (await deps.store.list('oidcProvider')).filter((p) => p.url === iss);
  if (providers.length === 0)
    throw new AwsError('InvalidIdentityToken', `No OpenIDConnect provider found for ${iss.slice(0, 255)}`);
  let verified: VerifiedToken | undefined;
  let lastError: unknown;
  for (const provider of providers) {
    try {
      verified = await deps.verifyToken(input.token, provider, meta.now, {
        ignoreExpiry: true,
        purpose: 'revoke-run',
      });
      break;
    } catch (e) {
      lastError = e;
    }
  }
  if (!verified) throw lastError instanceof AwsError ? lastError : new AwsError('InvalidIdentityToken');
  const claims = verified.claims;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
  if (exp + MAX_SESSION_MS <= meta.now) {
    throw new AwsError(
      'ExpiredTokenException',
      'Token expired: more than 12 hours past its expiration, no session of its run can still be valid.',
    );
  }
  const runId = runIdOf(claims);
  if (!runId) throw new AwsError('InvalidIdentityToken', 'The token carries no run id.');
  const phase = input.scope === 'Phase' ? runPhaseOf(claims) : undefined;
  if (input.scope === 'Phase' && phase === undefined)
    throw new AwsError('InvalidIdentityToken', 'The token carries no run phase (terraform_run_phase).');
  const issuers = await deps.runIssuers(runId);
  if (issuers.length > 0 && !issuers.includes(iss)) {
    throw new AwsError(
      'AccessDenied',
      `The token's issuer did not start run ${runId}: not authorized to revoke it.`,
      {
        runId,
        reason: 'run-of-another-issuer',
      },
    );
  }
  const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
  const reason = phase !== undefined ? `${phase} phase ended` : 'run ended';
  await deps.revokeRun(
    runRevocationRecord(
      { issuer: iss, runId, ...(phase !== undefined ? { phase } : {}) },
      meta.now,
      reason,
      exp,
    ),
  );
  // From now on the run id belongs to this issuer here, sessions or not.
  await deps.noteRun(iss, runId, meta.now);
  await deps.audit({
    time: meta.now,
    requestId: meta.requestId,
    action: 'sts:RevokeRun',
    decision: 'allow',
    runId,
    ...(jti !== undefined ? { jti } : {}),
    ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
    ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
    detail: { issuer: iss, scope: input.scope, ...(phase !== undefined ? { phase } : {}), reason },
  });
  return phase !== undefined ? { runId, phase } : { runId };
}
