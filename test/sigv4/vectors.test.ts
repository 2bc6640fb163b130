// Drives every SigV4 vector (recreated AWS suite, reference values from @smithy/signature-v4) through
// the verifier's own steps, then through verifySigV4, then with one byte of the request tampered.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { AwsError } from '../../src/core/query/errors.js';
import { sigV4Error } from '../../src/core/query/sigv4-errors.js';
import {
  deriveSigningKey,
  indexHeaders,
  parseAmzDate,
  parseAuthorization,
  parsePresigned,
  parseQuery,
  SigV4Failure,
  signingMaterial,
  verifySigV4,
} from '../../src/core/sigv4/index.js';
import { tweak } from '../helpers/aws.js';
import { loadVectors, lookupFor, toRequest, withHeader } from './helpers.js';

const vectors = loadVectors();

test('the vector set covers the classic AWS suite cases', () => {
  const names = new Set(vectors.map((v) => v.name));
  for (const n of [
    'get-vanilla',
    'get-vanilla-query-order-key-case',
    'get-header-key-duplicate',
    'get-header-value-trim',
    'get-space',
    'get-slash-dot-slash',
    'get-relative-relative',
    'post-x-www-form-urlencoded',
    'post-sts-header-before',
    'post-sts-header-after',
  ]) {
    assert.ok(names.has(n), n);
  }
  assert.ok(vectors.length >= 30);
});

const SIGNATURE_MISMATCH = (e: unknown): boolean =>
  (e instanceof SigV4Failure && sigV4Error(e.reason).code === 'SignatureDoesNotMatch') ||
  (e instanceof AwsError && e.code === 'SignatureDoesNotMatch');

for (const v of vectors) {
  const req = toRequest(v);
  const now = parseAmzDate(v.date) ?? 0;

  test(`${v.name}: canonical request, string to sign and signature equal the reference`, () => {
    const headers = indexHeaders(req.rawHeaders);
    const params = parseQuery(req.query);
    const auth = v.presigned
      ? parsePresigned(params)
      : parseAuthorization(headers.get('authorization')?.[0] ?? '');
    assert.deepEqual(auth.signedHeaders, v.signedHeaders);
    const payloadHash =
      headers.get('x-amz-content-sha256')?.[0] ?? createHash('sha256').update(req.body).digest('hex');
    const m = signingMaterial(req, headers, params, auth, v.date, payloadHash, v.presigned);
    assert.equal(m.canonicalRequest, v.canonicalRequest);
    assert.equal(m.stringToSign, v.stringToSign);
    const key = deriveSigningKey(v.credentials.secretAccessKey, v.date.slice(0, 8), v.region, v.service);
    const signature = createHmac('sha256', key).update(m.stringToSign).digest('hex');
    assert.equal(signature, v.signature);
    if (v.officialSignature) assert.equal(signature, v.officialSignature);
  });

  test(`${v.name}: verifySigV4 accepts the request`, async () => {
    const r = await verifySigV4(req, lookupFor(v), {
      now,
      expectedService: v.service,
      allowedRegions: [v.region],
    });
    assert.equal(r.ok, true);
    assert.equal(r.accessKeyId, v.credentials.accessKeyId);
    assert.equal(r.service, v.service);
    assert.equal(r.region, v.region);
    assert.equal(r.presigned, v.presigned);
    assert.equal(r.date, now);
    assert.deepEqual(r.signedHeaders, v.signedHeaders);
    if (v.name.startsWith('post-sts') || v.credentials.sessionToken) assert.ok(r.sessionToken);
  });

  test(`${v.name}: one changed byte of body, signed header or date is rejected`, async () => {
    const opts = { now };
    const body = req.body.length > 0 ? Buffer.from(req.body) : Buffer.from('x');
    if (req.body.length > 0) body[0] = (body[0] ?? 0) ^ 1;
    await assert.rejects(verifySigV4({ ...req, body }, lookupFor(v), opts), SIGNATURE_MISMATCH);

    const host = req.rawHeaders[req.rawHeaders.findIndex((h) => h.toLowerCase() === 'host') + 1] ?? '';
    const hostTampered = { ...req, rawHeaders: withHeader(req.rawHeaders, 'host', tweak(host)) };
    await assert.rejects(verifySigV4(hostTampered, lookupFor(v), opts), SIGNATURE_MISMATCH);

    const later = `${v.date.slice(0, -3)}01Z`;
    const dateTampered = v.presigned
      ? { ...req, query: req.query.replace(`X-Amz-Date=${v.date}`, `X-Amz-Date=${later}`) }
      : { ...req, rawHeaders: withHeader(req.rawHeaders, 'x-amz-date', later) };
    assert.notDeepEqual(dateTampered, req);
    await assert.rejects(verifySigV4(dateTampered, lookupFor(v), opts), SIGNATURE_MISMATCH);
  });
}

// Regression: the wrong-secret tests once replaced the last character with `x`, which left a secret
// already ending in `x` unchanged and its request accepted.
test('tweak changes a string whatever character sits where it replaces one', () => {
  for (const s of ['abcx', 'abc1', 'abc2', 'AAAA', '1111']) {
    for (const fromEnd of [1, 3]) {
      const t = tweak(s, fromEnd);
      assert.notEqual(t, s);
      assert.equal(t.length, s.length);
      assert.equal(t.slice(0, s.length - fromEnd), s.slice(0, s.length - fromEnd));
    }
  }
});
