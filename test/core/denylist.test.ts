// The deny list's content: what a gatepass-managed SCP holds, how entries are bucketed, pruned and
// spread over policies within AWS's 5,120-character SCP limit, and what happens when it is full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BUCKET_MS,
  bucketEnd,
  DenyListError,
  denies,
  parseDenyList,
  planAdd,
  policySize,
  renderDenyList,
  SCP_MAX_CHARS,
} from '../../src/core/denylist.js';
import { hcpId } from '../../src/core/ids.js';
import { parsePolicy } from '../../src/core/policy/index.js';
import { seededRandom } from '../../src/runtime/random.js';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const REVOKER = 'arn:aws:iam::222233334444:role/gatepass-revoker';
const O = { exempt: [REVOKER] };
const EMPTY = renderDenyList(new Map(), O);
const random = seededRandom(19);
const runId = () => hcpId(random, 'run');

/** Apply a plan to the contents, as the writer does. */
function apply(contents: string[], plan: { index: number; content: string }[]): string[] {
  const out = [...contents];
  for (const w of plan) out[w.index] = w.content;
  return out;
}

test('an empty deny list is a valid SCP whose one statement can match no session', () => {
  const p = parsePolicy(EMPTY, 'scp');
  assert.equal(p.statements.length, 1);
  assert.equal(p.statements[0]?.effect, 'Deny');
  // The value has spaces: no source identity can carry it.
  assert.match(EMPTY, /"aws:SourceIdentity":"gatepass deny list is empty"/);
  assert.equal(parseDenyList(EMPTY).size, 0);
});

test('a run is added to its expiry bucket (Sid names the bucket end), exempting the revoker role, and reads back', () => {
  const id = runId();
  const until = T0 + 90 * 60_000;
  const [w] = planAdd([EMPTY], { runId: id, until }, T0, O);
  assert.equal(w?.index, 0);
  const doc = JSON.parse(w?.content ?? '') as { Statement: Record<string, unknown>[] };
  assert.equal(doc.Statement[0]?.Sid, `GatepassDenyUntil${bucketEnd(until) / 1000}`);
  assert.deepEqual(doc.Statement[0]?.Condition, {
    StringEquals: { 'aws:SourceIdentity': id },
    ArnNotLike: { 'aws:PrincipalArn': REVOKER },
  });
  parsePolicy(w?.content ?? '', 'scp');
  assert.ok(denies(w?.content ?? '', { runId: id, until }));
  assert.ok(!denies(w?.content ?? '', { runId: runId(), until }));
  // Adding it again changes nothing: no write planned.
  assert.deepEqual(planAdd([w?.content ?? ''], { runId: id, until }, T0, O), []);
});

test("a phase entry denies the run's sessions on the phase's roles only, beside a whole-run entry", () => {
  const id = runId();
  const roles = ['arn:aws:iam::111111111111:role/gp-plan', 'arn:aws:iam::333333333333:role/reader'];
  let contents = [EMPTY];
  contents = apply(contents, planAdd(contents, { runId: id, roles, until: T0 }, T0 - 1, O));
  const doc = JSON.parse(contents[0] ?? '') as {
    Statement: { Sid: string; Condition: Record<string, unknown> }[];
  };
  assert.match(doc.Statement[0]?.Sid ?? '', /^GatepassDenyUntil\d+R0$/);
  assert.deepEqual(doc.Statement[0]?.Condition.ArnLike, { 'aws:PrincipalArn': roles });
  assert.ok(denies(contents[0] ?? '', { runId: id, roles, until: T0 }));
  assert.ok(
    !denies(contents[0] ?? '', { runId: id, until: T0 }),
    'the whole run is not denied by a phase entry',
  );
  contents = apply(contents, planAdd(contents, { runId: id, until: T0 }, T0 - 1, O));
  assert.ok(denies(contents[0] ?? '', { runId: id, until: T0 }));
  assert.equal(parseDenyList(contents[0] ?? '').size, 2);
  parsePolicy(contents[0] ?? '', 'scp');
});

