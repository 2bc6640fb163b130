// Revocations are the only per-session state that is stored: issuance is stateless (sealed tokens).

export type RevocationScope = 'session' | 'run' | 'role';

export interface RevocationRecord {
  id: string; // `${scope}:${subject}`
  scope: RevocationScope;
  /** Session id, run id or role ARN. */
  subject: string;
  /** For scope 'role': sessions issued before this instant (ms) are revoked; else every session. */
  issuedBefore?: number;
  createdAt: number;
  /** After this instant no session it covers can still be valid, so it may be pruned. */
  expiresAt: number;
  reason: string;
}
