// What the STS actions need from the rest of the cloud side, as narrow interfaces so each action is
// testable and the sealing/OIDC/revocation implementations stay swappable.
import type { Clock, Random } from '../../core/deps.js';
import type { Decision } from '../../core/policy/index.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { OidcProviderRecord } from '../../store/records/iam.js';
import type { RevocationRecord } from '../../store/records/sessions.js';
import type { Store } from '../../store/types.js';
import type { Authorizer } from '../authz/authorizer.js';
import type { SessionClaims } from '../caller/caller.js';
import type { PeekedJwt } from '../oidc/verify.js';
import type { RunRef } from '../sessions/revocations.js';
import type { RecordCache } from './record-cache.js';

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch milliseconds. */
  expiration: number;
}

export interface VerifiedToken {
  claims: Record<string, unknown>;
  kid: string;
  /** The audience that matched the provider's client id list. */
  aud: string;
}

export interface StsDeps {
  store: Store;
  authorizer: Authorizer;
  /** Roles and OIDC providers as the hot path reads them, kept until the IAM model changes. */
  records: RecordCache;
  clock: Clock;
  random: Random;
  /** Seal a session; assigns the session id and access key id (onto `claims`, which it takes over). */
  issue(claims: Omit<SessionClaims, 'sid' | 'accessKeyId'>): Promise<IssuedCredentials>;
  /** Signature, alg, times, iss and aud checks against one provider (throws AwsError). */
  verifyToken(
    token: string | PeekedJwt,
    provider: OidcProviderRecord,
    now: number,
    options?: { ignoreExpiry?: boolean; purpose?: 'session' | 'revoke-run' },
  ): Promise<VerifiedToken>;
  /** The revocation covering this (issuer, run[, phase]): its sessions and tokens are dead. */
  runRevocation(run: RunRef): RevocationRecord | undefined;
  /** Store a run or phase revocation; every node applies it from the change feed. */
  revokeRun(record: RevocationRecord): Promise<void>;
  /** Remember that this issuer's run obtained a session here (once per node; a store write). */
  noteRun(issuer: string, runId: string, now: number): Promise<void>;
  /** The issuers whose runs with this id obtained sessions here. */
  runIssuers(runId: string): Promise<string[]>;
  /** Encoded authorization messages: sealed so only DecodeAuthorizationMessage can read them. */
  /**
   * Seal a denial's story into an encoded authorization failure message. Absent (the default),
   * AccessDenied carries AWS's words only, as AWS's STS and IAM do.
   */
  sealMessage?(message: Record<string, unknown>): string;
  openMessage(encoded: string): Record<string, unknown> | undefined;
  /** Resolves once the event is committed (group commit): issuance awaits it before answering. */
  audit(event: AuditEvent): Promise<void>;
  /** Sees every policy decision an action takes, allowed or not (`gatepass simulate` uses it). */
  onDecision?(decision: Decision): void;
}
