// Session credentials without session state: the token is the sealed SessionClaims, bound to its
// access key id through the AEAD's associated data, and the secret is derived from the sealing key
// and the access key id. Verifying a request needs no database read.
import { createHmac } from 'node:crypto';
import { open, seal } from '../../core/crypto/aead.js';
import type { Random } from '../../core/deps.js';
import { awsId, timeOrderedUuid } from '../../core/ids.js';
import type { SessionClaims } from '../caller/caller.js';
import type { SealingKey, SealingKeys } from './keys.js';

/** Marks gatepass session tokens; the number after it is the sealing key version. */
const PREFIX = 'GP1';
const MAX_TOKEN_LENGTH = 16_384;

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

const tokenAad = (accessKeyId: string): string => `gatepass:session:${accessKeyId}`;

function deriveSecret(key: SealingKey, accessKeyId: string): string {
  // 40 characters of base64, the shape of an AWS secret access key.
  return createHmac('sha256', key.key).update(`gatepass:secret:${accessKeyId}`).digest('base64').slice(0, 40);
}

/** The secret of a long-term (AKIA) access key, derived under the sealing key it was created with. */
export function deriveAccessKeySecret(key: SealingKey, accessKeyId: string): string {
  return createHmac('sha256', key.key)
    .update(`gatepass:access-key:${accessKeyId}`)
    .digest('base64')
    .slice(0, 40);
}

/**
 * A session's ids. The session id is time-ordered: every issuance writes it into the audit log's
 * session index, and a random one costs a synced commit a dirty page per event.
 */
export function newSessionIds(random: Random, now: number): { sid: string; accessKeyId: string } {
  return { sid: timeOrderedUuid(now, random), accessKeyId: awsId(random, 'ASIA') };
}

export function sealSession(keys: SealingKeys, claims: SessionClaims, random: Random): SessionCredentials {
  const key = keys.active();
  const sealed = seal(key.key, JSON.stringify(claims), tokenAad(claims.accessKeyId), random);
  return {
    accessKeyId: claims.accessKeyId,
    secretAccessKey: deriveSecret(key, claims.accessKeyId),
    sessionToken: `${PREFIX}.${key.version}.${sealed}`,
  };
}

/** The sealing key version a session token names, if it is shaped like one of ours. */
export function sessionKeyVersion(sessionToken: string): number | undefined {
  const match = /^GP1\.(\d{1,9})\./.exec(sessionToken);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Open a session token presented with an access key id. Undefined when it is not one of ours, was
 * sealed for another key id, or was tampered with: the caller answers InvalidClientTokenId.
 */
export function openSession(
  keys: SealingKeys,
  accessKeyId: string,
  sessionToken: string,
): { claims: SessionClaims; secretAccessKey: string } | undefined {
  if (sessionToken.length > MAX_TOKEN_LENGTH) return undefined;
  const match = /^GP1\.(\d{1,9})\.([A-Za-z0-9_-]+)$/.exec(sessionToken);
  if (!match?.[1] || !match[2]) return undefined;
  const key = keys.get(Number(match[1]));
  if (!key) return undefined;
  let claims: SessionClaims;
  try {
    claims = JSON.parse(open(key.key, match[2], tokenAad(accessKeyId)).toString('utf8')) as SessionClaims;
  } catch {
    return undefined;
  }
  if (claims.accessKeyId !== accessKeyId) return undefined;
  return { claims, secretAccessKey: deriveSecret(key, accessKeyId) };
}

/**
 * `openSession` memoised by access key id: a client signs many calls with one session, and opening
 * means an AEAD decryption, a JSON parse and an HMAC. An entry is used only for the very token it
 * was opened from (each access key id is minted once, so a real client presents one token with it).
 * Keyed by the 20-character id rather than by id and token, a hit hashes no ~1 KB string. Only
 * successful opens are kept (a flood of made-up tokens cannot evict real ones faster than it could
 * fill the cache anyway); the caller still checks expiry and revocation on every request, and the
 * cache is bounded.
 */
export class SessionOpener {
  private readonly opened = new Map<
    string,
    { sessionToken: string; result: { claims: SessionClaims; secretAccessKey: string } }
  >();

  constructor(
    private readonly keys: SealingKeys,
    private readonly max = 10_000,
  ) {}

  open(
    accessKeyId: string,
    sessionToken: string,
  ): { claims: SessionClaims; secretAccessKey: string } | undefined {
    const hit = this.opened.get(accessKeyId);
    if (hit?.sessionToken === sessionToken) return hit.result;
    const result = openSession(this.keys, accessKeyId, sessionToken);
    if (result) {
      if (this.opened.size >= this.max) this.opened.clear();
      this.opened.set(accessKeyId, { sessionToken, result });
    }
    return result;
  }
}
