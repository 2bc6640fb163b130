import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/http/log.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { startServer } from '../../src/server/app.js';
import { startAuditRetention } from '../../src/server/audit-retention.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';
import { openStore } from '../../src/store/open.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { tempDir } from '../helpers/temp.js';
import { logSink } from './helpers.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2);
const event = (time: number, requestId: string): AuditEvent => ({
  time,
  requestId,
  action: 'sts:AssumeRoleWithWebIdentity',
  decision: 'allow',
});

async function seeded(old: number, recent: number) {
  const store = await openStore({ dataDir: await tempDir('gatepass-retention-') });
  const events: AuditEvent[] = [];
  for (let i = 0; i < old; i++) events.push(event(NOW - 40 * DAY + i, `old-${i}`));
  for (let i = 0; i < recent; i++) events.push(event(NOW - 29 * DAY + i, `recent-${i}`));
  await store.appendAudit(events);
  return store;
}

test('a 30-day retention deletes older events at start, in batches, keeps newer ones and audits the prune', async () => {
  // More than one batch of old events, so the prune has to loop.
  const store = await seeded(12_345, 3);
  const sink = logSink();
  try {
    const retention = startAuditRetention(30, {
      store,
      clock: { now: () => NOW },
      random: cryptoRandom,
      log: createJsonLogger({ stream: sink.stream }),
    });
    await retention.stop();
    const left = await store.queryAudit({ limit: 1000 });
    assert.deepEqual(
      left.map((e) => e.requestId.replace(/^[0-9a-f-]{36}$/, 'prune')),
      ['recent-0', 'recent-1', 'recent-2', 'prune'],
    );
    const prune = left.at(-1);
    assert.equal(prune?.action, 'audit:Prune');
    assert.equal(prune?.decision, 'info');
    assert.deepEqual(prune?.detail, {
      retentionDays: 30,
      before: new Date(NOW - 30 * DAY).toISOString(),
      removed: 12_345,
    });
    assert.equal(sink.lines().find((l) => l.msg === 'audit events past retention deleted')?.removed, 12_345);
    // Nothing past the retention any more: nothing deleted, nothing recorded.
    assert.equal(await retention.runOnce(), 0);
    assert.equal((await store.queryAudit({ limit: 1000 })).length, 4);
  } finally {
    await store.close();
  }
});

test('a failing prune is logged as a warning and does not stop the node', async () => {
  const store = await seeded(1, 0);
  const sink = logSink();
  try {
    const broken = Object.assign(Object.create(store), {
      pruneAudit: () => Promise.reject(new Error('disk on fire')),
    });
    const retention = startAuditRetention(30, {
      store: broken,
      clock: { now: () => NOW },
      random: cryptoRandom,
      log: createJsonLogger({ stream: sink.stream }),
    });
    await retention.stop();
    assert.equal(sink.lines().find((l) => l.msg === 'audit retention prune failed')?.level, 'warn');
    assert.equal((await store.queryAudit({})).length, 1);
  } finally {
    await store.close();
  }
});

test('gatepass serve with auditRetentionDays prunes at start; without it the audit log is kept', async () => {
  for (const days of [undefined, 30]) {
    const dataDir = await tempDir('gatepass-retention-app-');
    const store = await openStore({ dataDir });
    await store.appendAudit([event(Date.now() - 31 * DAY, 'old'), event(Date.now(), 'new')]);
    await store.close();
    const config = resolveConfig({
      env: {},
      flags: { port: 0, dataDir, ...(days ? { auditRetentionDays: days } : {}) },
    });
    // stop() waits for a prune in progress: read the log afterwards, from the file.
    await (await startServer(config, { log: silentLogger })).stop();
    const reopened = await openStore({ dataDir });
    const left = (await reopened.queryAudit({ limit: 1000 })).map((e) => e.requestId);
    await reopened.close();
    if (days) assert.ok(!left.includes('old') && left.includes('new'), left.join(','));
    else assert.ok(left.includes('old') && left.includes('new'), left.join(','));
  }
});

test('auditRetentionDays is a whole number of days from 1 to 36500, from flag, env or file', () => {
  assert.equal(resolveConfig({ env: {} }).auditRetentionDays, undefined);
  assert.equal(resolveConfig({ env: { GATEPASS_AUDIT_RETENTION_DAYS: '90' } }).auditRetentionDays, 90);
  assert.equal(resolveConfig({ env: {}, file: { auditRetentionDays: 7 } }).auditRetentionDays, 7);
  for (const bad of ['0', '36501', '7d', '1.5']) {
    assert.throws(
      () => resolveConfig({ env: { GATEPASS_AUDIT_RETENTION_DAYS: bad } }),
      /auditRetentionDays: expected an integer from 1 to 36500/,
    );
  }
});
