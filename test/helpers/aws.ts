// AWS SDK v3 error assertions shared by client tests.
import assert from 'node:assert/strict';

/** A policy document of these statements, as the JSON text IAM takes. */
export const policyDocument = (statements: Record<string, unknown>[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** An Allow statement for `action` on `resource`. */
export const allow = (action: string | string[], resource = '*') => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
});

/**
 * The string with the character `fromEnd` places from its end replaced by a different one, so it
 * is always changed (a fixed replacement such as `x` leaves a secret already ending in `x` as it
 * was). For base64 data pass `fromEnd` ≥ 3: the last characters may carry only padding bits.
 */
export function tweak(s: string, fromEnd = 1): string {
  const i = s.length - fromEnd;
  return `${s.slice(0, i)}${s[i] === '1' ? '2' : '1'}${s.slice(i + 1)}`;
}

/**
 * The promise rejects with AWS error `code` (and HTTP `status` when given). Modeled errors surface
 * as their exception class (`<Code>Exception`), which proves the SDK recognised the code.
 */
export async function rejectsCode(
  promise: Promise<unknown>,
  code: string,
  status?: number,
  message?: RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
    assert.ok(
      e.name === code || e.name === `${code}Exception`,
      `expected ${code}, got ${e.name}: ${e.message}`,
    );
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    if (message !== undefined) assert.match(e.message ?? '', message);
    return true;
  });
}

/** Environment for a client script that must see no AWS configuration but what it is handed. */
export function isolatedAwsEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
}
