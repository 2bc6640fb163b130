// The JWT vectors (test/vectors/jwt/tokens.json) through the hand-written web identity verifier,
// each also through jose's jwtVerify as a second opinion: the two agree on accept/refuse except
// where a vector says why they differ on purpose (AWS's rules are stricter than jose's defaults).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import type { HttpsGet } from '../../src/cloud/oidc/https-get.js';
import { DEFAULT_JWKS_OPTIONS, JwksCache } from '../../src/cloud/oidc/jwks.js';
import { ALLOWED_ALGS, verifyWebIdentityToken } from '../../src/cloud/oidc/verify.js';
import { fixedClock } from '../../src/core/deps.js';
import { AwsError } from '../../src/core/query/errors.js';
import type { OidcProviderRecord } from '../../src/store/records/iam.js';
import type { JwtVectorFile, JwtVerdict } from './vector-types.js';

const file: JwtVectorFile = JSON.parse(
  readFileSync(new URL('../vectors/jwt/tokens.json', import.meta.url), 'utf8'),
) as JwtVectorFile;

const provider: OidcProviderRecord = {
  id: 'arn:aws:iam::111111111111:oidc-provider/idp.vectors.example/org',
  accountId: '111111111111',
  url: file.issuer,
  clientIds: file.clientIds,
  thumbprints: [],
  tags: [],
  createdAt: 0,
};

// The issuer's discovery and JWKS served from the vector file, no network.
const get: HttpsGet = async (url) => {
  if (url === `${file.issuer}/.well-known/openid-configuration`) {
    return { status: 200, body: JSON.stringify({ issuer: file.issuer, jwks_uri: `${file.issuer}/jwks` }) };
  }
  if (url === `${file.issuer}/jwks`) return { status: 200, body: JSON.stringify(file.jwks) };
  return { status: 404, body: '' };
};
const jwks = new JwksCache(get, fixedClock(file.now), DEFAULT_JWKS_OPTIONS);
const joseKeys = createLocalJWKSet(file.jwks as JSONWebKeySet);

async function gatepass(token: string): Promise<JwtVerdict> {
  try {
    const v = await verifyWebIdentityToken(token, provider, jwks, { now: file.now });
    return { ok: true, kid: v.kid, aud: v.aud };
  } catch (e) {
    if (!(e instanceof AwsError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

/** jose with the options that mirror STS's: issuer, audience, STS's algorithms, 60 s tolerance. */
async function jose(token: string): Promise<boolean> {
  try {
    await jwtVerify(token, joseKeys, {
      issuer: file.issuer,
      audience: file.clientIds,
      algorithms: [...ALLOWED_ALGS],
      currentDate: new Date(file.now),
      clockTolerance: 60,
      requiredClaims: ['exp', 'sub'],
    });
    return true;
  } catch {
    return false;
  }
}

test('the vector file covers valid, forged, malformed and time-edge tokens', () => {
  const names = file.vectors.map((v) => v.name);
  assert.equal(new Set(names).size, names.length, 'vector names are unique');
  assert.ok(file.vectors.filter((v) => v.expect.ok).length >= 5);
  for (const must of [
    'alg none',
    'alg confusion',
    'bad signature',
    'kid not published',
    'crit header',
    'five segments',
  ]) {
    assert.ok(
      names.some((n) => n.includes(must)),
      must,
    );
  }
});

for (const v of file.vectors) {
  test(`jwt vector: ${v.name}: ${v.expect.ok ? 'accepted' : `refused with ${v.expect.code}`}`, async () => {
    assert.deepEqual(await gatepass(v.token), v.expect);
  });
  const joseAccepts = v.jose?.accepts ?? v.expect.ok;
  test(`jwt vector through jose: ${v.name}: ${joseAccepts ? 'accepted' : 'refused'}${v.jose ? ` (differs: ${v.jose.why})` : ''}`, async () => {
    assert.equal(await jose(v.token), joseAccepts);
  });
}
