// Golden responses from a running node: every STS action and every STS error the issue lists, over
// real HTTP, compared with test/vectors/query/live/*.xml after the values that change per run
// (request ids, keys, tokens, times, account ids) are replaced by named placeholders. The request id
// in the body must be the x-amzn-RequestId header; the status must be AWS's.
// Regenerate after an intended change: GATEPASS_GOLDEN_UPDATE=1 node scripts/run-tests.mjs <this file>
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { parseAmzDate } from '../../src/core/sigv4/index.js';
import { systemClock } from '../../src/runtime/clock.js';
import { tweak } from '../helpers/aws.js';
import { keysFrom, pick, type RawResponse, type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const V = '2011-06-15';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Replace what differs between runs by placeholders; shapes are checked by the patterns themselves. */
function normalise(xml: string): string {
  return (
    xml
      .replaceAll(w.fx.accountId, '{{AccountId}}')
      .replaceAll(w.memberId, '{{MemberId}}')
      .replaceAll(w.host, '{{Host}}')
      .replace(/ASIA[A-Z2-7]{16}/g, '{{AsiaKeyId}}')
      .replace(/AKIA[A-Z2-7]{16}/g, '{{AkiaKeyId}}')
      .replace(/AROA[A-Z2-7]{17}/g, '{{RoleId}}')
      .replace(/AIDA[A-Z2-7]{17}/g, '{{UserId}}')
      .replace(
        /<SecretAccessKey>[A-Za-z0-9+/]{40}<\/SecretAccessKey>/g,
        '<SecretAccessKey>{{Secret}}</SecretAccessKey>',
      )
      .replace(/GP1\.\d+\.[A-Za-z0-9_-]+/g, '{{SessionToken}}')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z/g, '{{Time}}')
      .replace(/\d{8}T\d{6}Z/g, '{{AmzDate}}')
      .replace(
        /Encoded authorization failure message: \d+\.[A-Za-z0-9_-]+/g,
        'Encoded authorization failure message: {{Encoded}}',
      )
      // Ids first: a random id can hold ten digits in a row, which are not an epoch.
      .replace(new RegExp(UUID, 'g'), '{{Uuid}}')
      .replace(/(?<!\d)\d{10}(?!\d)/g, '{{Epoch}}')
  );
}

async function check(file: string, r: RawResponse, status: number): Promise<void> {
  const requestId = r.headers['x-amzn-requestid'];
  assert.equal(typeof requestId, 'string');
  assert.equal(pick(r.body, 'RequestId'), requestId, 'body RequestId is the x-amzn-RequestId header');
  assert.equal(r.headers['content-type'], 'text/xml');
  const actual = normalise(
    r.body.replace(`<RequestId>${requestId}</RequestId>`, '<RequestId>{{RequestId}}</RequestId>'),
  );
  const path = new URL(`../vectors/query/live/${file}.xml`, import.meta.url);
  if (process.env.GATEPASS_GOLDEN_UPDATE === '1' || !existsSync(path)) {
    assert.ok(process.env.GATEPASS_GOLDEN_UPDATE === '1', `missing golden file ${file}.xml`);
    writeFileSync(path, `${actual.replace(/></g, '>\n<')}\n`);
  }
  const golden = readFileSync(path, 'utf8').replace(/>\s+</g, '><').trim();
  assert.equal(actual, golden);
  assert.equal(r.status, status, `${file}: status`);
}

const adminKeys = () => w.fx.admin;

test('AssumeRoleWithWebIdentity: golden response (200)', async () => {
  await check('AssumeRoleWithWebIdentity', await w.webIdentity(), 200);
});

test('AssumeRoleWithWebIdentity with a session policy reports PackedPolicySize (200)', async () => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: '*' }],
  });
  await check('AssumeRoleWithWebIdentity-packed', await w.webIdentity({ Policy: policy }), 200);
});

test('AssumeRole (chained into the member account, with a transitive tag): golden response (200)', async () => {
  const keys = await w.session();
  const r = await w.signed(keys, {
    Action: 'AssumeRole',
    Version: V,
    RoleArn: w.roleArn('target', w.memberId),
    RoleSessionName: 'chained',
    'Tags.member.1.Key': 'team',
    'Tags.member.1.Value': 'net',
    'TransitiveTagKeys.member.1': 'team',
  });
  await check('AssumeRole', r, 200);
});

test('GetCallerIdentity for a role session and for an IAM user: golden responses (200)', async () => {
  await check(
    'GetCallerIdentity-session',
    await w.signed(await w.session(), { Action: 'GetCallerIdentity', Version: V }),
    200,
  );
  await check(
    'GetCallerIdentity-user',
    await w.signed(adminKeys(), { Action: 'GetCallerIdentity', Version: V }),
    200,
  );
});

