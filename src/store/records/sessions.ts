// Revocations are the only per-session state that is stored: issuance is stateless (sealed tokens).
// A run is named by (issuer, run id) everywhere: two issuers may both carry a `terraform_run_id`
// of the same value, and neither may touch the other's run.

export type RevocationScope = 'session' | 'run' | 'phase' | 'role';

/** Issuer of an administrator's run revocation that covers the run id under every issuer. */
export const ANY_ISSUER = '*';

export interface RevocationRecord {
  id: string; // `${scope}:${subject}`
  scope: RevocationScope;
  /**
   * Session id, role ARN, or for run and phase scopes the key `runSubject`/`phaseSubject` builds
   * from the issuer, the run id and the phase.
   */
  subject: string;
  /** Scopes run and phase: the issuer (`iss`) that minted the run, or ANY_ISSUER. */
  issuer?: string;
  runId?: string;
  phase?: string;
  /** For scope 'role': sessions issued before this instant (ms) are revoked; else every session. */
  issuedBefore?: number;
  createdAt: number;
  /** After this instant no session it covers can still be valid, so it may be pruned. */
  expiresAt: number;
  reason: string;
}

/**
 * The STS's record that an issuer's run obtained sessions here: RevokeRun with another issuer's
 * token for the same run id is refused (the run belongs to the issuer that used it first).
 */
export interface StsRunRecord {
  id: string; // runSubject(issuer, runId)
  issuer: string;
  runId: string;
  firstSeen: number;
  /** Pruned with revocations: after this instant no session of the run can still be valid. */
  expiresAt: number;
}

// Issuer URLs have no spaces (they are https URLs); run ids and phases have none either.
export const runSubject = (issuer: string, runId: string): string => `${issuer} ${runId}`;
export const phaseSubject = (issuer: string, runId: string, phase: string): string =>
  `${issuer} ${runId} ${phase}`;

export function revocationId(scope: RevocationScope, subject: string): string {
  return `${scope}:${subject}`;
}

/** Sessions last at most 12 hours: after that no revocation can still match a live one. */
export const MAX_SESSION_MS = 43_200_000;

/**
 * A run's (or one phase's) revocation. It must outlive every session the run's tokens can still
 * mint: `tokensUntil` is the latest `exp` of those tokens (ms), and a session lasts at most 12 hours.
 */
export function runRevocationRecord(
  run: { issuer: string; runId: string; phase?: string },
  now: number,
  reason: string,
  tokensUntil = now,
): RevocationRecord {
  const scope: RevocationScope = run.phase === undefined ? 'run' : 'phase';
  const subject =
    run.phase === undefined
      ? runSubject(run.issuer, run.runId)
      : phaseSubject(run.issuer, run.runId, run.phase);
  return {
    id: revocationId(scope, subject),
    scope,
    subject,
    issuer: run.issuer,
    runId: run.runId,
    ...(run.phase !== undefined ? { phase: run.phase } : {}),
    createdAt: now,
    expiresAt: Math.max(now, tokensUntil) + MAX_SESSION_MS,
    reason,
  };
}
