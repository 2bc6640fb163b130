import { randomFillSync, randomUUID } from 'node:crypto';
import type { Random } from '../core/deps.js';

// One call into the CSPRNG per POOL bytes instead of one per request: a credential issuance takes
// several small draws (key id, session id, nonce), and each separate call costs microseconds on the
// hot path. `randomUUID` keeps a cache of its own in the same way.
const POOL = 4096;
const pool = new Uint8Array(POOL);
let used = POOL;

function bytes(length: number): Uint8Array {
  if (length > POOL / 4) return randomFillSync(new Uint8Array(length));
  if (used + length > POOL) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + length);
  // Served bytes are wiped so they can never be handed out twice or linger readable in the pool.
  pool.fill(0, used, used + length);
  used += length;
  return out;
}

/** The process's cryptographic randomness; only composition roots import it, the rest receive a `Random`. */
export const cryptoRandom: Random = {
  bytes,
  uuid: () => randomUUID(),
};

/** Deterministic randomness for tests (xorshift128+); never use for secrets. */
export function seededRandom(seed: number): Random {
  let s0 = BigInt(seed) | 1n;
  let s1 = BigInt(seed * 7919 + 17) | 1n;
  const mask = (1n << 64n) - 1n;
  const next = (): bigint => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= (x << 23n) & mask;
    s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (s1 + y) & mask;
  };
  const bytes = (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Number(next() & 0xffn);
    return out;
  };
  return {
    bytes,
    uuid: () => {
      const b = bytes(16);
      b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
      b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
      const h = Buffer.from(b).toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
}