test('GetCallerIdentity as a GET with the query string, and presigned, answers the same (200)', async () => {
  const keys = await w.session();
  await check(
    'GetCallerIdentity-session',
    await w.signed(keys, { Action: 'GetCallerIdentity', Version: V }, { method: 'GET' }),
    200,
  );
  await check(
    'GetCallerIdentity-session',
    await w.signed(keys, { Action: 'GetCallerIdentity', Version: V }, { method: 'GET', presign: true }),
    200,
  );
});

test('DecodeAuthorizationMessage by the administrator: golden response (200)', async () => {
  const denied = await w.webIdentity(
    {},
    { sub: 'organization:acme:project:Infra:workspace:networking:run_phase:apply' },
  );
  const encoded =
    /Encoded authorization failure message: (\S+)/.exec(pick(denied.body, 'Message'))?.[1] ?? '';
  // An error body never carries the token or a secret: show it if the denial was not the expected one.
  assert.ok(
    encoded,
    `expected an AccessDenied with an encoded message, got ${denied.status}: ${denied.body}`,
  );
  const r = await w.signed(adminKeys(), {
    Action: 'DecodeAuthorizationMessage',
    Version: V,
    EncodedMessage: encoded,
  });
  await check('DecodeAuthorizationMessage', r, 200);
});

test('RevokeRun (gatepass extension): golden response (200)', async () => {
  const r = await w.post({
    Action: 'RevokeRun',
    Version: V,
    WebIdentityToken: await w.token({ terraform_run_id: 'run-golden' }),
  });
  await check('RevokeRun', r, 200);
});

// Every error the issue lists, each from a real request.
const errors: { code: string; status: number; file?: string; run: () => Promise<RawResponse> }[] = [
  { code: 'InvalidIdentityToken', status: 400, run: () => w.webIdentity({}, { aud: 'sts.amazonaws.com' }) },
  {
    code: 'ExpiredTokenException',
    status: 400,
    run: () =>
      w.webIdentity(
        {},
        { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 },
      ),
  },
  {
    code: 'IDPRejectedClaim',
    status: 403,
    run: async () => {
      await w.post({
        Action: 'RevokeRun',
        Version: V,
        WebIdentityToken: await w.token({ terraform_run_id: 'run-ended' }),
      });
      return w.webIdentity({}, { terraform_run_id: 'run-ended' });
    },
  },
  {
    code: 'IDPCommunicationError',
    status: 400,
    run: async () =>
      w.webIdentity({
        RoleArn: w.roleArn('web-untrusted'),
        WebIdentityToken: await w.token({}, w.untrusted),
      }),
  },
  {
    code: 'AccessDenied',
    status: 403,
    run: () =>
      w.webIdentity({}, { sub: 'organization:acme:project:Infra:workspace:networking:run_phase:apply' }),
  },
  { code: 'ValidationError', status: 400, run: () => w.webIdentity({ RoleSessionName: 'has space' }) },
  {
    code: 'MalformedPolicyDocument',
    status: 400,
    run: () => w.webIdentity({ Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}' }),
  },
  {
    code: 'PackedPolicyTooLarge',
    status: 400,
    run: () => {
      const tags: Record<string, string> = {};
      for (let i = 1; i <= 10; i++) {
        tags[`Tags.member.${i}.Key`] = `k${i}`.padEnd(128, 'k');
        tags[`Tags.member.${i}.Value`] = 'v'.repeat(256);
      }
      return w.signed(adminKeys(), {
        Action: 'AssumeRole',
        Version: V,
        RoleArn: w.roleArn('tagged'),
        RoleSessionName: 'big',
        ...tags,
      });
    },
  },
  {
    code: 'InvalidClientTokenId',
    status: 403,
    run: () =>
      w.signed(
        { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) },
        { Action: 'GetCallerIdentity', Version: V },
      ),
  },
  {
    code: 'SignatureDoesNotMatch',
    status: 403,
    run: () =>
      w.signed(
        { ...adminKeys(), secretAccessKey: tweak(adminKeys().secretAccessKey) },
        { Action: 'GetCallerIdentity', Version: V },
      ),
  },
  {
    code: 'IncompleteSignature',
    status: 400,
    run: () =>
      w.signed(
        adminKeys(),
        { Action: 'GetCallerIdentity', Version: V },
        {
          tamper: (r) => {
            r.headers.authorization = (r.headers.authorization ?? '').replace(/, Signature=[0-9a-f]+/, '');
          },
        },
      ),
  },
  {
    code: 'ExpiredToken',
    status: 400,
    run: async () => w.signed(await w.expiredSession(), { Action: 'GetCallerIdentity', Version: V }),
  },
  {
    // STS and IAM share the endpoint: a signature scoped to iam cannot call an STS action.
    code: 'SignatureDoesNotMatch',
    file: 'error-SignatureDoesNotMatch-service-scope',
    status: 403,
    run: () => w.signed(adminKeys(), { Action: 'GetCallerIdentity', Version: V }, { service: 'iam' }),
  },
  {
    code: 'RequestEntityTooLarge',
    status: 413,
    run: () => w.post({ Action: 'GetCallerIdentity', Version: V, Padding: 'x'.repeat(1024 * 1024) }),
  },
  {
    code: 'MissingAuthenticationToken',
    status: 403,
    run: () => w.post({ Action: 'GetCallerIdentity', Version: V }),
  },
  { code: 'InvalidAction', status: 400, run: () => w.post({ Action: 'AssumeRoot', Version: V }) },
  {
    // AWS: a signature dated more than 15 minutes ago is SignatureDoesNotMatch (SDKs' clock-skew
    // correction keys on it), not RequestTimeTooSkewed.
    code: 'SignatureDoesNotMatch',
    file: 'error-SignatureDoesNotMatch-signature-expired',
    status: 403,
    run: () =>
      w.signed(
        adminKeys(),
        { Action: 'GetCallerIdentity', Version: V },
        { dateMs: systemClock.now() - 20 * 60_000 },
      ),
  },
  {
    code: 'SignatureDoesNotMatch',
    file: 'error-SignatureDoesNotMatch-signature-not-yet-current',
    status: 403,
    run: () =>
      w.signed(
        adminKeys(),
        { Action: 'GetCallerIdentity', Version: V },
        { dateMs: systemClock.now() + 20 * 60_000 },
      ),
  },
  {
    code: 'SignatureDoesNotMatch',
    file: 'error-SignatureDoesNotMatch-invalid-region',
    status: 403,
    run: () => w.signed(adminKeys(), { Action: 'GetCallerIdentity', Version: V }, { region: 'xx-fake-9' }),
  },
];

