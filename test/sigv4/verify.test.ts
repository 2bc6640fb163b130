// verifySigV4 failure modes: every malformation maps to its AWS code, the clock window holds on both
// sides, presigned URLs expire, and repeated headers are signed in arrival order.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { AwsError, type ErrorCode } from '../../src/core/query/errors.js';
import { sigV4Error } from '../../src/core/query/sigv4-errors.js';
import {
  deriveSigningKey,
  formatAmzDate,
  indexHeaders,
  parseAuthorization,
  parseHttpDate,
  parseQuery,
  SigningKeyCache,
  SigV4Failure,
  type SigV4FailureKind,
  type SigV4Request,
  signingMaterial,
  verifySigV4,
} from '../../src/core/sigv4/index.js';
import { KEY, knownKey, signRequest, withHeader } from './helpers.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const FORM: [string, string][] = [['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8']];
const signed = (extra: Partial<Parameters<typeof signRequest>[0]> = {}): Promise<SigV4Request> =>
  signRequest({ dateMs: T, body: BODY, headers: FORM, ...extra });

/** The client's answer: a parse error is an AwsError already; a typed check failure goes through the protocol. */
const rejectsWith = (code: ErrorCode, message?: RegExp) => (raw: unknown) => {
  const e = raw instanceof SigV4Failure ? sigV4Error(raw.reason) : raw;
  assert.ok(e instanceof AwsError, `expected AwsError or SigV4Failure, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  if (message) assert.match(e.message, message);
  return true;
};

const AUTH = (rest: string): string => `AWS4-HMAC-SHA256 ${rest}`;
const SCOPE = `${KEY.accessKeyId}/20261123/us-east-1/sts/aws4_request`;
const GOOD = AUTH(`Credential=${SCOPE}, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`);

function withAuthorization(req: SigV4Request, value: string): SigV4Request {
  return { ...req, rawHeaders: withHeader(req.rawHeaders, 'authorization', value) };
}

test('a request with no Authorization header and no X-Amz-* query is MissingAuthenticationToken', async () => {
  const req: SigV4Request = {
    method: 'POST',
    path: '/',
    query: '',
    rawHeaders: ['Host', 'h'],
    body: Buffer.from(''),
  };
  await assert.rejects(verifySigV4(req, knownKey, { now: T }), rejectsWith('MissingAuthenticationToken'));
});

test('a request signed by the reference signer verifies and reports its scope', async () => {
  const r = await verifySigV4(await signed(), knownKey, {
    now: T,
    expectedService: 'sts',
    allowedRegions: ['us-east-1'],
  });
  assert.deepEqual(
    { id: r.accessKeyId, region: r.region, service: r.service, date: r.date, presigned: r.presigned },
    { id: KEY.accessKeyId, region: 'us-east-1', service: 'sts', date: T, presigned: false },
  );
  assert.equal(r.sessionToken, undefined);
});

const MALFORMED: [string, string, ErrorCode, RegExp][] = [
  [
    'not an AWS4 scheme',
    'Basic dXNlcjpwYXNz',
    'IncompleteSignature',
    /requires 'Credential'.*requires 'Signature'.*requires 'SignedHeaders'/,
  ],
  [
    'unsupported algorithm',
    `AWS4-HMAC-SHA1 Credential=${SCOPE}`,
    'IncompleteSignature',
    /Unsupported AWS 'algorithm'/,
  ],
  [
    'missing Signature',
    AUTH(`Credential=${SCOPE}, SignedHeaders=host;x-amz-date`),
    'IncompleteSignature',
    /^Authorization header requires 'Signature' parameter\.$/,
  ],
  [
    'missing Credential and SignedHeaders',
    AUTH(`Signature=${'0'.repeat(64)}`),
    'IncompleteSignature',
    /^Authorization header requires 'Credential' parameter\. Authorization header requires 'SignedHeaders' parameter\.$/,
  ],
  [
    'a part without "="',
    AUTH(`Credential ${SCOPE}, SignedHeaders=host, Signature=00`),
    'IncompleteSignature',
    /not a valid key=value pair \(missing equal-sign\)/,
  ],
  [
    'a duplicated parameter',
    AUTH(`Credential=${SCOPE}, Credential=${SCOPE}, SignedHeaders=host, Signature=00`),
    'IncompleteSignature',
    /duplicate 'Credential'/,
  ],
  [
    'credential with four elements',
    AUTH(`Credential=${KEY.accessKeyId}/20261123/us-east-1/sts, SignedHeaders=host;x-amz-date, Signature=00`),
    'IncompleteSignature',
    /exactly 5 slash-delimited elements/,
  ],
  [
    'credential with a bad terminator',
    AUTH(
      `Credential=${KEY.accessKeyId}/20261123/us-east-1/sts/aws5_request, SignedHeaders=host;x-amz-date, Signature=00`,
    ),
    'SignatureDoesNotMatch',
    /valid terminator: 'aws4_request', not 'aws5_request'/,
  ],
  [
    'upper-case SignedHeaders',
    AUTH(`Credential=${SCOPE}, SignedHeaders=Host;X-Amz-Date, Signature=00`),
    'IncompleteSignature',
    /SignedHeaders/,
  ],
  [
    'empty SignedHeaders element',
    AUTH(`Credential=${SCOPE}, SignedHeaders=host;;x-amz-date, Signature=00`),
    'IncompleteSignature',
    /SignedHeaders/,
  ],
  [
    'host not signed',
    AUTH(`Credential=${SCOPE}, SignedHeaders=x-amz-date, Signature=00`),
    'IncompleteSignature',
    /'Host' or ':authority' must be a 'SignedHeader'/,
  ],
  [
    'scope date other than the request day',
    AUTH(
      `Credential=${KEY.accessKeyId}/20261122/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
    ),
    'SignatureDoesNotMatch',
    /Date in Credential scope does not match YYYYMMDD.*'20261122' != '20261123'/,
  ],
  [
    'wrong service',
    AUTH(
      `Credential=${KEY.accessKeyId}/20261123/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
    ),
    'SignatureDoesNotMatch',
    /scoped to correct service: 'sts'/,
  ],
  [
    'region not allowed',
    AUTH(
      `Credential=${KEY.accessKeyId}/20261123/xx-west-9/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
    ),
    'SignatureDoesNotMatch',
    /^Credential should be scoped to a valid region\. $/,
  ],
  [
    'signature of the wrong length',
    GOOD.replace(/Signature=0+/, 'Signature=abc'),
    'SignatureDoesNotMatch',
    /does not match/,
  ],
  ['well-formed but wrong signature', GOOD, 'SignatureDoesNotMatch', /does not match/],
];

