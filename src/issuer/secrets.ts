// Bearer secrets (admin and agent tokens): random, prefixed so they are recognisable in leaks,
// stored only as SHA-256 hashes and compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Random } from '../core/deps.js';

export const ADMIN_TOKEN_PREFIX = 'gpadm_';
export const AGENT_TOKEN_PREFIX = 'gpat_';

export function generateSecret(random: Random, prefix: string): string {
  return prefix + Buffer.from(random.bytes(32)).toString('base64url');
}

export const hashSecret = (secret: string): string =>
  createHash('sha256').update(secret, 'utf8').digest('hex');

export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
