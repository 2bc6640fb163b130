// Writes test/vectors/jwt/tokens.json: web identity tokens, each with the verdict the hand-written
// verifier (src/cloud/oidc/verify.ts) must give and jose's `jwtVerify` verdict where the two differ
// on purpose. Keys are throwaway test keys generated here and published in the file's JWKS (private
// halves are not kept). Run: npx tsx test/jwt/generate-vectors.ts
import { createHmac, createSign, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { JwtVector } from './vector-types.js';

const ISS = 'https://idp.vectors.example/org';
const AUD = 'sts.amazonaws.com';
const NOW = 1_800_000_000_000;
const T = NOW / 1000;

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaSmall = generateKeyPairSync('rsa', { modulusLength: 1024 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });

const pub = (k: KeyObject, kid: string, alg: string) => ({
  ...k.export({ format: 'jwk' }),
  kid,
  alg,
  use: 'sig',
});
const JWKS = {
  keys: [
    pub(rsa.publicKey, 'rsa-1', 'RS256'),
    pub(p256.publicKey, 'ec-256', 'ES256'),
    pub(p384.publicKey, 'ec-384', 'ES384'),
    pub(rsaSmall.publicKey, 'rsa-small', 'RS256'),
    // Published for RS384 only: an RS256 token naming it must not verify.
    pub(rsa.publicKey, 'rsa-384-only', 'RS384'),
  ],
};

const b64 = (v: unknown): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

const HASHES: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

function signed(
  header: Record<string, unknown>,
  payload: unknown,
  key: KeyObject | Buffer,
  alg: string,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const hash = HASHES[alg.slice(2)] ?? 'sha256';
  let sig: Buffer;
  if (alg.startsWith('HS'))
    sig = createHmac(hash, key as Buffer)
      .update(input)
      .digest();
  else if (alg.startsWith('ES'))
    sig = sign(hash, Buffer.from(input), { key: key as KeyObject, dsaEncoding: 'ieee-p1363' });
  else
    sig = createSign(hash)
      .update(input)
      .sign(key as KeyObject);
  return `${input}.${sig.toString('base64url')}`;
}

const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISS,
  aud: AUD,
  sub: 'organization:acme:project:net:workspace:prod:run_phase:apply',
  iat: T - 10,
  exp: T + 600,
  jti: 'jti-vector',
  ...over,
});
const rs = (over: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signed({ alg: 'RS256', kid: 'rsa-1', typ: 'JWT', ...header }, claims(over), rsa.privateKey, 'RS256');

const ok = (kid: string) => ({ ok: true as const, kid, aud: AUD });
const refused = (code: string, message: string) => ({ ok: false as const, code, message });
const NOT_JWT = refused('InvalidIdentityToken', 'The ID Token provided is not a valid JWT.');
const NO_KEY = refused(
  'InvalidIdentityToken',
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
);
const BAD_SIG = refused('InvalidIdentityToken', 'The signature of the ID Token could not be verified.');
const BAD_ALG = refused('InvalidIdentityToken', 'The ID Token uses an unsupported signing algorithm.');

const good = rs();
const [h, p, s] = good.split('.') as [string, string, string];
const flip = (sig: string): string => `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
const rsaPem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
const ecDer = (() => {
  const input = `${b64({ alg: 'ES256', kid: 'ec-256' })}.${b64(claims())}`;
  return `${input}.${sign('sha256', Buffer.from(input), p256.privateKey).toString('base64url')}`;
})();

const vectors: JwtVector[] = [
  { name: 'valid RS256', token: good, expect: ok('rsa-1') },
  {
    name: 'valid ES256 (P-256, raw r||s signature)',
    token: signed({ alg: 'ES256', kid: 'ec-256' }, claims(), p256.privateKey, 'ES256'),
    expect: ok('ec-256'),
  },
  {
    name: 'valid ES384 (P-384)',
    token: signed({ alg: 'ES384', kid: 'ec-384' }, claims(), p384.privateKey, 'ES384'),
    expect: ok('ec-384'),
  },
  {
    name: 'valid: aud an array, one of them the client id',
    token: rs({ aud: ['other', AUD] }),
    expect: ok('rsa-1'),
  },
  { name: 'bad signature (one character changed)', token: `${h}.${p}.${flip(s)}`, expect: BAD_SIG },
  {
    name: 'payload changed after signing',
    token: `${h}.${b64(claims({ sub: 'organization:evil' }))}.${s}`,
    expect: BAD_SIG,
  },
  { name: 'empty signature', token: `${h}.${p}.`, expect: BAD_SIG },
  { name: 'alg none, no signature', token: `${b64({ alg: 'none', kid: 'rsa-1' })}.${p}.`, expect: BAD_ALG },
  {
    name: 'alg confusion: HS256 keyed with the RSA public key (PEM)',
    token: signed({ alg: 'HS256', kid: 'rsa-1' }, claims(), Buffer.from(rsaPem as string), 'HS256'),
    expect: BAD_ALG,
  },
  {
    name: 'alg missing',
    token: signed({ kid: 'rsa-1' }, claims(), rsa.privateKey, 'RS256'),
    expect: BAD_ALG,
  },
  {
    name: 'alg PS256 (not accepted by STS)',
    token: `${b64({ alg: 'PS256', kid: 'rsa-1' })}.${p}.${s}`,
    expect: BAD_ALG,
  },
  {
    name: 'ES256 header on an RSA key',
    token: signed({ alg: 'ES256', kid: 'rsa-1' }, claims(), p256.privateKey, 'ES256'),
    expect: NO_KEY,
  },
  {
    name: 'RS256 token naming a key published for RS384',
    token: rs({}, { kid: 'rsa-384-only' }),
    expect: NO_KEY,
  },
  { name: 'ES256 signature DER-encoded instead of raw r||s', token: ecDer, expect: BAD_SIG },
  { name: 'kid not published', token: rs({}, { kid: 'nope' }), expect: NO_KEY },
  {
    name: 'kid missing (STS requires one)',
    token: signed({ alg: 'RS256' }, claims(), rsa.privateKey, 'RS256'),
    // jose refuses too here: two published RS256 keys match and the header does not say which.
    expect: NO_KEY,
  },
  {
    name: 'RSA key below 2048 bits',
    token: signed({ alg: 'RS256', kid: 'rsa-small' }, claims(), rsaSmall.privateKey, 'RS256'),
    expect: NO_KEY,
  },
  { name: 'crit header', token: rs({}, { crit: ['exp'], exp: 1 }), expect: NOT_JWT },
  {
    name: 'issuer of another provider',
    token: rs({ iss: 'https://idp.other.example' }),
    expect: refused('InvalidIdentityToken', 'Issuer does not match the OpenID Connect provider.'),
  },
  {
    name: 'audience not a client id',
    token: rs({ aud: 'someone-else' }),
    expect: refused('InvalidIdentityToken', 'Incorrect token audience'),
  },
  {
    name: 'expired beyond the 60 s tolerance',
    token: rs({ exp: T - 61 }),
    expect: refused(
      'ExpiredTokenException',
      `Token expired: current date/time ${T} must be before the expiration date/time${T - 61}`,
    ),
  },
  {
    name: 'exp exactly 60 s ago: expired (the tolerance is exclusive)',
    token: rs({ exp: T - 60 }),
    expect: refused(
      'ExpiredTokenException',
      `Token expired: current date/time ${T} must be before the expiration date/time${T - 60}`,
    ),
  },
  { name: 'exp 59 s ago: within the tolerance', token: rs({ exp: T - 59 }), expect: ok('rsa-1') },
  {
    name: 'exp missing',
    token: rs({ exp: undefined }),
    expect: refused('InvalidIdentityToken', 'The exp claim of the ID Token must be an integer.'),
  },
  {
    name: 'exp a float',
    token: rs({ exp: T + 600.5 }),
    expect: refused('InvalidIdentityToken', 'The exp claim of the ID Token must be an integer.'),
    jose: { accepts: true, why: 'jose accepts any number for exp; AWS requires an integer' },
  },
  {
    name: 'exp a string',
    token: rs({ exp: String(T + 600) }),
    expect: refused('InvalidIdentityToken', 'The exp claim of the ID Token must be an integer.'),
  },
  {
    name: 'nbf 61 s ahead',
    token: rs({ nbf: T + 61 }),
    expect: refused('InvalidIdentityToken', 'The ID Token is not yet valid (nbf).'),
  },
  { name: 'nbf 60 s ahead: within the tolerance', token: rs({ nbf: T + 60 }), expect: ok('rsa-1') },
  {
    name: 'iat 61 s ahead',
    token: rs({ iat: T + 61 }),
    expect: refused('InvalidIdentityToken', 'The ID Token was issued in the future (iat).'),
    jose: { accepts: true, why: 'jose does not refuse an iat in the future unless maxTokenAge is set' },
  },
  {
    name: 'iat a float',
    token: rs({ iat: T - 0.5 }),
    expect: refused('InvalidIdentityToken', 'The iat claim of the ID Token must be an integer.'),
    jose: { accepts: true, why: 'jose accepts any number for iat; AWS requires an integer' },
  },
  {
    name: 'sub missing',
    token: rs({ sub: undefined }),
    expect: refused('InvalidIdentityToken', 'The ID Token has no sub claim.'),
  },
  {
    name: 'sub empty',
    token: rs({ sub: '' }),
    expect: refused('InvalidIdentityToken', 'The ID Token has no sub claim.'),
    jose: { accepts: true, why: 'jose checks that a required claim is present, not that it is non-empty' },
  },
  { name: 'base64url with padding in the header', token: `${h}=.${p}.${s}`, expect: NOT_JWT },
  {
    name: 'standard base64 characters in the payload',
    token: `${h}.${p.slice(0, -1)}+.${s}`,
    expect: NOT_JWT,
  },
  { name: 'header not JSON', token: `${b64('not json')}.${p}.${s}`, expect: NOT_JWT },
  { name: 'header a JSON array', token: `${b64([1])}.${p}.${s}`, expect: NOT_JWT },
  { name: 'payload a JSON string', token: `${h}.${b64('"text"')}.${s}`, expect: NOT_JWT },
  { name: 'two segments', token: `${h}.${p}`, expect: NOT_JWT },
  { name: 'four segments', token: `${good}.${s}`, expect: NOT_JWT },
  { name: 'five segments (a JWE shape)', token: `${h}.${p}.${s}.${s}.${s}`, expect: NOT_JWT },
  { name: 'empty token', token: '', expect: NOT_JWT },
  {
    name: 'huge header (16 KiB of padding claims), validly signed',
    token: rs({}, { x: 'a'.repeat(16_384) }),
    expect: ok('rsa-1'),
  },
];

// The private keys die with this process; only their public halves are in the file.
const file = new URL('../vectors/jwt/tokens.json', import.meta.url);
const body = { issuer: ISS, clientIds: [AUD], now: NOW, jwks: JWKS, vectors };
writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
process.stdout.write(`wrote ${vectors.length} vectors to ${file.pathname}\n`);
