// Regenerates test/vectors/sigv4/*.json with an independent reference signer (@smithy/signature-v4,
// the one inside the AWS SDKs). Run once, commit the output:  npx tsx test/sigv4/generate-vectors.ts
// Inputs recreate the classic AWS SigV4 test suite (AKIDEXAMPLE, us-east-1, service `service`,
// 20150830T123600Z) plus gatepass cases for STS; where the official signature is known it is
// recorded and must agree.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { getCanonicalHeaders, SignatureV4 } from '@smithy/signature-v4';
import { type SigV4Vector, SUITE } from './vector-types.js';

/** Exposes the reference signer's canonical request and string to sign. */
type SignableRequest = Parameters<typeof getCanonicalHeaders>[0];

class ReferenceSigner extends SignatureV4 {
  canonical(request: SignableRequest, payloadHash: string): string {
    return this.createCanonicalRequest(request, getCanonicalHeaders(request), payloadHash);
  }
  toSign(canonical: string, scope: string): Promise<string> {
    return this.createStringToSign(SUITE.date, scope, canonical, 'AWS4-HMAC-SHA256');
  }
}

const TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
const VANILLA_GET = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';
const VANILLA_POST = '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b';
const UNRESERVED = '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

interface Case {
  name: string;
  description: string;
  method?: string;
  path?: string;
  query?: string;
  /** Headers besides Host and X-Amz-Date, in arrival order. */
  headers?: [string, string][];
  body?: string;
  host?: string;
  service?: string;
  official?: string;
  /** Session token: signed as a header, or added after signing (not signed). */
  token?: 'signed' | 'unsigned';
  presign?: { expiresIn: number; sessionToken?: string };
}

