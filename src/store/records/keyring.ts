// Signing keys of the issuer and sealing keys of the session layer. Private material is only ever
// stored encrypted under the master key (AES-256-GCM), never in clear.

export type SigningAlg = 'RS256' | 'ES256';
export type KeyState = 'pending' | 'active' | 'retired' | 'removed';

export interface SigningKeyRecord {
  id: string; // the kid (RFC 7638 thumbprint)
  alg: SigningAlg;
  state: KeyState;
  createdAt: number;
  /** When a pending key may start signing (publish-ahead). */
  activateAt: number;
  activatedAt?: number;
  retiredAt?: number;
  /** The latest `exp` (ms) of any token this key signed; it stays published until then. */
  lastTokenExpiresAt: number;
  removedAt?: number;
  /**
   * Set when the key was removed as compromised (`keys revoke`, `keys trim --force`): tokens it
   * signed are refused, and so are the sessions minted from them (chained ones included).
   */
  revokedAt?: number;
  publicJwk: Record<string, unknown>;
  /** base64url(iv || ciphertext || tag) of the PKCS#8 PEM, under the master key. */
  privateKeyEnc: string;
}

/** Versioned AEAD keys that seal session tokens and derive secrets; any node can open any token. */
export interface SealingKeyRecord {
  id: string; // decimal version, "1", "2", …
  version: number;
  createdAt: number;
  /** base64url(iv || ciphertext || tag) of the 32-byte key, under the master key. */
  keyEnc: string;
  /** Newest active key seals; older keys only open until their tokens expire. */
  active: boolean;
}
