// The caches on the STS hot path: IAM records (sts/record-cache.ts) kept until the IAM model changes,
// never keeping a miss or a value whose load raced a change; and the time condition keys (authz),
// formatted once a second.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseContext } from '../../src/cloud/authz/authorizer.js';
import { RecordCache } from '../../src/cloud/sts/record-cache.js';

test('a record is loaded once and kept until invalidate; misses are loaded every time', async () => {
  const a = new RecordCache();
  let loads = 0;
  const load = async () => {
    loads += 1;
    return { trust: `v${loads}` };
  };
  assert.deepEqual(await a.record('role:x', load), { trust: 'v1' });
  assert.deepEqual(await a.record('role:x', load), { trust: 'v1' });
  assert.equal(loads, 1);
  a.invalidate();
  assert.deepEqual(await a.record('role:x', load), { trust: 'v2' });

  let misses = 0;
  const missing = async () => {
    misses += 1;
    return undefined;
  };
  assert.equal(await a.record('role:none', missing), undefined);
  assert.equal(await a.record('role:none', missing), undefined);
  assert.equal(misses, 2);
});

test('a load that began before an IAM change is answered but not kept', async () => {
  const a = new RecordCache();
  let release: () => void = () => {};
  const slow = new Promise<void>((r) => {
    release = r;
  });
  const stale = a.record('role:x', async () => {
    await slow;
    return { trust: 'old' };
  });
  a.invalidate(); // the role changed while the old version was being read
  release();
  assert.deepEqual(await stale, { trust: 'old' });
  assert.deepEqual(await a.record('role:x', async () => ({ trust: 'new' })), { trust: 'new' });
});

test('the time condition keys are formatted once per second and always name the request second', () => {
  const at = (now: number) => {
    const ctx = baseContext({ now, secure: true });
    return [ctx['aws:CurrentTime'], ctx['aws:EpochTime']];
  };
  assert.deepEqual(at(1_700_000_000_999), ['2023-11-14T22:13:20Z', '1700000000']);
  assert.deepEqual(at(1_700_000_001_000), ['2023-11-14T22:13:21Z', '1700000001']);
  // Back to an earlier second (another request's clock): never the cached later one.
  assert.deepEqual(at(1_700_000_000_000), ['2023-11-14T22:13:20Z', '1700000000']);
  assert.deepEqual(at(0), ['1970-01-01T00:00:00Z', '0']);
});
