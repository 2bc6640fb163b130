// The behaviour every store engine must have. Each engine's test file calls storeConformance with a
// factory for a fresh, empty store; nothing here knows which engine it is talking to.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RoleRecord } from '../../src/store/records/iam.js';
import type { OrganizationRecord } from '../../src/store/records/platform.js';
import { LATEST_VERSION } from '../../src/store/sql/migrations.js';
import { type Store, StoreConflictError } from '../../src/store/types.js';

export interface EngineFactory {
  /** A new, empty store. */
  fresh(): Promise<Store>;
  /** Another connection to the same database as `store` (a restart, or a second node). */
  reopen(store: Store): Promise<Store>;
}

export function role(name: string, overrides: Partial<RoleRecord> = {}): RoleRecord {
  const id =
    overrides.id ??
    `AROA${name
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .padEnd(17, 'X')
      .slice(0, 17)}`;
  return {
    id,
    accountId: '111111111111',
    name,
    path: '/',
    arn: `arn:aws:iam::111111111111:role/${name}`,
    trustPolicy: '{"Version":"2012-10-17","Statement":[]}',
    description: '',
    maxSessionDuration: 3600,
    inlinePolicies: {},
    attachedPolicies: [],
    tags: [],
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

export function org(id: string, name: string): OrganizationRecord {
  return { id, name, createdAt: 1, maxPhaseTimeoutSeconds: 86_400, tokenOptions: {} };
}

async function withStore(factory: EngineFactory, fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await factory.fresh();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

function conflict(reason: StoreConflictError['reason'], index?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof StoreConflictError, `expected StoreConflictError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    if (index !== undefined) assert.equal(err.index, index);
    return true;
  };
}

export function storeConformance(engine: string, factory: EngineFactory): void {
  describe(`store conformance: ${engine}`, () => {
    test('a new store is migrated to the latest schema version and is empty', () =>
      withStore(factory, async (store) => {
        assert.equal(await store.schemaVersion(), LATEST_VERSION);
        assert.equal(await store.count('role'), 0);
        assert.equal(await store.latestChange(), 0);
        await store.ping();
      }));

    test('insert then get returns an equal record at rev 1; an unknown id is undefined', () =>
      withStore(factory, async (store) => {
        const r = role('deploy', { tags: [{ Key: 'team', Value: 'net' }], inlinePolicies: { p: '{}' } });
        await store.insert('role', r);
        assert.deepEqual(await store.get('role', r.id), r);
        assert.deepEqual(await store.getVersioned('role', r.id), { record: r, rev: 1 });
        assert.equal(await store.get('role', 'AROANOPE'), undefined);
        assert.equal(await store.get('organization', r.id), undefined, 'kinds are separate namespaces');
      }));

    test('optional fields left out stay out after a round trip', () =>
      withStore(factory, async (store) => {
        const r = role('plain');
        await store.insert('role', r);
        const back = await store.get('role', r.id);
        assert.ok(back);
        assert.equal(Object.hasOwn(back, 'permissionsBoundary'), false);
      }));

    test('a duplicate id is rejected with exists and changes nothing', () =>
      withStore(factory, async (store) => {
        await store.insert('role', role('a'));
        const before = await store.latestChange();
        await assert.rejects(store.insert('role', role('b', { id: role('a').id })), conflict('exists'));
        assert.equal((await store.get('role', role('a').id))?.name, 'a');
        assert.equal(await store.latestChange(), before);
      }));

    test('a unique index rejects a second value case-insensitively and names the index, leaving no trace', () =>
      withStore(factory, async (store) => {
        await store.insert('role', role('Deploy'));
        const dup = role('deploy', {
          id: 'AROASECONDROLE000001',
          arn: 'arn:aws:iam::111111111111:role/deploy2',
        });
        await assert.rejects(store.insert('role', dup), conflict('exists', 'accountName'));
        assert.equal(await store.get('role', dup.id), undefined);
        assert.equal(await store.getBy('role', 'arn', dup.arn), undefined);
        assert.equal(await store.count('role'), 1);
        // The same name in another account is a different key.
        await store.insert('role', { ...dup, accountId: '222222222222' });
        assert.equal(await store.count('role'), 2);
      }));

    test('getBy finds by unique index value and follows updates of the indexed field', () =>
      withStore(factory, async (store) => {
        const r = role('net-plan');
        await store.insert('role', r);
        assert.equal((await store.getBy('role', 'arn', r.arn))?.id, r.id);
        const renamed = { ...r, name: 'net-apply', arn: 'arn:aws:iam::111111111111:role/net-apply' };
        await store.update('role', renamed);
        assert.equal(await store.getBy('role', 'arn', r.arn), undefined);
        assert.equal((await store.getBy('role', 'arn', renamed.arn))?.name, 'net-apply');
        // The old name is free again.
        await store.insert('role', role('net-plan', { id: 'AROAOTHER0000000001' }));
      }));

    test('update bumps rev, honours expectRev and reports stale or missing', () =>
      withStore(factory, async (store) => {
        const r = role('x');
        await store.insert('role', r);
        assert.equal(await store.update('role', { ...r, description: 'one' }, 1), 2);
        await assert.rejects(store.update('role', { ...r, description: 'late' }, 1), conflict('stale'));
        assert.equal((await store.get('role', r.id))?.description, 'one');
        assert.equal(await store.update('role', { ...r, description: 'two' }), 3);
        await assert.rejects(store.update('role', role('ghost')), conflict('missing'));
        assert.equal(await store.get('role', role('ghost').id), undefined);
      }));

    test('an update that would collide on a unique index fails and keeps the old record', () =>
      withStore(factory, async (store) => {
        await store.insert('role', role('a'));
        const b = role('b');
        await store.insert('role', b);
        await assert.rejects(store.update('role', { ...b, name: 'A' }), conflict('exists', 'accountName'));
        assert.deepEqual(await store.getVersioned('role', b.id), { record: b, rev: 1 });
        assert.equal((await store.getBy('role', 'accountName', `111111111111\u001fb`))?.id, b.id);
      }));

    test('put inserts or replaces', () =>
      withStore(factory, async (store) => {
        const o = org('org-1', 'acme');
        await store.put('organization', o);
        await store.put('organization', { ...o, maxPhaseTimeoutSeconds: 60 });
        assert.deepEqual(await store.getVersioned('organization', 'org-1'), {
          record: { ...o, maxPhaseTimeoutSeconds: 60 },
          rev: 2,
        });
      }));

    test('delete reports whether a record went and frees its index values', () =>
      withStore(factory, async (store) => {
        const r = role('gone');
        await store.insert('role', r);
        assert.equal(await store.delete('role', r.id), true);
        assert.equal(await store.delete('role', r.id), false);
        assert.equal(await store.getBy('role', 'arn', r.arn), undefined);
        await store.insert('role', { ...r, id: 'AROAREPLACEMENT00001' });
      }));

    test('list is ordered by id as byte strings, pages with afterId and limit, filters by index; count agrees', () =>
      withStore(factory, async (store) => {
        const ids = ['b', 'B', 'a', 'a-1', 'a_1', 'Z', '0'];
        for (const [i, id] of ids.entries()) await store.insert('organization', org(id, `name-${i}`));
        const sorted = [...ids].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1));
        assert.deepEqual(
          (await store.list('organization')).map((o) => o.id),
          sorted,
        );
        assert.deepEqual(
          (await store.list('organization', { afterId: 'Z', limit: 2 })).map((o) => o.id),
          sorted.slice(sorted.indexOf('Z') + 1, sorted.indexOf('Z') + 3),
        );
        assert.equal(await store.count('organization'), ids.length);
        await store.insert('role', role('one', { id: 'AROA2', accountId: '222222222222' }));
        await store.insert('role', role('two', { id: 'AROA1', accountId: '222222222222' }));
        await store.insert('role', role('three', { id: 'AROA3' }));
        const inAccount = await store.list('role', { index: { name: 'account', value: '222222222222' } });
        assert.deepEqual(
          inAccount.map((r) => r.id),
          ['AROA1', 'AROA2'],
        );
        assert.equal(await store.count('role', { index: { name: 'account', value: '222222222222' } }), 2);
        assert.deepEqual(await store.list('role', { limit: 0 }), []);
      }));

    test('a transaction commits all of its writes together', () =>
      withStore(factory, async (store) => {
        const result = await store.transaction(async (tx) => {
          await tx.insert('role', role('r1'));
          await tx.insert('role', role('r2'));
          assert.equal(await tx.count('role'), 2, 'a transaction sees its own writes');
          return 'done';
        });
        assert.equal(result, 'done');
        assert.equal(await store.count('role'), 2);
      }));

    test('a transaction that throws leaves the previous state: records, indexes, changes and audit', () =>
      withStore(factory, async (store) => {
        await store.insert('role', role('keep'));
        const seq = await store.latestChange();
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.update('role', { ...role('keep'), description: 'changed' });
            await tx.insert('role', role('new'));
            await tx.delete('role', role('keep').id);
            await tx.appendAudit([
              { time: 1, requestId: 'req-rollback', action: 'iam:CreateRole', decision: 'allow' },
            ]);
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.deepEqual(await store.getVersioned('role', role('keep').id), { record: role('keep'), rev: 1 });
        assert.equal(await store.get('role', role('new').id), undefined);
        assert.equal(await store.getBy('role', 'arn', role('new').arn), undefined);
        assert.equal(await store.latestChange(), seq);
        assert.deepEqual(await store.queryAudit({ requestId: 'req-rollback' }), []);
      }));

    test('a conflict inside a transaction can be caught and the transaction still commits its other writes', () =>
      withStore(factory, async (store) => {
        await store.insert('role', role('taken'));
        await store.transaction(async (tx) => {
          await tx.insert('role', role('fresh'));
          await assert.rejects(
            tx.insert('role', role('taken', { id: 'AROADIFFERENT000001' })),
            conflict('exists', 'accountName'),
          );
          await tx.insert('role', role('after'));
        });
        assert.equal(await store.count('role'), 3);
        assert.equal(await store.get('role', 'AROADIFFERENT000001'), undefined);
      }));

    test('a transaction handle is dead once the transaction ends', () =>
      withStore(factory, async (store) => {
        let leaked: Parameters<Parameters<Store['transaction']>[0]>[0] | undefined;
        await store.transaction(async (tx) => {
          leaked = tx;
        });
        assert.ok(leaked);
        await assert.rejects(leaked.insert('role', role('late')));
        assert.equal(await store.count('role'), 0);
      }));

    test('concurrent read-modify-write transactions with retry on stale lose no update', () =>
      withStore(factory, async (store) => {
        await store.insert('organization', org('org-c', 'counter'));
        const bump = async (): Promise<void> => {
          for (;;) {
            try {
              await store.transaction(async (tx) => {
                const current = await tx.getVersioned('organization', 'org-c');
                assert.ok(current);
                const next = {
                  ...current.record,
                  maxPhaseTimeoutSeconds: current.record.maxPhaseTimeoutSeconds + 1,
                };
                await tx.update('organization', next, current.rev);
              });
              return;
            } catch (err) {
              if (!(err instanceof StoreConflictError && err.reason === 'stale')) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: 10 }, bump));
        assert.equal((await store.get('organization', 'org-c'))?.maxPhaseTimeoutSeconds, 86_410);
      }));

    test('read-modify-write transactions without expectRev lose no update: a lost race is reported stale', () =>
      withStore(factory, async (store) => {
        await store.insert('organization', org('org-r', 'racy'));
        const bump = async (): Promise<void> => {
          for (;;) {
            try {
              await store.transaction(async (tx) => {
                const current = await tx.get('organization', 'org-r');
                assert.ok(current);
                await tx.update('organization', {
                  ...current,
                  maxPhaseTimeoutSeconds: current.maxPhaseTimeoutSeconds + 1,
                });
              });
              return;
            } catch (err) {
              if (!(err instanceof StoreConflictError && err.reason === 'stale')) throw err;
            }
          }
        };
        await Promise.all(Array.from({ length: 8 }, bump));
        assert.equal((await store.get('organization', 'org-r'))?.maxPhaseTimeoutSeconds, 86_408);
      }));

    test('the change feed lists every committed write in order with its op', () =>
      withStore(factory, async (store) => {
        const start = await store.latestChange();
        await store.insert('role', role('c1'));
        await store.update('role', { ...role('c1'), description: 'd' });
        await store.delete('role', role('c1').id);
        await store.put('organization', org('org-f', 'feed'));
        const changes = await store.changesSince(start);
        assert.deepEqual(
          changes.map((c) => [c.kind, c.id, c.op]),
          [
            ['role', role('c1').id, 'put'],
            ['role', role('c1').id, 'put'],
            ['role', role('c1').id, 'delete'],
            ['organization', 'org-f', 'put'],
          ],
        );
        const seqs = changes.map((c) => c.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((a, b) => a - b),
        );
        assert.equal(await store.latestChange(), seqs.at(-1));
        assert.equal((await store.changesSince(seqs[1] ?? 0, 1)).length, 1);
      }));

    test('the change feed is trimmed only behind every live reader, and the trimmed point is kept', () =>
      withStore(factory, async (store) => {
        for (const name of ['t1', 't2', 't3', 't4', 't5']) await store.insert('role', role(name));
        const seqs = (await store.changesSince(0)).map((c) => c.seq);
        const [s1, s2, s3, s4, s5] = seqs as [number, number, number, number, number];
        // No reader has said where it is: nothing may go.
        assert.equal(await store.trimChanges(0, 1000), 0);
        assert.equal(await store.feedFloor(), 0);
        await store.markFeedRead('node-a', s4, 1_000);
        await store.markFeedRead('node-b', s2, 1_000);
        // Up to the slowest reader (node-b), never into the latest `keep`, at most `limit` rows per call.
        assert.equal(await store.trimChanges(500, 1000, s5 - s1 + 1), 0);
        assert.equal(await store.trimChanges(500, 1), 1);
        assert.equal(await store.feedFloor(), s1);
        assert.equal(await store.trimChanges(500, 1000), 1);
        assert.equal(await store.feedFloor(), s2);
        assert.deepEqual(
          (await store.changesSince(0)).map((c) => c.seq),
          [s3, s4, s5],
        );
        // node-b moves on; node-a stops heartbeating and, once stale, holds nothing back.
        await store.markFeedRead('node-b', s5, 2_000);
        assert.equal(await store.trimChanges(500, 1000), 2, 'up to node-a while it is live');
        assert.equal(await store.feedFloor(), s4);
        assert.equal(await store.trimChanges(1_500, 1000), 1, 'node-a is stale: up to node-b');
        assert.equal(await store.feedFloor(), s5);
        // Everything trimmed: the latest seq is still the last one written, and the next write follows it.
        assert.deepEqual(await store.changesSince(0), []);
        assert.equal(await store.latestChange(), s5);
        await store.insert('role', role('t6'));
        const [next] = await store.changesSince(s5);
        assert.ok(next && next.seq > s5);
        assert.equal(await store.latestChange(), next.seq);
        // A reader that leaves holds nothing back either; with no reader left nothing goes.
        await store.leaveFeed('node-b');
        assert.equal(await store.trimChanges(0, 1000), 0);
        assert.equal((await store.changesSince(s5)).length, 1);
        // The floor never moves back.
        await store.markFeedRead('node-c', s1, 3_000);
        assert.equal(await store.trimChanges(0, 1000), 0);
        assert.equal(await store.feedFloor(), s5);
      }));

    test('pruneAudit deletes the oldest events before a time, at most `limit` per call, and nothing newer', () =>
      withStore(factory, async (store) => {
        const at = (time: number, requestId: string) =>
          ({ time, requestId, action: 'sts:GetCallerIdentity', decision: 'allow' }) as const;
        // Appended out of time order (two nodes' clocks): the prune goes by time, not by seq.
        await store.appendAudit([at(300, 'r3'), at(100, 'r1'), at(200, 'r2'), at(400, 'r4')]);
        assert.equal(await store.pruneAudit(50, 10), 0);
        assert.equal(await store.pruneAudit(350, 1), 1);
        assert.deepEqual(
          (await store.queryAudit({})).map((e) => e.requestId),
          ['r3', 'r2', 'r4'],
          'the oldest went first',
        );
        assert.equal(await store.pruneAudit(350, 10), 2);
        assert.equal(await store.pruneAudit(350, 10), 0);
        assert.deepEqual(
          (await store.queryAudit({})).map((e) => e.requestId),
          ['r4'],
        );
      }));

    test('audit events append with increasing seq and are filtered by run, role, decision, time and seq', () =>
      withStore(factory, async (store) => {
        await store.appendAudit([
          {
            time: 100,
            requestId: 'r1',
            action: 'sts:AssumeRoleWithWebIdentity',
            decision: 'allow',
            runId: 'run-1',
            roleArn: 'arn:aws:iam::1:role/a',
            jti: 'j1',
          },
          {
            time: 200,
            requestId: 'r2',
            action: 'sts:AssumeRoleWithWebIdentity',
            decision: 'deny',
            runId: 'run-1',
            reasonCode: 'AccessDenied',
            detail: { layer: 'trust', nested: { n: 1 } },
          },
          { time: 300, requestId: 'r3', action: 'iam:CreateRole', decision: 'allow', workspaceId: 'ws-1' },
        ]);
        await store.appendAudit([]);
        const all = await store.queryAudit({});
        assert.equal(all.length, 3);
        const seqs = all.map((e) => e.seq ?? -1);
        assert.ok((seqs[0] ?? 0) < (seqs[1] ?? 0) && (seqs[1] ?? 0) < (seqs[2] ?? 0));
        assert.deepEqual(
          (await store.queryAudit({ runId: 'run-1' })).map((e) => e.requestId),
          ['r1', 'r2'],
        );
        assert.deepEqual((await store.queryAudit({ decision: 'deny' }))[0]?.detail, {
          layer: 'trust',
          nested: { n: 1 },
        });
        assert.deepEqual(
          (await store.queryAudit({ since: 200, until: 300 })).map((e) => e.requestId),
          ['r2'],
        );
        assert.deepEqual(
          (await store.queryAudit({ afterSeq: seqs[0] ?? 0, limit: 1 })).map((e) => e.requestId),
          ['r2'],
        );
        assert.deepEqual(
          (await store.queryAudit({ latest: true, limit: 2 })).map((e) => e.requestId),
          ['r2', 'r3'],
          'latest: the newest page, oldest first',
        );
        assert.deepEqual(
          (await store.queryAudit({ latest: true, runId: 'run-1', limit: 1 })).map((e) => e.requestId),
          ['r2'],
        );
        assert.equal((await store.queryAudit({ roleArn: 'arn:aws:iam::1:role/a' }))[0]?.jti, 'j1');
        assert.equal((await store.queryAudit({ workspaceId: 'ws-1', action: 'iam:CreateRole' })).length, 1);
      }));

    test('data survives closing and reopening; a second connection sees writes and shares uniqueness', async () => {
      const store = await factory.fresh();
      try {
        await store.insert('role', role('durable'));
        const second = await factory.reopen(store);
        try {
          assert.equal((await second.get('role', role('durable').id))?.name, 'durable');
          await assert.rejects(
            second.insert('role', role('DURABLE', { id: 'AROAOTHERNODE000001' })),
            conflict('exists'),
          );
          await second.insert('role', role('from-second'));
          assert.equal((await store.get('role', role('from-second').id))?.name, 'from-second');
        } finally {
          await second.close();
        }
        await store.close();
        const again = await factory.reopen(store);
        try {
          assert.equal(await again.count('role'), 2);
          assert.equal(await again.schemaVersion(), LATEST_VERSION);
        } finally {
          await again.close();
        }
      } finally {
        await store.close();
      }
    });
  });
}
