// Signing key generation and at-rest protection. The kid is the RFC 7638 SHA-256 thumbprint of the
// public JWK (43 base64url characters, the shape HCP Terraform's kids have). Key generation draws
// on the platform CSPRNG through WebCrypto; it is the one randomness source that cannot be injected.
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8 } from 'jose';
import { open, seal } from '../core/crypto/aead.js';
import type { Random } from '../core/deps.js';
import type { SigningAlg } from '../store/records/keyring.js';

export interface GeneratedKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: Record<string, unknown>;
  privateKeyEnc: string;
}

/** Binds the ciphertext to its kid so one key's blob cannot be swapped in for another's. */
const aad = (kid: string): string => `gatepass:signing-key:${kid}`;

export async function generateSigningKey(
  alg: SigningAlg,
  masterKey: Uint8Array,
  random: Random,
): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(
    alg,
    alg === 'RS256' ? { modulusLength: 2048, extractable: true } : { extractable: true },
  );
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  const pem = await exportPKCS8(privateKey);
  return {
    kid,
    alg,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    privateKeyEnc: seal(masterKey, Buffer.from(pem, 'utf8'), aad(kid), random),
  };
}

export type PrivateKey = Awaited<ReturnType<typeof importPKCS8>>;

export async function openSigningKey(
  kid: string,
  alg: SigningAlg,
  privateKeyEnc: string,
  masterKey: Uint8Array,
): Promise<PrivateKey> {
  return importPKCS8(openSigningKeyPem(kid, privateKeyEnc, masterKey), alg);
}

/** The decrypted PKCS#8 PEM (for tools that need the key outside jose, e.g. the benchmark). */
export function openSigningKeyPem(kid: string, privateKeyEnc: string, masterKey: Uint8Array): string {
  return open(masterKey, privateKeyEnc, aad(kid)).toString('utf8');
}
