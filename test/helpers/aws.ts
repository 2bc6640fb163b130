// AWS SDK v3 error assertions shared by client tests.
import assert from 'node:assert/strict';

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
