import assert from 'node:assert/strict';
import { test } from 'node:test';
import { singleFlight } from '../../src/core/single-flight.js';

test('singleFlight runs one job at a time, routes failures to onError and lets idle() wait', async () => {
  let runs = 0;
  let release: () => void = () => undefined;
  const errors: unknown[] = [];
  const job = singleFlight(
    () =>
      new Promise<void>((resolve, reject) => {
        runs++;
        release = runs === 2 ? () => reject(new Error('boom')) : resolve;
      }),
    (err) => errors.push(err),
  );
  job.start();
  job.start(); // in flight: covered by the first run
  assert.equal(runs, 1);
  const idle = job.idle();
  release();
  await idle;
  job.start(); // a new run once the first is over, and this one fails
  assert.equal(runs, 2);
  release();
  await job.idle();
  assert.equal((errors[0] as Error).message, 'boom');
  await job.idle(); // nothing in flight: resolves at once
});
