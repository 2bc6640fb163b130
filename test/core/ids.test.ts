import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountId, awsId, hcpId } from '../../src/core/ids.js';
import { seededRandom } from '../../src/core/random.js';

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
