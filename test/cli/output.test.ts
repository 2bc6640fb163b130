import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colorEnabled, createOutput, localTime, readableTimes } from '../../src/cli/lib/output.js';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { isTTY, write: (s: string) => chunks.push(s), text: () => chunks.join('') };
}

test('tables align columns under upper-case headers, in the order asked for', () => {
  const stdout = sink();
  const out = createOutput({ stdout, stderr: sink(), color: false });
  out.table(
    [
      { name: 'acme', id: 'org-1', extra: 'x' },
      { name: 'a-much-longer-name', id: 'org-22' },
    ],
    ['id', 'name'],
  );
  assert.equal(stdout.text(), 'ID      NAME\norg-1   acme\norg-22  a-much-longer-name\n');
});

test('json prints one compact document per line', () => {
  const stdout = sink();
  const out = createOutput({ stdout, stderr: sink(), color: false });
  out.json({ a: 1 });
  out.json([2]);
  assert.equal(stdout.text(), '{"a":1}\n[2]\n');
});

test('errors go to stderr with each problem on its own line', () => {
  const stderr = sink();
  const out = createOutput({ stdout: sink(), stderr, color: false });
  out.error('invalid configuration', ['port: bad', 'host: bad']);
  assert.equal(stderr.text(), 'error: invalid configuration\n  - port: bad\n  - host: bad\n');
});

test('colour only for a TTY without NO_COLOR', () => {
  assert.equal(colorEnabled(sink(true), {}), true);
  assert.equal(colorEnabled(sink(true), { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled(sink(false), {}), false);
  const stderr = sink(true);
  createOutput({ stdout: sink(true), stderr, env: {} }).error('x');
  assert.ok(stderr.text().includes('\u001b[31m'));
  const plain = sink(true);
  createOutput({ stdout: sink(false), stderr: plain, env: {} }).error('x');
  assert.equal(plain.text(), 'error: x\n');
});

test('API times print as ISO 8601 in JSON and as local time with its offset in tables, at any depth', () => {
  const ms = Date.UTC(2026, 11, 6, 11, 20, 31);
  const record = {
    id: 'at-1',
    createdAt: ms,
    revokedAt: null,
    phases: { plan: { startedAt: ms, deadline: ms } },
    count: 3,
  };
  assert.deepEqual(readableTimes(record, 'iso'), {
    id: 'at-1',
    createdAt: '2026-12-06T11:20:31.000Z',
    revokedAt: null,
    phases: { plan: { startedAt: '2026-12-06T11:20:31.000Z', deadline: '2026-12-06T11:20:31.000Z' } },
    count: 3,
  });
  const local = readableTimes([record], 'local') as { createdAt: string }[];
  assert.match(local[0]?.createdAt ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{2}:\d{2}$/);
  assert.equal(local[0]?.createdAt, localTime(ms));
  // The local rendering names the same instant: parse it back with its offset.
  const [date, time, offset] = localTime(ms).split(' ');
  assert.equal(Date.parse(`${date}T${time}${offset}`), ms);
});
