// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
// A derived key is valid for one day, region and service, so a small cache saves four HMACs per
// request. The cache is an instance the caller owns (no module state) and its keys hold a hash of
// the secret, never the secret itself.
import { createHash, createHmac } from 'node:crypto';
import { TERMINATOR } from './types.js';

const hmac = (key: Uint8Array | string, data: string): Buffer =>
  createHmac('sha256', key).update(data).digest();

export function deriveSigningKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), TERMINATOR);
}

export class SigningKeyCache {
  readonly #entries = new Map<string, Buffer>();
  constructor(readonly capacity = 256) {}

  get(secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const id = `${createHash('sha256').update(secretAccessKey).digest('base64')}/${date}/${region}/${service}`;
    const hit = this.#entries.get(id);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      return hit;
    }
    const key = deriveSigningKey(secretAccessKey, date, region, service);
    this.#entries.set(id, key);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    return key;
  }

  get size(): number {
    return this.#entries.size;
  }
}
