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

export const isAccountId = (s: string): boolean => /^\d{12}$/.test(s);
