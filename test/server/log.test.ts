import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixedClock } from '../../src/core/deps.js';
import { createJsonLogger, REDACTED } from '../../src/server/log.js';
import { logSink as capture } from './helpers.js';

test('writes one JSON object per line with time, level, msg and fields', () => {
  const sink = capture();
  const log = createJsonLogger({ stream: sink.stream, clock: fixedClock(0) });
  log.log('info', 'hello', { n: 1 });
  assert.deepEqual(sink.lines(), [{ time: '1970-01-01T00:00:00.000Z', level: 'info', msg: 'hello', n: 1 }]);
});

test('drops lines below the configured level', () => {
  const sink = capture();
  const log = createJsonLogger({ stream: sink.stream, level: 'warn' });
  log.log('debug', 'a');
  log.log('info', 'b');
  log.log('warn', 'c');
  log.log('error', 'd');
  assert.deepEqual(
    sink.lines().map((l) => l.msg),
    ['c', 'd'],
  );
});

test('child loggers carry bound fields and cannot overwrite time, level or msg', () => {
  const sink = capture();
  const log = createJsonLogger({ stream: sink.stream }).child({ requestId: 'r1' }).child({ route: 'sts' });
  log.log('info', 'x', { msg: 'spoof', level: 'error', extra: true });
  const [line] = sink.lines();
  assert.equal(line?.msg, 'x');
  assert.equal(line?.level, 'info');
  assert.equal(line?.requestId, 'r1');
  assert.equal(line?.route, 'sts');
  assert.equal(line?.extra, true);
});

test('redacts secret-looking keys at any depth, whatever their value', () => {
  const sink = capture();
  const log = createJsonLogger({ stream: sink.stream }).child({ sessionToken: 'tok-bound' });
  log.log('info', 'x', {
    Authorization: 'AWS4-HMAC-SHA256 Credential=AKIA...',
    nested: { clientSecret: 'shh', list: [{ password: 'pw', keep: 'ok' }] },
    X_Amz_Signature: 'abc',
    credentials: { accessKeyId: 'AKIA' },
    jti: 'safe-id',
  });
  const [line] = sink.lines();
  const text = JSON.stringify(line);
  for (const secret of ['tok-bound', 'AWS4-HMAC', 'shh', 'pw"', 'abc', 'AKIA']) {
    assert.equal(text.includes(secret), false, `leaked ${secret}`);
  }
  assert.equal(line?.sessionToken, REDACTED);
  assert.equal(line?.Authorization, REDACTED);
  assert.deepEqual(line?.nested, { clientSecret: REDACTED, list: [{ password: REDACTED, keep: 'ok' }] });
  assert.equal(line?.jti, 'safe-id');
});

test('serialises errors, bigints and cycles without throwing', () => {
  const sink = capture();
  const log = createJsonLogger({ stream: sink.stream });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  log.log('error', 'boom', { err: new RangeError('bad'), big: 10n, cyclic });
  const [line] = sink.lines();
  const err = line?.err as { name?: string; message?: string } | undefined;
  assert.equal(err?.name, 'RangeError');
  assert.equal(err?.message, 'bad');
  assert.equal(line?.big, '10');
  assert.deepEqual(line?.cyclic, { a: 1, self: '[circular]' });
});
