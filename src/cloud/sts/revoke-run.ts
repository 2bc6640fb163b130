// RevokeRun, gatepass's STS extension: whoever holds a run's token ends the run's (or its phase's)
// sessions and tokens.
import { AwsError, awsError } from '../../core/query/errors.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { RequestMeta } from '../authz/authorizer.js';
import { MAX_SESSION_MS, runRevocationRecord } from '../sessions/revocations.js';
import type { StsDeps, VerifiedToken } from './deps.js';
import { stsRefusalEvent } from './refusal.js';
import { asRefusal, Refusal, recordOutcome, refusing } from './steps.js';
import { runIdOf, runPhaseOf, unverifiedIssuer } from './web-identity.js';

type RevokeScope = 'Run' | 'Phase';

export interface RevokeRunInput {
  token: string;
  scope: RevokeScope;
}

/** One RevokeRun request, read once: the time (`meta.now`), then the run its verified token names. */
interface RevokeRunRequest {
  readonly input: RevokeRunInput;
  readonly meta: RequestMeta & { requestId: string };
}

/** The run (or phase) a verified token names, with what the record of its revocation says. */
interface RunToRevoke {
  issuer: string;
  runId: string;
  phase?: string;
  jti?: string;
  /** The token's expiry (epoch ms): past it + 12 hours, no session of the run is alive. */
  exp: number;
  reason: string;
  /** The revocation and the run's binding, committing with the request's audit event (`revoke`). */
  committed?: Promise<unknown>;
}

/**
 * RevokeRun (gatepass extension, unsigned): whoever holds a run's token may end the run's sessions
 * and tokens, or (scope Phase) those of the token's phase only. The run is (the token's verified
 * `iss`, its run id): the revocation never matches another issuer's run, and a token whose issuer is
 * not the one whose run obtained sessions here is refused outright. The token is verified like
 * AssumeRoleWithWebIdentity's, expiry aside: a token past its `exp` that verifies still proves the
 * run, and ending a run must work after its phase deadline. Past `exp` + 12 hours no session it can
 * have minted is alive, so such a token is refused (ExpiredTokenException) and changes nothing.
 * Besides the provider's client ids it accepts the revoke-only audience, which nothing else does.
 *
 * Steps: verifyRunToken → readRun → rejectOtherIssuer → revoke, then exactly one audit event (the
 * revocation, or the refusal as the endpoint records one), awaited. The revocation, the run's binding
 * and that event commit in one transaction: all of them or none, with one sync.
 */
export async function revokeRun(
  deps: StsDeps,
  input: RevokeRunInput,
  meta: RequestMeta & { requestId: string },
): Promise<{ runId: string; phase?: string }> {
  const r: RevokeRunRequest = { input, meta };
  const outcome = await revokeSteps(deps, r);
  const event =
    outcome instanceof Refusal ? stsRefusalEvent('RevokeRun', outcome.error, meta) : revokedEvent(r, outcome);
  const committed = outcome instanceof Refusal ? undefined : outcome.committed;
  const [run] = await Promise.all([recordOutcome(deps, outcome, event), committed]);
  return run.phase !== undefined ? { runId: run.runId, phase: run.phase } : { runId: run.runId };
}

async function revokeSteps(deps: StsDeps, r: RevokeRunRequest): Promise<RunToRevoke | Refusal> {
  const verified = await verifyRunToken(deps, r).catch(asRefusal);
  if (verified instanceof Refusal) return verified;
  const run = refusing(() => readRun(r, verified));
  if (run instanceof Refusal) return run;
  const other = await rejectOtherIssuer(deps, run);
  if (other instanceof Refusal) return other;
  revoke(deps, r, run);
  return run;
}

/** The token against every provider registered for its issuer; expiry is checked by `readRun`. */
async function verifyRunToken(deps: StsDeps, r: RevokeRunRequest): Promise<VerifiedToken & { iss: string }> {
  const iss = unverifiedIssuer(r.input.token);
  if (iss === undefined) throw awsError('notAJwt');
  const providers = (await deps.store.list('oidcProvider')).filter((p) => p.url === iss);
  if (providers.length === 0) throw awsError('revokeProviderNotFound', iss.slice(0, 255));
  let lastError: unknown;
  for (const provider of providers) {
    try {
      const verified = await deps.verifyToken(r.input.token, provider, r.meta.now, {
        ignoreExpiry: true,
        purpose: 'revoke-run',
      });
      return { ...verified, iss };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError instanceof AwsError ? lastError : new AwsError('InvalidIdentityToken');
}

/** The run (and, for scope Phase, the phase) the token names, while a session of it may be alive. */
function readRun(r: RevokeRunRequest, verified: VerifiedToken & { iss: string }): RunToRevoke {
  const claims = verified.claims;
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
  if (exp + MAX_SESSION_MS <= r.meta.now) {
    throw awsError('revokeTokenTooOld');
  }
  const runId = runIdOf(claims);
  if (!runId) throw awsError('tokenWithoutRunId');
  const phase = r.input.scope === 'Phase' ? runPhaseOf(claims) : undefined;
  if (r.input.scope === 'Phase' && phase === undefined) throw awsError('tokenWithoutRunPhase');
  const run: RunToRevoke = {
    issuer: verified.iss,
    runId,
    exp,
    reason: phase !== undefined ? `${phase} phase ended` : 'run ended',
  };
  if (phase !== undefined) run.phase = phase;
  if (typeof claims.jti === 'string') run.jti = claims.jti;
  return run;
}

/** A run id that obtained sessions here belongs to the issuer(s) whose runs did. */
async function rejectOtherIssuer(deps: StsDeps, run: RunToRevoke): Promise<undefined | Refusal> {
  const issuers = await deps.runIssuers(run.runId);
  if (issuers.length === 0 || issuers.includes(run.issuer)) return undefined;
  return new Refusal(
    awsError('revokeOtherIssuersRun', run.runId).withDetail({
      runId: run.runId,
      reason: 'run-of-another-issuer',
    }),
  );
}

/**
 * Starts the revocation and the run's binding (from now on the run id belongs to this issuer here,
 * sessions or not). Both join the commit of the audit event recorded next, and the answer awaits
 * them: the revocation is durable and applied before the run is told it ended.
 */
function revoke(deps: StsDeps, r: RevokeRunRequest, run: RunToRevoke): void {
  const ref = {
    issuer: run.issuer,
    runId: run.runId,
    ...(run.phase !== undefined ? { phase: run.phase } : {}),
  };
  run.committed = Promise.all([
    deps.revokeRun(runRevocationRecord(ref, r.meta.now, run.reason, run.exp)),
    deps.noteRun(run.issuer, run.runId, r.meta.now),
  ]);
  // Handled here too, should the audit event's commit reject first.
  run.committed.catch(() => undefined);
}

/** The revocation's audit event. */
function revokedEvent({ input, meta }: RevokeRunRequest, run: RunToRevoke): AuditEvent {
  return {
    time: meta.now,
    requestId: meta.requestId,
    action: 'sts:RevokeRun',
    decision: 'allow',
    runId: run.runId,
    ...(run.jti !== undefined ? { jti: run.jti } : {}),
    ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
    ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
    detail: {
      issuer: run.issuer,
      scope: input.scope,
      ...(run.phase !== undefined ? { phase: run.phase } : {}),
      reason: run.reason,
    },
  };
}
