// Every refused use of a credential is traceable. Over real HTTP: a session used after its run was
// revoked, an expired session, a wrong signature, a clock far off, a made-up token and an unknown
// key are refused with AWS's errors, and each audit event names what the server could establish
// (access key id, session, role, account, run, phase, jti) and why; `gatepass audit --run` lists
// the attempts made after the run ended; `gatepass explain <request-id>` tells the story. Never a
// secret or a token in any of it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { systemClock } from '../../src/runtime/clock.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { cli, golden } from '../explain/helpers.js';
import { tweak } from '../helpers/aws.js';
import { pick, type RawResponse, type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const V = '2011-06-15';
const GCI = { Action: 'GetCallerIdentity', Version: V };
const vectors = new URL('../vectors/explain/refused/', import.meta.url).pathname;

/** The one audit event of a refused request, once committed. */
async function eventOf(r: RawResponse): Promise<AuditEvent> {
  const requestId = String(r.headers['x-amzn-requestid']);
  await w.fx.cloud.flushAudit();
  const events = await w.fx.app.store.queryAudit({ requestId });
  assert.equal(events.length, 1, JSON.stringify(events));
  return events[0] as AuditEvent;
}

/** Nothing secret of these credentials (or tokens) anywhere in `text`. */
function noSecrets(text: string, ...secrets: string[]): void {
  for (const s of secrets) if (s) assert.ok(!text.includes(s), 'a secret or token leaked into the trail');
  assert.doesNotMatch(text, /GP1\.\d+\.[A-Za-z0-9_-]{20,}/, 'a session token');
  assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, 'a JWT');
}

/** Every field of `expected` is in `actual` with the same value (recursively). */
function assertSubset(actual: unknown, expected: Record<string, unknown>): void {
  const a = (actual ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(expected)) {
    if (v && typeof v === 'object') assertSubset(a[k], v as Record<string, unknown>);
    else assert.equal(a[k], v, k);
  }
}

const why = (e: AuditEvent): Record<string, unknown> => (e.detail?.refusal ?? {}) as Record<string, unknown>;

test('a session used after its run was revoked: the event names key, session, role, account, run, phase, jti and when the run ended', async () => {
  const runId = 'run-trace-ended-1';
  const claims = { terraform_run_id: runId, terraform_run_phase: 'plan', jti: 'jti-trace-ended-1' };
  const keys = await w.session(claims);
  const token = await w.token(claims);
  const revoked = await w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: token });
  assert.equal(revoked.status, 200, revoked.body);
  const endedAt = systemClock.now();

  const r = await w.signed(keys, GCI);
  assert.deepEqual([r.status, pick(r.body, 'Code')], [403, 'InvalidClientTokenId']);
  assert.equal(pick(r.body, 'Message'), 'The security token included in the request is invalid.');
  const e = await eventOf(r);
  assert.equal(e.decision, 'deny');
  assert.equal(e.accessKeyId, keys.accessKeyId);
  assert.match(e.sessionId ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(e.roleArn, w.roleArn('web'));
  assert.equal(e.accountId, w.fx.accountId);
  assert.equal(e.caller, `arn:aws:sts::${w.fx.accountId}:assumed-role/web/world`);
  assert.deepEqual([e.runId, e.phase, e.jti], [runId, 'plan', 'jti-trace-ended-1']);
  assert.equal(why(e).kind, 'revoked');
  assert.equal(why(e).scope, 'run');
  assert.equal(why(e).subject, runId);
  assert.ok(Number(why(e).revokedAt) <= endedAt);
  assert.match(
    String(e.detail?.explanation),
    new RegExp(
      `^the session was revoked with its run ${runId} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: run ended$`,
    ),
  );
  noSecrets(JSON.stringify(e), keys.secretAccessKey, keys.sessionToken ?? '', token);

  // A chained session of the run is named the same way, with its own session id.
  const audit = await cli(['audit', '--run', runId, '--json', '--data-dir', w.fx.dataDir]);
  assert.equal(audit.code, 0, audit.stderr);
  const listed = audit.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditEvent);
  const revocation = listed.find((x) => x.action === 'sts:RevokeRun');
  assert.ok(revocation, 'the run ending is listed');
  const after = listed.filter((x) => x.time >= revocation.time && x.decision === 'deny');
  assert.deepEqual(
    after.map((x) => [x.requestId, x.accessKeyId]),
    [[e.requestId, keys.accessKeyId]],
    'the attempt after the run ended is listed under the run',
  );
  noSecrets(audit.stdout, keys.secretAccessKey, keys.sessionToken ?? '', token);

  const explained = await cli(['explain', e.requestId, '--data-dir', w.fx.dataDir]);
  assert.equal(explained.code, 0, explained.stderr);
  noSecrets(explained.stdout, keys.secretAccessKey, keys.sessionToken ?? '', token);
  await golden(
    `${vectors}session-after-run-ended.txt`,
    explained.stdout
      .replaceAll(e.requestId, '<request>')
      .replaceAll(w.fx.accountId, '<account>')
      .replaceAll(keys.accessKeyId, 'ASIA<key>')
      .replaceAll(e.sessionId ?? '', '<session>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, '<time>')
      .replace(/"revokedAt":\d+/g, '"revokedAt":<ms>'),
  );
});

