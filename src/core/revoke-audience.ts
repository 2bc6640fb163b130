// A token that can end a run but never start a session. The issuer sends one to STS endpoints of
// other deployments when an agent's lease lapses; a token with the run's ordinary audience would be
// a live web identity token there (and at real AWS) for its whole lifetime.

/** The `aud` of a revoke-only token: RevokeRun accepts it, AssumeRoleWithWebIdentity never does. */
export const REVOKE_RUN_AUDIENCE = 'gatepass:revoke-run';