test('entries are pruned once their bucket has ended: every session of those runs has expired anyway', () => {
  const old = runId();
  const fresh = runId();
  let contents = [EMPTY];
  contents = apply(contents, planAdd(contents, { runId: old, until: T0 }, T0 - 10, O));
  assert.equal(parseDenyList(contents[0] ?? '').size, 1);
  // Still in force one millisecond before its bucket ends.
  contents = apply(
    contents,
    planAdd(contents, { runId: fresh, until: T0 + 5 * BUCKET_MS }, bucketEnd(T0) - 1, O),
  );
  assert.deepEqual(
    [...parseDenyList(contents[0] ?? '').values()].map((e) => e.runId).sort(),
    [fresh, old].sort(),
  );
  // At its bucket end it goes, on the next write.
  contents = apply(
    contents,
    planAdd(contents, { runId: runId(), until: T0 + 5 * BUCKET_MS }, bucketEnd(T0), O),
  );
  const left = [...parseDenyList(contents[0] ?? '').values()].map((e) => e.runId);
  assert.ok(!left.includes(old));
  assert.ok(left.includes(fresh));
});

test('a policy gatepass did not write is refused, never overwritten', () => {
  const foreign = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'DenyLeaveOrg', Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' },
    ],
  });
  assert.throws(
    () => planAdd([foreign], { runId: runId(), until: T0 }, T0, O),
    (e: unknown) => e instanceof DenyListError && e.code === 'NotDenyList',
  );
  assert.throws(
    () => planAdd([EMPTY], { runId: 'run with spaces', until: T0 }, T0, O),
    (e: unknown) => e instanceof DenyListError && e.code === 'BadRunId',
  );
});

/**
 * Fill `policies` deny lists until Full; returns the count. Run `count` expires in bucket
 * `bucketOf(count)`.
 */
function fill(
  policies: number,
  bucketOf: (count: number) => number,
): { count: number; contents: string[]; error: DenyListError } {
  let contents = Array.from({ length: policies }, () => EMPTY);
  for (let count = 0; ; count++) {
    const until = T0 + bucketOf(count) * BUCKET_MS;
    try {
      contents = apply(contents, planAdd(contents, { runId: runId(), until }, T0 - 1, O));
    } catch (err) {
      assert.ok(err instanceof DenyListError);
      return { count, contents, error: err };
    }
    for (const c of contents) assert.ok(policySize(c) <= SCP_MAX_CHARS, 'never over the SCP limit');
  }
}

test('capacity: runs spill into the next policy, every policy stays valid under 5,120 characters, and past the last one the add fails loudly', () => {
  const one = fill(1, () => 0);
  const four = fill(4, () => 0);
  // Entries live about 13 hours past their run's last token, so about 15 hourly buckets are live at
  // once: revocations arriving in time order (50 an hour), and in the worst order (round robin).
  const hourly = fill(4, (n) => Math.floor(n / 50) % 15);
  const worst = fill(4, (n) => n % 15);
  // Figures for docs/real-aws.md (run ids of 20 characters, one revoker exemption).
  console.log(
    `deny list capacity: ${one.count} runs in one SCP (one bucket), ${four.count} in four; over 15 live buckets ${hourly.count} in time order, ${worst.count} in the worst order`,
  );
  assert.ok(one.count >= 150, `one policy holds ${one.count}`);
  assert.ok(four.count >= 4 * one.count - 4);
  assert.ok(hourly.count >= 600, `four policies over 15 buckets in time order hold ${hourly.count}`);
  assert.ok(worst.count >= 300, `four policies over 15 buckets in the worst order hold ${worst.count}`);
  for (const c of four.contents) parsePolicy(c, 'scp');
  assert.equal(four.error.code, 'Full');
  assert.match(
    four.error.message,
    new RegExp(`^the deny list is full: 4 policies hold ${four.count} revoked runs`),
  );
  // Pruning makes room again: an hour after the bucket ended, the next add fits.
  const after = planAdd(four.contents, { runId: runId(), until: T0 + 3 * BUCKET_MS }, bucketEnd(T0), O);
  assert.ok(after.length >= 1);
});
