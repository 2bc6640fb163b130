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