for (const e of errors) {
  test(`${e.file ?? e.code}: golden ErrorResponse with status ${e.status}`, async () => {
    const r = await e.run();
    assert.equal(pick(r.body, 'Code'), e.code, pick(r.body, 'Message'));
    await check(e.file ?? `error-${e.code}`, r, e.status);
  });
}

/** The three instants of a clock answer, epoch ms: the request's, the bound and the server's. */
function skewDates(message: string, pattern: RegExp): [number, number, number] {
  const m = pattern.exec(message);
  assert.ok(m, message);
  const ms = (d: string) => parseAmzDate(d) ?? Number.NaN;
  return [ms(m[1] ?? ''), ms(m[2] ?? ''), ms(m[3] ?? '')];
}

test('Signature expired names the request date, the server time and the bound 15 minutes before it', async () => {
  const dateMs = Math.floor(systemClock.now() / 1000) * 1000 - 20 * 60_000;
  const before = systemClock.now();
  const r = await w.signed(adminKeys(), { Action: 'GetCallerIdentity', Version: V }, { dateMs });
  const after = systemClock.now();
  const [request, bound, server] = skewDates(
    pick(r.body, 'Message'),
    /^Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) - 15 min\.\)$/,
  );
  assert.equal(request, dateMs);
  assert.equal(server - bound, 15 * 60_000);
  assert.ok(server >= Math.floor(before / 1000) * 1000 && server <= after, 'the server time is now');
  assert.ok(r.headers.date, 'a Date header lets SDKs measure their skew');
});

test('Signature not yet current names the request date, the server time and the bound 15 minutes after it', async () => {
  const dateMs = Math.floor(systemClock.now() / 1000) * 1000 + 20 * 60_000;
  const r = await w.signed(adminKeys(), { Action: 'GetCallerIdentity', Version: V }, { dateMs });
  const [request, bound, server] = skewDates(
    pick(r.body, 'Message'),
    /^Signature not yet current: (\d{8}T\d{6}Z) is still later than (\d{8}T\d{6}Z) \((\d{8}T\d{6}Z) \+ 15 min\.\)$/,
  );
  assert.equal(request, dateMs);
  assert.equal(bound - server, 15 * 60_000);
});

test('every real region of every partition is a valid scope; pseudo-regions are not', async () => {
  for (const region of ['us-east-1', 'eu-central-2', 'cn-north-1', 'us-gov-west-1', 'eusc-de-east-1']) {
    const r = await w.signed(adminKeys(), { Action: 'GetCallerIdentity', Version: V }, { region });
    assert.equal(r.status, 200, `${region}: ${pick(r.body, 'Message')}`);
  }
  for (const region of ['aws-global', 'us-east-1-fips', 'US-EAST-1', 'local']) {
    const r = await w.signed(adminKeys(), { Action: 'GetCallerIdentity', Version: V }, { region });
    assert.deepEqual([r.status, pick(r.body, 'Code')], [403, 'SignatureDoesNotMatch'], region);
  }
});

test('the session keys of a golden response really work (the placeholders hide live values)', async () => {
  const keys = keysFrom((await w.webIdentity()).body);
  const r = await w.signed(keys, { Action: 'GetCallerIdentity', Version: V });
  assert.equal(r.status, 200);
});