const CASES: Case[] = [
  { name: 'get-vanilla', description: 'GET / with only Host and X-Amz-Date', official: VANILLA_GET },
  {
    name: 'get-vanilla-query',
    description: 'GET / with an empty query string',
    query: '',
    official: VANILLA_GET,
  },
  { name: 'get-vanilla-empty-query-key', description: 'single query parameter', query: 'Param1=value1' },
  {
    name: 'get-vanilla-query-order-key',
    description: 'repeated key: values sorted by encoded value',
    query: 'Param1=value2&Param1=Value1',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    description: 'keys sorted by encoded key',
    query: 'Param2=value2&Param1=value1',
    official: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-vanilla-query-order-value',
    description: 'same key, values sorted',
    query: 'Param1=value2&Param1=value1',
  },
  {
    name: 'get-vanilla-query-unreserved',
    description: 'unreserved characters stay unencoded in keys and values',
    query: `${UNRESERVED}=${UNRESERVED}`,
  },
  {
    name: 'get-vanilla-utf8-query',
    description: 'UTF-8 key, percent-encoded on the wire',
    query: '%E1%88%B4=bar',
  },
  { name: 'get-vanilla-query-no-value', description: 'key without "=" has an empty value', query: 'Param1' },
  {
    name: 'get-vanilla-query-reserved',
    description: 'reserved characters and spaces re-encoded as %XY (lower-case hex normalised)',
    query: 'a%2fb=c%20d&x%3Dy=%21%2A',
  },
  {
    name: 'get-header-key-duplicate',
    description: 'repeated header: values joined with "," in arrival order',
    headers: [
      ['My-Header1', 'value2'],
      ['My-Header1', 'value2'],
      ['My-Header1', 'value1'],
    ],
    official: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-multiline',
    description: 'obsolete line folding: line breaks become single spaces',
    headers: [['My-Header1', 'value1\n  value2\n     value3']],
  },
  {
    name: 'get-header-value-order',
    official: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
    description: 'repeated header keeps arrival order, not sorted',
    headers: [
      ['My-Header1', 'value4'],
      ['My-Header1', 'value1'],
      ['My-Header1', 'value3'],
      ['My-Header1', 'value2'],
    ],
  },
  {
    name: 'get-header-value-trim',
    official: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
    description: 'values trimmed and inner whitespace runs collapsed',
    headers: [
      ['My-Header1', ' value1'],
      ['My-Header2', ' "a   b   c"'],
    ],
  },
  { name: 'get-unreserved', description: 'unreserved characters in the path', path: `/${UNRESERVED}` },
  { name: 'get-utf8', description: 'UTF-8 path segment', path: '/ሴ' },
  {
    name: 'get-space',
    official: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
    description: 'space in the path',
    path: '/example space/',
  },
  { name: 'get-slash', description: 'double slash normalised', path: '//', official: VANILLA_GET },
  { name: 'get-slash-dot-slash', description: '"." segment removed', path: '/./', official: VANILLA_GET },
  { name: 'get-slash-pointless-dot', description: '"." before a segment removed', path: '/./example' },
  { name: 'get-slashes', description: 'empty segments removed, trailing slash kept', path: '//example//' },
  { name: 'get-relative', description: '".." pops a segment', path: '/example/..', official: VANILLA_GET },
  {
    name: 'get-relative-relative',
    description: 'two ".." pop two segments',
    path: '/example1/example2/../..',
    official: VANILLA_GET,
  },
  {
    name: 'normalize-path-get-encoded-segment',
    description: 'an encoded path is encoded again (non-S3 double encoding)',
    path: '/example%20space/%E1%88%B4',
  },
  {
    name: 'post-header-key-case',
    description: 'header names lower-cased',
    method: 'POST',
    official: VANILLA_POST,
  },
  {
    name: 'post-header-key-sort',
    official: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
    description: 'headers sorted by name',
    method: 'POST',
    headers: [['My-Header1', 'value1']],
  },
  {
    name: 'post-header-value-case',
    official: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
    description: 'values keep their case',
    method: 'POST',
    headers: [['My-Header1', 'VALUE1']],
  },
  { name: 'post-vanilla', description: 'POST / with an empty body', method: 'POST', official: VANILLA_POST },
  {
    name: 'post-vanilla-query',
    official: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11',
    description: 'POST with a query parameter',
    method: 'POST',
    query: 'Param1=value1',
  },
  {
    name: 'post-vanilla-empty-query-value',
    description: 'POST with a query parameter whose value is empty',
    method: 'POST',
    query: 'Param1=',
  },
  {
    name: 'post-x-www-form-urlencoded',
    description: 'form body, content-type signed',
    method: 'POST',
    headers: [['Content-Type', 'application/x-www-form-urlencoded']],
    body: 'Param1=value1',
    official: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
  {
    name: 'post-x-www-form-urlencoded-parameters',
    official: '1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe',
    description: 'form body, content-type with a charset parameter',
    method: 'POST',
    headers: [['Content-Type', 'application/x-www-form-urlencoded; charset=utf8']],
    body: 'Param1=value1',
  },
  {
    name: 'post-sts-header-before',
    official: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
    description: 'session token signed as x-amz-security-token',
    method: 'POST',
    token: 'signed',
  },
  {
    name: 'post-sts-header-after',
    description: 'session token added after signing (not a signed header)',
    method: 'POST',
    token: 'unsigned',
    official: VANILLA_POST,
  },
  {
    name: 'gatepass-sts-get-caller-identity',
    description: 'what the AWS SDK sends to STS: form body, x-amz-content-sha256 signed',
    method: 'POST',
    host: 'sts.us-east-1.amazonaws.com',
    service: 'sts',
    headers: [
      ['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8'],
      ['Content-Length', '43'],
      ['X-Amz-Content-Sha256', 'ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843'],
    ],
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  },
  {
    name: 'presign-get-vanilla',
    description: 'presigned URL: signature in the query, host the only signed header',
    presign: { expiresIn: 3600 },
  },
  {
    name: 'presign-sts-get-caller-identity',
    description: 'presigned STS GetCallerIdentity with a session token (the EKS/Vault pattern)',
    host: 'sts.amazonaws.com',
    service: 'sts',
    query: 'Action=GetCallerIdentity&Version=2011-06-15',
    presign: { expiresIn: 60, sessionToken: TOKEN },
  },
];

/** RFC 3986 encoding for building the raw query of presigned vectors. */
const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function queryObject(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

async function build(c: Case): Promise<SigV4Vector> {
  const service = c.service ?? SUITE.service;
  const host = c.host ?? 'example.amazonaws.com';
  const method = c.method ?? 'GET';
  const path = c.path ?? '/';
  const query = c.query ?? '';
  const body = c.body ?? '';
  const sessionToken = c.token === 'signed' ? TOKEN : c.presign?.sessionToken;
  const credentials = {
    accessKeyId: SUITE.accessKeyId,
    secretAccessKey: SUITE.secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
  };
  const signer = new ReferenceSigner({
    credentials,
    region: SUITE.region,
    service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signingDate = new Date(SUITE.dateMs);
  const scope = `${SUITE.date.slice(0, 8)}/${SUITE.region}/${service}/aws4_request`;

  const raw: [string, string][] = [['Host', host], ...(c.headers ?? [])];
  const headers: Record<string, string> = {};
  for (const [k, v] of raw) headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  const request = new HttpRequest({
    method,
    protocol: 'https:',
    hostname: host,
    path,
    query: queryObject(query),
    headers,
    body,
  });

  if (c.presign) {
    const signed = await signer.presign(request, { signingDate, expiresIn: c.presign.expiresIn });
    const signedQuery = signed.query ?? {};
    const rawQuery = Object.entries(signedQuery)
      .flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? '']).map((x) => `${rfc3986(k)}=${rfc3986(x)}`))
      .join('&');
    const signature = String(signedQuery['X-Amz-Signature']);
    const canonicalRequest = signer.canonical(
      signed,
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    return {
      name: c.name,
      description: c.description,
      credentials,
      region: SUITE.region,
      service,
      date: SUITE.date,
      presigned: true,
      request: { method, path, query: rawQuery, rawHeaders: raw.flat(), body },
      signedHeaders: String(signedQuery['X-Amz-SignedHeaders']).split(';'),
      canonicalRequest,
      stringToSign: await signer.toSign(canonicalRequest, scope),
      signature,
    };
  }

  const signed = await signer.sign(request, { signingDate });
  const authorization = String(signed.headers.authorization);
  const signature = authorization.replace(/^.*Signature=/, '');
  const signedHeaders = authorization.replace(/^.*SignedHeaders=([^,]+),.*$/, '$1').split(';');
  // The canonical request of exactly what was signed (the signer added x-amz-date and the token).
  const { authorization: _drop, ...signedOnly } = signed.headers;
  const canonicalRequest = signer.canonical(
    new HttpRequest({ ...signed, headers: signedOnly }),
    signed.headers['x-amz-content-sha256'] ??
      (await (async () => {
        const h = new Sha256();
        h.update(body);
        return Buffer.from(await h.digest()).toString('hex');
      })()),
  );
  raw.push(['X-Amz-Date', SUITE.date]);
  if (sessionToken || c.token === 'unsigned') raw.push(['X-Amz-Security-Token', TOKEN]);
  raw.push(['Authorization', authorization]);
  const v: SigV4Vector = {
    name: c.name,
    description: c.description,
    credentials,
    region: SUITE.region,
    service,
    date: SUITE.date,
    presigned: false,
    request: { method, path, query, rawHeaders: raw.flat(), body },
    signedHeaders,
    canonicalRequest,
    stringToSign: await signer.toSign(canonicalRequest, scope),
    signature,
    authorization,
  };
  if (c.official) {
    if (c.official !== signature)
      throw new Error(`${c.name}: reference signer disagrees with the official suite`);
    v.officialSignature = c.official;
  }
  return v;
}

const dir = new URL('../vectors/sigv4/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const c of CASES) {
  const v = await build(c);
  writeFileSync(new URL(`${c.name}.json`, dir), `${JSON.stringify(v, null, 2)}\n`);
}
process.stdout.write(`wrote ${CASES.length} vectors\n`);
