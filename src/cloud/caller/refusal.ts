// A credential that was presented and refused: who it names, as far as the server could establish
// (the session token opened, or the signature verified), and why it was refused. The client gets
// AWS's error and nothing more; this travels in the error's operator-only detail to the audit
// event and `gatepass explain`. Never a secret or a token: a session by its id and access key id,
// a web identity token by its `jti`, a signing key by its `kid`.
import { JsonError } from '../../core/json/errors.js';
import { AwsError, type ErrorCode } from '../../core/query/errors.js';
import type { SigV4FailureReason } from '../../core/sigv4/index.js';
import { clip } from '../../core/sigv4/parse-credential.js';
import type { RevocationScope } from '../../store/records/sessions.js';
import type { Caller, SessionClaims } from './caller.js';

/** What the presented credential names. */
export interface PresentedCredential {
  accessKeyId: string;
  /** The caller's ARN (assumed-role session or user). */
  arn?: string;
  accountId?: string;
  roleArn?: string;
  sessionId?: string;
  runId?: string;
  phase?: string;
  /** The web identity token the session (or its chain) was minted from. */
  jti?: string;
  /** The key that signed that token. */
  tokenKid?: string;
}

export type CredentialRefusal =
  | {
      kind: 'revoked';
      scope: RevocationScope;
      /** The session id or role ARN revoked, or the run id for a run or phase revocation. */
      subject: string;
      /** A phase revocation's phase. */
      phase?: string;
      /** When the revocation was made (epoch ms). */
      revokedAt: number;
      reason: string;
    }
  | { kind: 'expired'; expiredAt: number }
  | { kind: 'signing-key-revoked'; kid: string; revokedAt: number }
  /** The session token does not open: not one of ours, sealed for another key id, or tampered. */
  | { kind: 'session-token-invalid' }
  | { kind: 'access-key-unknown' }
  /** The credential is valid but the request's signature is not (wrong secret, tampering, clock). */
  | { kind: 'signature'; failure: SigV4FailureReason };

const DETAIL = 'credentialRefusal';

/**
 * The AWS error for a refused credential (a code's default words, or an error from the catalog),
 * carrying who and why for the operator.
 */
export function refuse(
  answer: ErrorCode | AwsError,
  presented: PresentedCredential,
  why: CredentialRefusal,
): AwsError {
  const error = typeof answer === 'string' ? new AwsError(answer) : answer;
  return error.withDetail({ [DETAIL]: { presented, why } });
}

/** Who and why, when the error is a refused credential. */
export function refusalOf(
  e: unknown,
): { presented: PresentedCredential; why: CredentialRefusal } | undefined {
  // The JSON protocol keeps the refusal's detail when it answers in its own words.
  if (!(e instanceof AwsError || e instanceof JsonError) || !e.detail) return undefined;
  const v = e.detail[DETAIL] as { presented: PresentedCredential; why: CredentialRefusal } | undefined;
  return v && typeof v === 'object' ? v : undefined;
}

/** The phase a session belongs to: carried in its claims, else read from its web identity `sub`. */
export function sessionPhase(s: SessionClaims): string | undefined {
  if (s.runPhase !== undefined) return s.runPhase;
  const m = /:run_phase:([A-Za-z0-9_-]{1,32})$/.exec(s.webIdentity?.sub ?? '');
  return m?.[1];
}

/** What a session's claims say about it (the token opened, so they are the server's own words). */
export function presentedSession(
  accessKeyId: string,
  s: SessionClaims,
  roleArn: string,
  arn: string,
): PresentedCredential {
  const p: PresentedCredential = { accessKeyId, arn, accountId: s.accountId, roleArn, sessionId: s.sid };
  if (s.runId !== undefined) p.runId = s.runId;
  const phase = sessionPhase(s);
  if (phase !== undefined) p.phase = phase;
  if (s.webIdentity?.jti !== undefined) p.jti = s.webIdentity.jti;
  if (s.tokenKid !== undefined) p.tokenKid = s.tokenKid;
  return p;
}

/** The caller a verified signature established, as a presented credential. */
export function presentedCaller(c: Caller): PresentedCredential {
  if (c.kind === 'role-session') return presentedSession(c.accessKeyId, c.session, c.roleArn, c.arn);
  return { accessKeyId: c.accessKeyId, arn: c.arn, accountId: c.accountId };
}

/** An access key id as the client sent it (not a secret), cut short. */
export const presentedKeyId = (accessKeyId: string): PresentedCredential => ({
  accessKeyId: clip(accessKeyId),
});

const iso = (ms: number): string => new Date(ms).toISOString();

// A signature that cannot be read names no credential, so it is refused before anything is recorded;
// the entries keep the table total.
const MALFORMED = 'the signature cannot be read';

const SIGNATURE: Readonly<Record<SigV4FailureReason['kind'], string>> = {
  'wrong-service': 'the signature is scoped to another service',
  'invalid-region': 'the signature is scoped to a region that does not exist',
  'scope-date': "the signature's scope date is not the request's date",
  'signature-expired':
    'the request is dated more than 15 minutes before the server time (clock skew or replay)',
  'signature-not-yet-current': 'the request is dated more than 15 minutes after the server time (clock skew)',
  'presigned-expired': 'the presigned URL has expired',
  'payload-hash-mismatch': 'the body is not the one the client signed',
  'signature-mismatch': "wrong signature: the secret is not this key's, or the request changed after signing",
  'unknown-access-key': 'no such access key',
  'no-signature': MALFORMED,
  'two-signatures': MALFORMED,
  'repeated-authorization': MALFORMED,
  'unsupported-algorithm': MALFORMED,
  'missing-parameters': MALFORMED,
  'not-key-value': MALFORMED,
  'duplicate-parameter': MALFORMED,
  'credential-elements': MALFORMED,
  'credential-terminator': MALFORMED,
  'signed-headers-format': MALFORMED,
  'signed-headers-duplicate': MALFORMED,
  'host-not-signed': MALFORMED,
  'no-date': MALFORMED,
  'bad-date': MALFORMED,
  'presigned-duplicate': MALFORMED,
  'presigned-missing': MALFORMED,
  'presigned-algorithm': MALFORMED,
  'presigned-expires-not-number': MALFORMED,
  'presigned-expires-range': MALFORMED,
  'presigned-bad-date': MALFORMED,
};

/** One sentence for the operator: why this credential was refused. */
export function refusalStory(why: CredentialRefusal, presented: PresentedCredential): string {
  switch (why.kind) {
    case 'revoked': {
      const what =
        why.scope === 'run'
          ? `revoked with its run ${why.subject}`
          : why.scope === 'phase'
            ? `revoked with the ${why.phase ?? ''} phase of its run ${why.subject}`
            : why.scope === 'role'
              ? `revoked with the sessions of role ${why.subject}`
              : 'revoked';
      const run =
        why.scope !== 'run' && why.scope !== 'phase' && presented.runId ? ` (run ${presented.runId})` : '';
      return `the session${run} was ${what} at ${iso(why.revokedAt)}: ${why.reason}`;
    }
    case 'expired':
      return `the session expired at ${iso(why.expiredAt)}`;
    case 'signing-key-revoked':
      return `the session was minted from a token signed by key ${why.kid}, revoked at ${iso(why.revokedAt)}`;
    case 'session-token-invalid':
      return 'the session token is not one this deployment sealed for this access key (forged, tampered or another key id)';
    case 'access-key-unknown':
      return 'no such access key, or it is inactive';
    case 'signature':
      return SIGNATURE[why.failure.kind];
  }
}