for (const [what, header, code, message] of MALFORMED) {
  test(`Authorization with ${what} is rejected as ${code}`, async () => {
    const req = withAuthorization(await signed(), header);
    await assert.rejects(
      verifySigV4(req, knownKey, { now: T, expectedService: 'sts', allowedRegions: ['us-east-1'] }),
      rejectsWith(code, message),
    );
  });
}

test('SignedHeaders are sorted for the canonical request; a name listed twice is IncompleteSignature', () => {
  const unsorted = parseAuthorization(
    AUTH(`Credential=${SCOPE}, SignedHeaders=x-amz-date;host;content-type, Signature=00`),
  );
  assert.deepEqual(unsorted.signedHeaders, ['content-type', 'host', 'x-amz-date']);
  for (const list of ['host;host', 'host;x-amz-date;host']) {
    assert.throws(
      () => parseAuthorization(AUTH(`Credential=${SCOPE}, SignedHeaders=${list}, Signature=00`)),
      rejectsWith('IncompleteSignature', /more than once/),
    );
  }
});

test('parseAuthorization returns the typed struct of a well-formed header', () => {
  assert.deepEqual(parseAuthorization(GOOD), {
    credential: { accessKeyId: KEY.accessKeyId, date: '20261123', region: 'us-east-1', service: 'sts' },
    signedHeaders: ['host', 'x-amz-date'],
    signature: '0'.repeat(64),
  });
});

