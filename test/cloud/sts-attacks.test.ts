// The STS attack suite (test/vectors/sts/attacks.json) against a running node over HTTP: forged,
// expired, misdirected and oversized tokens, JWKS over plain http or an untrusted certificate,
// tampered and replayed signatures, borrowed, revoked and ended sessions. Each attack must be
// refused with its AWS code and status, issue nothing, and leave a denial audit event that holds
// neither the token nor a secret. The last test reports the count.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { after, before, test } from 'node:test';
import { openSession } from '../../src/cloud/sessions/credentials.js';
import { revocationId } from '../../src/cloud/sessions/revocations.js';
import type { Keys } from '../helpers/cloud.js';
import { AUD, keysFrom, pick, type RawResponse, type StsWorld, SUB, startStsWorld } from './sts-world.js';

interface Attack {
  attack: string;
  name: string;
  code: string;
  status: number;
}

const suite = JSON.parse(readFileSync(new URL('../vectors/sts/attacks.json', import.meta.url), 'utf8')) as {
  attacks: Attack[];
};
const V = '2011-06-15';
let w: StsWorld;
const tally = { attacks: 0, rejected: 0, issued: 0 };

before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);
const gci = { Action: 'GetCallerIdentity', Version: V };

function publicJwks(): Promise<{ keys: JsonWebKey[] }> {
  return new Promise((resolve, reject) => {
    get(`${w.idp.issuer}/.well-known/jwks`, { ca: w.fx.pki.caPem }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      res.on('end', () => resolve(JSON.parse(text) as { keys: JsonWebKey[] }));
    }).on('error', reject);
  });
}

const withToken = async (token: string, role = 'web'): Promise<RawResponse> =>
  w.webIdentity({ RoleArn: w.roleArn(role), WebIdentityToken: token });

const sessionId = (k: Keys): string => {
  const opened = openSession(w.fx.cloud.keys, k.accessKeyId, k.sessionToken ?? '');
  assert.ok(opened, 'a session this node issued opens');
  return opened.claims.sid;
};