interface Case {
  name: string;
  run: () => Promise<{ r: RawResponse; secrets: string[]; keyId: string }>;
  code: string;
  refusal: Record<string, unknown>;
  /** Whether the session token opened, so the session is named. */
  session: boolean;
  explanation: RegExp;
}

const CASES: Case[] = [
  {
    name: 'an expired session',
    run: async () => {
      const k = await w.expiredSession();
      return {
        r: await w.signed(k, GCI),
        secrets: [k.secretAccessKey, k.sessionToken ?? ''],
        keyId: k.accessKeyId,
      };
    },
    code: 'ExpiredToken',
    refusal: { kind: 'expired' },
    session: true,
    explanation: /^the session expired at \d{4}-/,
  },
  {
    name: 'a live session signing with a wrong secret',
    run: async () => {
      const k = await w.session({ terraform_run_id: 'run-trace-sig', terraform_run_phase: 'apply' });
      const bad = { ...k, secretAccessKey: tweak(k.secretAccessKey, 3) };
      return {
        r: await w.signed(bad, GCI),
        secrets: [k.secretAccessKey, bad.secretAccessKey, k.sessionToken ?? ''],
        keyId: k.accessKeyId,
      };
    },
    code: 'SignatureDoesNotMatch',
    refusal: { kind: 'signature', failure: { kind: 'signature-mismatch' } },
    session: true,
    explanation: /^wrong signature: /,
  },
  {
    name: 'a live session on a clock 20 minutes slow',
    run: async () => {
      const k = await w.session();
      const r = await w.signed(k, GCI, { dateMs: systemClock.now() - 20 * 60_000 });
      return { r, secrets: [k.secretAccessKey, k.sessionToken ?? ''], keyId: k.accessKeyId };
    },
    code: 'SignatureDoesNotMatch',
    refusal: { kind: 'signature' },
    session: false,
    explanation: /more than 15 minutes before the server time/,
  },
  {
    name: "one session's key id with another session's token",
    run: async () => {
      const a = await w.session();
      const b = await w.session();
      const r = await w.signed({ ...a, sessionToken: b.sessionToken ?? '' }, GCI);
      return {
        r,
        secrets: [a.secretAccessKey, b.secretAccessKey, b.sessionToken ?? ''],
        keyId: a.accessKeyId,
      };
    },
    code: 'InvalidClientTokenId',
    refusal: { kind: 'session-token-invalid' },
    session: false,
    explanation: /^the session token is not one this deployment sealed/,
  },
  {
    name: 'an access key that does not exist',
    run: async () => {
      const k = { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) };
      return { r: await w.signed(k, GCI), secrets: [k.secretAccessKey], keyId: k.accessKeyId };
    },
    code: 'InvalidClientTokenId',
    refusal: { kind: 'access-key-unknown' },
    session: false,
    explanation: /^no such access key/,
  },
];

for (const c of CASES) {
  test(`${c.name}: ${c.code}, and the event names the key${c.session ? ', session and role' : ''} and why`, async () => {
    const { r, secrets, keyId } = await c.run();
    assert.equal(pick(r.body, 'Code'), c.code, pick(r.body, 'Message'));
    const e = await eventOf(r);
    assert.equal(e.reasonCode, c.code);
    assert.equal(e.accessKeyId, keyId);
    assert.equal(e.sessionId !== undefined && e.roleArn !== undefined, c.session, JSON.stringify(e));
    assertSubset(why(e), c.refusal);
    assert.match(String(e.detail?.explanation), c.explanation);
    noSecrets(JSON.stringify(e), ...secrets);
  });
}

test('a call refused after its signature verified (a malformed parameter) names the verified caller: key, session, role, account, run, phase, jti', async () => {
  const claims = {
    terraform_run_id: 'run-trace-param-1',
    terraform_run_phase: 'apply',
    jti: 'jti-trace-param-1',
  };
  const keys = await w.session(claims);
  const r = await w.signed(keys, {
    Action: 'AssumeRole',
    Version: V,
    RoleArn: w.roleArn('web'),
    RoleSessionName: 'not a session name!',
  });
  assert.deepEqual([r.status, pick(r.body, 'Code')], [400, 'ValidationError']);
  const e = await eventOf(r);
  assert.equal(e.decision, 'deny');
  assert.equal(e.reasonCode, 'ValidationError');
  assert.equal(e.accessKeyId, keys.accessKeyId);
  assert.equal(e.caller, `arn:aws:sts::${w.fx.accountId}:assumed-role/web/world`);
  assert.equal(e.roleArn, w.roleArn('web'));
  assert.equal(e.accountId, w.fx.accountId);
  assert.match(e.sessionId ?? '', /^[0-9a-f-]{36}$/);
  assert.deepEqual([e.runId, e.phase, e.jti], ['run-trace-param-1', 'apply', 'jti-trace-param-1']);
  noSecrets(JSON.stringify(e), keys.secretAccessKey, keys.sessionToken ?? '');
});
