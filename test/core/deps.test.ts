import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedClock } from '../../src/core/deps.js';
import { cryptoRandom, seededRandom } from '../../src/runtime/random.js';

test('fixedClock moves only when told to', () => {
  const clock = fixedClock(1_000);
  assert.equal(clock.now(), 1_000);
  clock.advance(500);
  assert.equal(clock.now(), 1_500);
});

test('seededRandom is deterministic per seed and yields RFC 4122 v4 UUIDs', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  assert.deepEqual(a.bytes(16), b.bytes(16));
  assert.match(a.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notDeepEqual(seededRandom(1).bytes(8), seededRandom(2).bytes(8));
});

test('cryptoRandom serves every length from its pool and never repeats bytes across refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const length = [12, 16, 32, 1][i % 4] ?? 16;
    const b = cryptoRandom.bytes(length);
    assert.equal(b.length, length);
    if (length >= 12) {
      const hex = Buffer.from(b).toString('hex');
      assert.ok(!seen.has(hex), 'a draw came back twice');
      seen.add(hex);
    }
  }
  assert.equal(cryptoRandom.bytes(5000).length, 5000);
  assert.notDeepEqual(cryptoRandom.bytes(64), new Uint8Array(64));
});