test('date problems: no date header, malformed X-Amz-Date, impossible calendar date', async () => {
  const req = await signed();
  const noDate = {
    ...req,
    rawHeaders: req.rawHeaders.filter((_, i, a) => (i % 2 === 0 ? a[i] : a[i - 1]) !== 'x-amz-date'),
  };
  await assert.rejects(
    verifySigV4(noDate, knownKey, { now: T }),
    rejectsWith('IncompleteSignature', /either a 'X-Amz-Date' or a 'Date' header/),
  );
  for (const bad of ['2026-11-23T12:00:00Z', '20261123T120000', '20260230T120000Z']) {
    const r = { ...req, rawHeaders: withHeader(req.rawHeaders, 'x-amz-date', bad) };
    await assert.rejects(
      verifySigV4(r, knownKey, { now: T }),
      rejectsWith('IncompleteSignature', /ISO-8601 'basic format'/),
    );
  }
});

test('two Authorization headers, or a header and a query signature, are IncompleteSignature', async () => {
  const req = await signed();
  const twice = { ...req, rawHeaders: [...req.rawHeaders, 'Authorization', GOOD] };
  await assert.rejects(verifySigV4(twice, knownKey, { now: T }), rejectsWith('IncompleteSignature'));
  const both = { ...req, query: 'X-Amz-Algorithm=AWS4-HMAC-SHA256' };
  await assert.rejects(
    verifySigV4(both, knownKey, { now: T }),
    rejectsWith('IncompleteSignature', /Only one auth mechanism/),
  );
});

test('an unknown access key is InvalidClientTokenId; the lookup sees the session token and may throw', async () => {
  await assert.rejects(
    verifySigV4(await signed(), () => undefined, { now: T }),
    rejectsWith('InvalidClientTokenId'),
  );
  const req = await signed({ sessionToken: 'tok-1' });
  const seen: (string | undefined)[] = [];
  const r = await verifySigV4(
    req,
    async (id, ctx) => {
      seen.push(ctx.sessionToken);
      return knownKey(id);
    },
    { now: T },
  );
  assert.equal(r.sessionToken, 'tok-1');
  assert.deepEqual(seen, ['tok-1']);
  await assert.rejects(
    verifySigV4(
      req,
      () => {
        throw new AwsError('ExpiredToken');
      },
      { now: T },
    ),
    rejectsWith('ExpiredToken'),
  );
});

test('clock skew: accepted up to 15 minutes either side, rejected beyond', async () => {
  const req = await signed();
  const m15 = 15 * 60_000;
  for (const now of [T - m15, T + m15]) assert.equal((await verifySigV4(req, knownKey, { now })).ok, true);
  await assert.rejects(
    verifySigV4(req, knownKey, { now: T + m15 + 1000 }),
    rejectsWith(
      'SignatureDoesNotMatch',
      /^Signature expired: 20261123T120000Z is now earlier than 20261123T120001Z \(20261123T121501Z - 15 min\.\)$/,
    ),
  );
  await assert.rejects(
    verifySigV4(req, knownKey, { now: T - m15 - 1000 }),
    rejectsWith(
      'SignatureDoesNotMatch',
      /^Signature not yet current: 20261123T120000Z is still later than 20261123T115959Z \(20261123T114459Z \+ 15 min\.\)$/,
    ),
  );
  await assert.rejects(
    verifySigV4(req, knownKey, { now: T + 61_000, skewMs: 60_000 }),
    rejectsWith('SignatureDoesNotMatch', /^Signature expired: .* - 1 min\.\)$/),
  );
});

test('presigned URLs: valid until X-Amz-Expires, then RequestExpired; future dates are not yet current', async () => {
  const req = await signRequest({
    method: 'GET',
    dateMs: T,
    presignExpires: 60,
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
  });
  assert.equal((await verifySigV4(req, knownKey, { now: T + 60_000 })).presigned, true);
  await assert.rejects(verifySigV4(req, knownKey, { now: T + 61_000 }), rejectsWith('RequestExpired'));
  await assert.rejects(
    verifySigV4(req, knownKey, { now: T - 16 * 60_000 }),
    rejectsWith('SignatureDoesNotMatch', /^Signature not yet current: /),
  );
  const longer = { ...req, query: req.query.replace('X-Amz-Expires=60', 'X-Amz-Expires=120') };
  await assert.rejects(verifySigV4(longer, knownKey, { now: T }), rejectsWith('SignatureDoesNotMatch'));
});