/** Each builder returns the refused responses, plus the secrets that must appear in no audit event. */
const attacks: Record<string, () => Promise<{ responses: RawResponse[]; secrets: string[] }>> = {
  'alg-none': async () => {
    const t = `${b64({ alg: 'none', kid: 'k1', typ: 'JWT' })}.${b64(w.idp.claims({ sub: SUB }))}.`;
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'hs256-public-key': async () => {
    const jwk = (await publicJwks()).keys[0];
    assert.ok(jwk);
    const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const head = `${b64({ alg: 'HS256', kid: 'k1', typ: 'JWT' })}.${b64(w.idp.claims({ sub: SUB }))}`;
    const t = `${head}.${createHmac('sha256', pem).update(head).digest('base64url')}`;
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'empty-signature': async () => {
    const t = (await w.token()).replace(/\.[^.]+$/, '.');
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'unknown-kid': async () => {
    const t = await w.idp.sign(w.idp.claims({ sub: SUB }), { header: { kid: 'not-published' } });
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'other-issuer-key': async () => {
    const t = await w.stranger.sign(w.idp.claims({ sub: SUB }), { kid: 'k1' });
    return { responses: [await withToken(t)], secrets: [t] };
  },
  expired: async () => {
    const t = await w.token({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 });
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'nbf-future': async () => {
    const t = await w.token({ nbf: now() + 3600, exp: now() + 7200 });
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'wrong-iss': async () => {
    const t = await w.token({}, w.stranger);
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'wrong-aud': async () => {
    const t = await w.token({ aud: 'sts.amazonaws.com' });
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'oversized-token': async () => {
    const t = await w.token({ padding: 'x'.repeat(20_000) });
    assert.ok(t.length > 20_000);
    return { responses: [await withToken(t)], secrets: [t] };
  },
  'jwks-plain-http': async () => {
    const t = await w.token({}, w.httpIdp);
    return { responses: [await withToken(t, 'web-http')], secrets: [t] };
  },
  'untrusted-certificate': async () => {
    const t = await w.token({}, w.untrusted);
    return { responses: [await withToken(t, 'web-untrusted')], secrets: [t] };
  },
  'tampered-body': async () => {
    const k = await w.session();
    const r = await w.signed(
      k,
      {
        Action: 'AssumeRole',
        Version: V,
        RoleArn: w.roleArn('target', w.memberId),
        RoleSessionName: 'asked',
      },
      {
        tamper: (req) => {
          req.body = req.body.replace('RoleSessionName=asked', 'RoleSessionName=other');
        },
      },
    );
    return { responses: [r], secrets: [k.secretAccessKey, k.sessionToken ?? ''] };
  },
  'tampered-header': async () => {
    const k = await w.session();
    const r = await w.signed(k, gci, {
      headers: { 'x-amz-meta-run': 'plan' },
      tamper: (req) => {
        req.headers['x-amz-meta-run'] = 'apply';
      },
    });
    return { responses: [r], secrets: [k.secretAccessKey, k.sessionToken ?? ''] };
  },
  'tampered-date': async () => {
    const k = await w.session();
    const r = await w.signed(k, gci, {
      tamper: (req) => {
        const d = req.headers['x-amz-date'] ?? '';
        const s = Number(d.slice(13, 15));
        req.headers['x-amz-date'] = `${d.slice(0, 13)}${String((s + 1) % 60).padStart(2, '0')}Z`;
      },
    });
    return { responses: [r], secrets: [k.secretAccessKey, k.sessionToken ?? ''] };
  },
  'replay-outside-skew': async () => {
    const k = await w.session();
    const r = await w.signed(k, gci, { dateMs: Date.now() - 16 * 60_000 });
    return { responses: [r], secrets: [k.secretAccessKey, k.sessionToken ?? ''] };
  },
  'another-sessions-token': async () => {
    const a = await w.session();
    const b = await w.session();
    const r = await w.signed({ ...a, sessionToken: b.sessionToken ?? '' }, gci);
    return { responses: [r], secrets: [a.secretAccessKey, b.secretAccessKey, b.sessionToken ?? ''] };
  },
  'revoked-session': async () => {
    const k = await w.session();
    assert.equal((await w.signed(k, gci)).status, 200);
    const sid = sessionId(k);
    await w.fx.cloud.revocations.revoke({
      id: revocationId('session', sid),
      scope: 'session',
      subject: sid,
      createdAt: Date.now(),
      expiresAt: Date.now() + 43_200_000,
      reason: 'attack suite',
    });
    return { responses: [await w.signed(k, gci)], secrets: [k.secretAccessKey, k.sessionToken ?? ''] };
  },
  'revoked-role-older-sessions': async () => {
    const k = await w.adminSession('older');
    const arn = w.roleArn('tagged');
    // "Revoke older sessions": everything issued up to the next second.
    await w.fx.cloud.revocations.revoke({
      id: revocationId('role', arn),
      scope: 'role',
      subject: arn,
      issuedBefore: (now() + 1) * 1000,
      createdAt: Date.now(),
      expiresAt: Date.now() + 43_200_000,
      reason: 'attack suite',
    });
    return { responses: [await w.signed(k, gci)], secrets: [k.secretAccessKey, k.sessionToken ?? ''] };
  },
  'session-after-run-ended': async () => {
    const run = { terraform_run_id: 'run-attack-ended' };
    const k = await w.session(run);
    const chained = await w.signed(k, {
      Action: 'AssumeRole',
      Version: V,
      RoleArn: w.roleArn('target', w.memberId),
      RoleSessionName: 'chained',
    });
    assert.equal(chained.status, 200, pick(chained.body, 'Message'));
    const c = keysFrom(chained.body);
    const ended = await w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: await w.token(run) });
    assert.equal(ended.status, 200);
    return {
      responses: [await w.signed(k, gci), await w.signed(c, gci)],
      secrets: [k.secretAccessKey, k.sessionToken ?? '', c.secretAccessKey, c.sessionToken ?? ''],
    };
  },
  'token-after-run-ended': async () => {
    const run = { terraform_run_id: 'run-attack-token' };
    const t = await w.token(run);
    assert.equal((await w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: t })).status, 200);
    return { responses: [await withToken(t)], secrets: [t] };
  },
};

test('every attack in the vectors has a builder and every builder a vector', () => {
  assert.deepEqual(suite.attacks.map((a) => a.attack).sort(), Object.keys(attacks).sort());
});

for (const a of suite.attacks) {
  test(`attack: ${a.name} → ${a.code} ${a.status}, nothing issued, denial audited`, async () => {
    tally.attacks++;
    // Setting up the attack may legitimately issue sessions; count issuances after it, around the attack.
    const build = attacks[a.attack];
    assert.ok(build, a.attack);
    const before = await w.audit();
    const issuedBefore = before.filter(
      (e) => e.decision === 'allow' && e.action.startsWith('sts:Assume'),
    ).length;
    const { responses, secrets } = await build();
    const events = await w.audit();
    const fresh = events.filter((e) => (e.seq ?? 0) > Math.max(0, ...before.map((b) => b.seq ?? 0)));
    let rejected = 0;
    for (const r of responses) {
      assert.equal(pick(r.body, 'Code'), a.code, `${a.attack}: ${pick(r.body, 'Message')}`);
      assert.equal(r.status, a.status);
      assert.doesNotMatch(r.body, /<Credentials>|AccessKeyId/);
      const requestId = String(r.headers['x-amzn-requestid']);
      const denial = fresh.find((e) => e.requestId === requestId);
      assert.ok(denial, `${a.attack}: a denial audit event for ${requestId}`);
      assert.equal(denial.decision, 'deny');
      assert.equal(denial.reasonCode, a.code);
      rejected++;
    }
    // Issuances during the build are setup (sessions to attack with), never the refused requests.
    const issuedAfter = events.filter((e) => e.decision === 'allow' && e.action.startsWith('sts:Assume'));
    const refusedIds = new Set(responses.map((r) => String(r.headers['x-amzn-requestid'])));
    assert.equal(
      issuedAfter.filter((e) => refusedIds.has(e.requestId)).length,
      0,
      `${a.attack}: no issuance for a refused request`,
    );
    assert.ok(issuedAfter.length >= issuedBefore);
    const recorded = JSON.stringify(fresh);
    for (const s of secrets.filter((x) => x.length > 0)) {
      assert.ok(!recorded.includes(s), `${a.attack}: the audit trail holds no token or secret`);
      assert.ok(!recorded.includes(s.split('.')[2] || s), `${a.attack}: not even a token's signature`);
    }
    tally.rejected += rejected === responses.length ? 1 : 0;
  });
}

test('refused web identity calls leave no session behind: the issuance count equals the successful calls', async () => {
  const events = await w.audit();
  const issued = events.filter((e) => e.decision === 'allow' && e.action.startsWith('sts:Assume'));
  const denials = new Set(events.filter((e) => e.decision === 'deny').map((e) => e.requestId));
  tally.issued = issued.filter((e) => denials.has(e.requestId)).length;
  assert.equal(tally.issued, 0);
  assert.equal(
    events
      .filter((e) => e.sub !== undefined && e.aud !== undefined && e.decision === 'allow')
      .every((e) => e.aud === AUD),
    true,
  );
});

test('attack suite summary: every attack rejected, none issued', (t) => {
  assert.equal(tally.attacks, suite.attacks.length);
  assert.equal(tally.rejected, tally.attacks);
  assert.equal(tally.issued, 0);
  t.diagnostic(`attack suite: ${tally.attacks} attacks, ${tally.rejected} rejected, ${tally.issued} issued`);
});
