import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditFilterError, auditQuery, filtersFromParams } from '../../src/cloud/explain/audit-query.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');

test('without --after the audit query asks for the most recent events; --after pages forward', () => {
  assert.deepEqual(auditQuery({}, NOW), { limit: 100, latest: true });
  assert.deepEqual(auditQuery({ after: '41', limit: '10' }, NOW), { afterSeq: 41, limit: 10 });
});

test('ages, ISO times and epoch milliseconds all become epoch milliseconds', () => {
  const q = auditQuery({ since: '15m', until: '2026-12-02T11:59:00Z' }, NOW);
  assert.equal(q.since, NOW - 15 * 60_000);
  assert.equal(q.until, NOW - 60_000);
  assert.equal(auditQuery({ since: '1700000000000' }, NOW).since, 1_700_000_000_000);
});

test('malformed filters name the field: decision, time, limit, and unknown parameter names', () => {
  const field = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof AuditFilterError);
      return e.field;
    }
    return 'accepted';
  };
  assert.equal(
    field(() => auditQuery({ decision: 'maybe' }, NOW)),
    'decision',
  );
  assert.equal(
    field(() => auditQuery({ since: 'yesterday' }, NOW)),
    'since',
  );
  assert.equal(
    field(() => auditQuery({ limit: '0' }, NOW)),
    'limit',
  );
  assert.equal(
    field(() => auditQuery({ limit: '1001' }, NOW)),
    'limit',
  );
  assert.equal(
    field(() => filtersFromParams(new URLSearchParams('run=r&colour=red'))),
    'colour',
  );
});