test('presigned parameter errors are IncompleteSignature', async () => {
  const req = await signRequest({ method: 'GET', dateMs: T, presignExpires: 60 });
  const cases: [string, RegExp][] = [
    [req.query.replace(/&?X-Amz-Date=[^&]*/, ''), /must include 'X-Amz-Algorithm'/],
    [req.query.replace('X-Amz-Expires=60', 'X-Amz-Expires=604801'), /between 1 and 604800/],
    [req.query.replace('X-Amz-Expires=60', 'X-Amz-Expires=soon'), /should be a number/],
    [
      req.query.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1'),
      /only supports/,
    ],
    [`${req.query}&X-Amz-Expires=60`, /Duplicate/],
  ];
  for (const [query, message] of cases) {
    await assert.rejects(
      verifySigV4({ ...req, query }, knownKey, { now: T }),
      rejectsWith('IncompleteSignature', message),
    );
  }
});

test('presigned URLs also verify when the client signed UNSIGNED-PAYLOAD', async () => {
  const req = await signRequest({ method: 'GET', dateMs: T, presignExpires: 60 });
  const headers = indexHeaders(req.rawHeaders);
  const params = parseQuery(req.query);
  const { parsePresigned } = await import('../../src/core/sigv4/index.js');
  const auth = parsePresigned(params);
  const m = signingMaterial(req, headers, params, auth, auth.amzDate, 'UNSIGNED-PAYLOAD', true);
  const sig = createHmac('sha256', deriveSigningKey(KEY.secretAccessKey, '20261123', 'us-east-1', 'sts'))
    .update(m.stringToSign)
    .digest('hex');
  const unsignedPayload = {
    ...req,
    query: req.query.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${sig}`),
  };
  assert.equal((await verifySigV4(unsignedPayload, knownKey, { now: T })).ok, true);
});

test('repeated headers are signed joined in arrival order; reordering or dropping one breaks the signature', async () => {
  const req = await signed({ headers: [...FORM, ['X-Custom', 'b'], ['X-Custom', 'a']] });
  assert.equal((await verifySigV4(req, knownKey, { now: T })).ok, true);
  const i = req.rawHeaders.indexOf('X-Custom');
  const swapped = req.rawHeaders.slice();
  swapped[i + 1] = 'a';
  swapped[i + 3] = 'b';
  await assert.rejects(
    verifySigV4({ ...req, rawHeaders: swapped }, knownKey, { now: T }),
    rejectsWith('SignatureDoesNotMatch'),
  );
  const dropped = req.rawHeaders.filter((_, n) => n !== i && n !== i + 1);
  await assert.rejects(
    verifySigV4({ ...req, rawHeaders: dropped }, knownKey, { now: T }),
    rejectsWith('SignatureDoesNotMatch'),
  );
});

test('an x-amz-content-sha256 that does not describe the body is SignatureDoesNotMatch', async () => {
  const wrongHash = createHash('sha256').update('other').digest('hex');
  const req = await signed({ headers: [...FORM, ['X-Amz-Content-Sha256', wrongHash]] });
  await assert.rejects(
    verifySigV4(req, knownKey, { now: T }),
    rejectsWith('SignatureDoesNotMatch', /x-amz-content-sha256/),
  );
  const unsigned = await signed({ headers: [...FORM, ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD']] });
  await assert.rejects(verifySigV4(unsigned, knownKey, { now: T }), rejectsWith('SignatureDoesNotMatch'));
  const right = createHash('sha256').update(BODY).digest('hex');
  const good = await signed({ headers: [...FORM, ['X-Amz-Content-Sha256', right]] });
  assert.equal((await verifySigV4(good, knownKey, { now: T })).ok, true);
});

test('a Date header (RFC 7231) can stand in for X-Amz-Date', async () => {
  const dateText = new Date(T).toUTCString();
  assert.equal(parseHttpDate(dateText), T);
  const scope = `${KEY.accessKeyId}/20261123/us-east-1/sts/aws4_request`;
  const base: SigV4Request = {
    method: 'POST',
    path: '/',
    query: '',
    rawHeaders: ['Host', 'sts.amazonaws.com', 'Date', dateText],
    body: Buffer.from(BODY),
  };
  const auth = {
    credential: parseAuthorization(GOOD).credential,
    signedHeaders: ['date', 'host'],
    signature: '',
  };
  const headers = indexHeaders(base.rawHeaders);
  const m = signingMaterial(
    base,
    headers,
    [],
    auth,
    formatAmzDate(T),
    createHash('sha256').update(BODY).digest('hex'),
    false,
  );
  const sig = createHmac('sha256', deriveSigningKey(KEY.secretAccessKey, '20261123', 'us-east-1', 'sts'))
    .update(m.stringToSign)
    .digest('hex');
  const req = {
    ...base,
    rawHeaders: [
      ...base.rawHeaders,
      'Authorization',
      AUTH(`Credential=${scope}, SignedHeaders=date;host, Signature=${sig}`),
    ],
  };
  assert.equal((await verifySigV4(req, knownKey, { now: T })).date, T);
});

test('the signing-key cache is bounded, reused across requests and gives the same result', async () => {
  const cache = new SigningKeyCache(2);
  const req = await signed();
  for (let i = 0; i < 3; i++)
    assert.equal((await verifySigV4(req, knownKey, { now: T, keyCache: cache })).ok, true);
  assert.equal(cache.size, 1);
  cache.get('s1', '20261123', 'us-east-1', 'sts');
  cache.get('s2', '20261123', 'us-east-1', 'sts');
  assert.equal(cache.size, 2);
  assert.deepEqual(
    cache.get('s1', '20261123', 'us-east-1', 'sts'),
    deriveSigningKey('s1', '20261123', 'us-east-1', 'sts'),
  );
});

/** The typed reason a check failed with (what the audit trail keeps). */
async function failureOf(p: Promise<unknown>): Promise<SigV4FailureKind> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SigV4Failure, `expected SigV4Failure, got ${String(e)}`);
    return e.reason.kind;
  }
  assert.fail('expected a failure');
}

test('check failures are typed data, not protocol errors: the verifier names the reason, the protocol the words', async () => {
  const req = await signed();
  const m20 = 20 * 60_000;
  assert.equal(await failureOf(verifySigV4(req, knownKey, { now: T + m20 })), 'signature-expired');
  assert.equal(await failureOf(verifySigV4(req, knownKey, { now: T - m20 })), 'signature-not-yet-current');
  assert.equal(
    await failureOf(verifySigV4(req, knownKey, { now: T, allowedRegions: new Set(['eu-west-1']) })),
    'invalid-region',
  );
  assert.equal(await failureOf(verifySigV4(req, () => undefined, { now: T })), 'unknown-access-key');
  const wrong = () => ({ secretAccessKey: 'x'.repeat(40) });
  assert.equal(await failureOf(verifySigV4(req, wrong, { now: T })), 'signature-mismatch');
});

test('an invalid region scoped to iam is named in the answer, as IAM does; to sts it is not, as STS does', () => {
  const iam = sigV4Error({ kind: 'invalid-region', region: 'xx-fake-9', service: 'iam' });
  const sts = sigV4Error({ kind: 'invalid-region', region: 'xx-fake-9', service: 'sts' });
  assert.deepEqual(
    [iam.code, iam.message, iam.status],
    ['SignatureDoesNotMatch', "Credential should be scoped to a valid region, not 'xx-fake-9'. ", 403],
  );
  assert.deepEqual(
    [sts.code, sts.message, sts.status],
    ['SignatureDoesNotMatch', 'Credential should be scoped to a valid region. ', 403],
  );
});
