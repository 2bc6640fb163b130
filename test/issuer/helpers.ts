// Test helpers for the issuer: a fresh SQLite store, a master key, and an independent JWT verifier
// built from nothing but node:crypto and the JWK (a second check of the wire format besides jose).
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers/temp.js';

export async function freshStore(): Promise<{ store: Store; dataDir: string }> {
  const dataDir = await tempDir('gatepass-issuer-');
  return { store: await openStore({ dataDir }), dataDir };
}

export const MASTER_KEY = new Uint8Array(32).fill(7);

export interface Decoded {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** Verify a compact JWS against a JWKS with node:crypto only; returns the decoded parts or throws. */
export function plainVerify(token: string, keys: readonly Record<string, unknown>[]): Decoded {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  const jwk = keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`kid ${String(header.kid)} not published`);
  const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`, 'ascii');
  const sig = Buffer.from(s, 'base64url');
  let ok: boolean;
  if (header.alg === 'RS256' && jwk.kty === 'RSA') ok = cryptoVerify('sha256', data, key, sig);
  else if (header.alg === 'ES256' && jwk.kty === 'EC' && jwk.crv === 'P-256')
    ok = cryptoVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  else throw new Error('algorithm and key do not match');
  if (!ok) throw new Error('bad signature');
  return { header, payload };
}
