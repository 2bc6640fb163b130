import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountId, awsId, hcpId, requestId } from '../../src/core/ids.js';
import { seededRandom } from '../../src/runtime/random.js';

test('access key ids are 20 characters and unique ids of roles, users and policies 21, as AWS makes them', () => {
  const random = seededRandom(7);
  for (const prefix of ['AKIA', 'ASIA'] as const)
    assert.match(awsId(random, prefix), /^A[KS]IA[A-Z2-7]{16}$/);
  for (const prefix of ['AROA', 'AIDA', 'ANPA', 'AGPA', 'AIPA'] as const) {
    const id = awsId(random, prefix);
    assert.equal(id.length, 21, id);
    assert.match(id, /^A[A-Z]{3}[A-Z2-7]{17}$/);
  }
});

test('account ids are 12 digits without a leading zero; HCP ids are prefix, dash and 16 alphanumerics', () => {
  const random = seededRandom(8);
  for (let i = 0; i < 50; i++) assert.match(accountId(random), /^[1-9]\d{11}$/);
  assert.match(hcpId(random, 'run'), /^run-[A-Za-z0-9]{16}$/);
});

test('request ids are version 7 UUIDs that sort by the millisecond they were made in', () => {
  const random = seededRandom(9);
  const at = (ms: number) => requestId(ms, random);
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const times = [0, 1, 255, 256, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1];
  const ids = times.map(at);
  for (const id of ids) assert.match(id, uuid);
  assert.deepEqual([...ids].sort(), ids);
  // The first 48 bits are the time, as RFC 9562 lays them out.
  assert.equal(
    at(1_700_000_000_000).replace('-', '').slice(0, 12),
    (1_700_000_000_000).toString(16).padStart(12, '0'),
  );
  assert.notEqual(at(5), at(5));
});
