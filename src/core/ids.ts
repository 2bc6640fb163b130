// AWS- and HCP-shaped identifiers. Randomness is injected so tests are reproducible.
import type { Random } from './deps.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

function pick(random: Random, alphabet: string, length: number): string {
  // Rejection sampling keeps the distribution uniform for alphabets that do not divide 256.
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of random.bytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

/**
 * IAM ids as AWS shapes them: access key ids (`AKIA`, `ASIA`) are 20 characters, unique ids of
 * roles (`AROA`), users (`AIDA`), policies (`ANPA`) and the rest are 21.
 */
export type AwsIdPrefix = 'AROA' | 'AIDA' | 'ANPA' | 'ANVA' | 'AKIA' | 'ASIA' | 'AGPA' | 'AIPA';
export const awsId = (random: Random, prefix: AwsIdPrefix): string =>
  prefix + pick(random, BASE32, prefix === 'AKIA' || prefix === 'ASIA' ? 16 : 17);

/** HCP Terraform style ids: `org-`, `prj-`, `ws-`, `run-`, `var-`, `varset-`, `at-` + 16 alphanumerics. */
export const hcpId = (random: Random, prefix: string): string => `${prefix}-${pick(random, ALNUM, 16)}`;

/** 12-digit AWS account id (never starting with 0, to survive numeric handling in clients). */
export function accountId(random: Random): string {
  return pick(random, '123456789', 1) + pick(random, '0123456789', 11);
}

export const orgId = (random: Random): string => `o-${pick(random, LOWER_ALNUM, 10)}`;
export const rootId = (random: Random): string => `r-${pick(random, LOWER_ALNUM, 4)}`;
export const ouId = (random: Random, root: string): string =>
  `ou-${root.slice(2)}-${pick(random, LOWER_ALNUM, 8)}`;
export const orgPolicyId = (random: Random): string => `p-${pick(random, LOWER_ALNUM, 8)}`;
export const orgResourcePolicyId = (random: Random): string => `rp-${pick(random, LOWER_ALNUM, 8)}`;

export const isAccountId = (s: string): boolean => /^\d{12}$/.test(s);

/** Two lowercase hex digits per byte value (no number-to-string conversion on hot paths). */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUID of version 7 (RFC 9562: 48-bit Unix milliseconds, then 74 random bits). Ids made close in
 * time sort together, so an index over them (the audit log's request and session ids) grows at its
 * end instead of dirtying a page somewhere in the tree on every insert, which a synced commit pays for.
 */
export function timeOrderedUuid(now: number, random: Random): string {
  const ms = Math.min(Math.max(0, Math.floor(now)), 2 ** 48 - 1);
  const hi = Math.floor(ms / 2 ** 24);
  const lo = ms % 2 ** 24;
  const r = random.bytes(10);
  const b = (i: number): string => HEX[r[i] ?? 0] as string;
  return (
    `${HEX[hi >>> 16]}${HEX[(hi >>> 8) & 0xff]}${HEX[hi & 0xff]}${HEX[lo >>> 16]}-` +
    `${HEX[(lo >>> 8) & 0xff]}${HEX[lo & 0xff]}-` +
    `${HEX[0x70 | ((r[0] ?? 0) & 0x0f)]}${b(1)}-${HEX[0x80 | ((r[2] ?? 0) & 0x3f)]}${b(3)}-` +
    `${b(4)}${b(5)}${b(6)}${b(7)}${b(8)}${b(9)}`
  );
}

/** A request id: UUID-shaped as AWS's are, time-ordered (see `timeOrderedUuid`). */
export const requestId = timeOrderedUuid;

/** A CreateAccount request id as Organizations shapes it: `car-` and 32 lowercase alphanumerics. */
export const createAccountRequestId = (random: Random): string => `car-${pick(random, LOWER_ALNUM, 32)}`;
