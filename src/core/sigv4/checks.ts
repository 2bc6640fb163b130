// Checks on the presented signature that need no secret: credential scope and clock.

import { formatAmzDate } from './dates.js';
import { SigV4Failure } from './failure.js';
import { clip } from './parse-credential.js';
import type { Presented } from './presented.js';
import type { CredentialScope } from './types.js';

export const DEFAULT_SKEW_MS = 900_000;

export function checkScope(
  scope: CredentialScope,
  amzDate: string,
  options: { expectedService?: string | readonly string[]; allowedRegions?: readonly string[] },
): void {
  const expected = options.expectedService;
  if (
    expected !== undefined &&
    (typeof expected === 'string' ? expected !== scope.service : !expected.includes(scope.service))
  ) {
    const name = typeof expected === 'string' ? expected : expected.join("' or '");
    throw new SigV4Failure(
      'SignatureDoesNotMatch',
      `Credential should be scoped to correct service: '${name}'.`,
    );
  }
  if (options.allowedRegions && !options.allowedRegions.includes(scope.region)) {
    throw new SigV4Failure(
      'SignatureDoesNotMatch',
      `Credential should be scoped to a valid region, not '${clip(scope.region)}'.`,
    );
  }
  const day = amzDate.slice(0, 8);
  if (scope.date !== day) {
    throw new SigV4Failure(
      'SignatureDoesNotMatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${clip(scope.date)}' != '${day}', from '${amzDate}'.`,
    );
  }
}

export function checkClock(p: Presented, options: { now: number; skewMs?: number }): void {
  const skew = options.skewMs ?? DEFAULT_SKEW_MS;
  const minutes = Math.round(skew / 60_000);
  const now = options.now;
  if (p.dateMs > now + skew) {
    throw new SigV4Failure(
      'RequestTimeTooSkewed',
      `Signature not yet current: ${p.amzDate} is still later than ${formatAmzDate(now + skew)} (${formatAmzDate(now)} + ${minutes} min.)`,
    );
  }
  if (p.presigned) {
    const expiresAt = p.dateMs + (p.expiresSeconds ?? 0) * 1000;
    if (now > expiresAt) {
      throw new SigV4Failure(
        'RequestExpired',
        `Request has expired: ${formatAmzDate(expiresAt)} is earlier than ${formatAmzDate(now)}.`,
      );
    }
  } else if (p.dateMs < now - skew) {
    throw new SigV4Failure(
      'RequestTimeTooSkewed',
      `Signature expired: ${p.amzDate} is now earlier than ${formatAmzDate(now - skew)} (${formatAmzDate(now)} - ${minutes} min.)`,
    );
  }
}
