// AES-256-GCM with a random 96-bit IV, encoded as base64url(iv || ciphertext || tag). Used for
// private keys at rest under the master key, and for sealing keys. `aad` binds a ciphertext to its
// purpose so one blob cannot be replayed as another.
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import type { Random } from '../deps.js';

const IV = 12;
const TAG = 16;

export class AeadError extends Error {
  override readonly name = 'AeadError';
}

/** A key imported once per key buffer: createCipheriv with a KeyObject skips re-validating raw bytes. */
const imported = new WeakMap<Uint8Array, KeyObject>();
function secretKey(key: Uint8Array): KeyObject {
  let k = imported.get(key);
  if (!k) {
    if (key.length !== 32) throw new AeadError('key must be 32 bytes');
    k = createSecretKey(key);
    imported.set(key, k);
  }
  return k;
}

export function seal(key: Uint8Array, plaintext: Uint8Array | string, aad: string, random: Random): string {
  const iv = random.bytes(IV);
  const cipher = createCipheriv('aes-256-gcm', secretKey(key), iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([iv, body, tail, cipher.getAuthTag()]).toString('base64url');
}

export function open(key: Uint8Array, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < IV + TAG) throw new AeadError('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', secretKey(key), raw.subarray(0, IV));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV, raw.length - TAG)), decipher.final()]);
  } catch {
    throw new AeadError('sealed value failed authentication');
  }
}
