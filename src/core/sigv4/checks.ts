// Checks on the presented signature that need no secret: credential scope and clock. Failures are
// typed (failure.ts); the protocol turns them into AWS's answer.
import { SigV4Failure } from './failure.js';
import type { Presented } from './presented.js';
import type { CredentialScope } from './types.js';

export const DEFAULT_SKEW_MS = 900_000;

/** Regions a scope may name: a list, or a set for long lists (every AWS region). */
export type RegionSet = readonly string[] | ReadonlySet<string>;

const hasRegion = (regions: RegionSet, region: string): boolean =>
  Array.isArray(regions) ? regions.includes(region) : (regions as ReadonlySet<string>).has(region);

export function checkScope(
  scope: CredentialScope,
  amzDate: string,
  options: { expectedService?: string | readonly string[]; allowedRegions?: RegionSet },
): void {
  const expected = options.expectedService;
  if (expected !== undefined) {
    const list = typeof expected === 'string' ? [expected] : expected;
    if (!list.includes(scope.service)) {
      throw new SigV4Failure(
        { kind: 'wrong-service', service: scope.service, expected: list },
        scope.accessKeyId,
      );
    }
  }
  if (options.allowedRegions && !hasRegion(options.allowedRegions, scope.region)) {
    throw new SigV4Failure(
      { kind: 'invalid-region', region: scope.region, service: scope.service },
      scope.accessKeyId,
    );
  }
  const day = amzDate.slice(0, 8);
  if (scope.date !== day)
    throw new SigV4Failure({ kind: 'scope-date', scopeDate: scope.date, amzDate }, scope.accessKeyId);
}

export function checkClock(p: Presented, options: { now: number; skewMs?: number }): void {
  const skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
  const now = options.now;
  const keyId = p.auth.credential.accessKeyId;
  if (p.dateMs > now + skewMs) {
    throw new SigV4Failure({ kind: 'signature-not-yet-current', amzDate: p.amzDate, now, skewMs }, keyId);
  }
  if (p.presigned) {
    const expiresAt = p.dateMs + (p.expiresSeconds ?? 0) * 1000;
    if (now > expiresAt) throw new SigV4Failure({ kind: 'presigned-expired', expiresAt, now }, keyId);
  } else if (p.dateMs < now - skewMs) {
    throw new SigV4Failure({ kind: 'signature-expired', amzDate: p.amzDate, now, skewMs }, keyId);
  }
}
