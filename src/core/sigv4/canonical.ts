// The canonical request (AWS "Create a canonical request"), built from the request as received.
// Non-S3 rules: the path is normalised ('.', '..', empty segments) and each raw segment is encoded
// again, so the canonical URI is the double encoding of the decoded path.
import { normaliseComponent, uriEncode } from './encode.js';
import { ALGORITHM, type CredentialScope, type QueryParam, TERMINATOR } from './types.js';

/** Split node's `req.url` (request target) into the raw path and raw query SigV4Request expects. */
export function splitTarget(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

export function canonicalUri(rawPath: string): string {
  if (rawPath === '' || rawPath === '/') return '/';
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  if (segments.length === 0) return '/';
  return `/${segments.join('/')}${rawPath.endsWith('/') ? '/' : ''}`;
}

/** Split a raw query string into parameters; a key without '=' has an empty value. */
export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  if (rawQuery === '') return params;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const k = normaliseComponent(eq < 0 ? pair : pair.slice(0, eq), true);
    const v = normaliseComponent(eq < 0 ? '' : pair.slice(eq + 1), true);
    params.push({ key: k.text, value: v.text, encodedKey: k.encoded, encodedValue: v.encoded });
  }
  return params;
}

const byEncodedKeyThenValue = (a: QueryParam, b: QueryParam): number =>
  a.encodedKey < b.encodedKey
    ? -1
    : a.encodedKey > b.encodedKey
      ? 1
      : a.encodedValue < b.encodedValue
        ? -1
        : a.encodedValue > b.encodedValue
          ? 1
          : 0;

/** Sorted by encoded key, then encoded value; X-Amz-Signature is left out for presigned requests. */
export function canonicalQuery(params: readonly QueryParam[], omitSignature: boolean): string {
  if (params.length === 0) return '';
  const kept = omitSignature ? params.filter((p) => p.key !== 'X-Amz-Signature') : params.slice();
  kept.sort(byEncodedKeyThenValue);
  let out = '';
  for (let i = 0; i < kept.length; i++) {
    const p = kept[i] as QueryParam;
    out += `${i === 0 ? '' : '&'}${p.encodedKey}=${p.encodedValue}`;
  }
  return out;
}

/** Lower-case header name → its values in arrival order. */
export type HeaderIndex = Map<string, string[]>;

export function indexHeaders(rawHeaders: readonly string[]): HeaderIndex {
  const index: HeaderIndex = new Map();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    const values = index.get(name);
    if (values) values.push(value);
    else index.set(name, [value]);
  }
  return index;
}

// The ends are checked apart: `^ | $` as alternatives made the engine try them at every position
// of a ~1,000-character session token.
const NEEDS_FOLDING = /[\t\r\n]| {2}/;
const SPACE = 32;

/** Trim, turn line breaks into spaces and collapse runs of spaces and tabs to one space. */
export function foldHeaderValue(value: string): string {
  const clean =
    value.charCodeAt(0) !== SPACE &&
    value.charCodeAt(value.length - 1) !== SPACE &&
    !NEEDS_FOLDING.test(value);
  if (clean) return value;
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

/** `name:v1,v2\n` for each signed header, in the order of the SignedHeaders list. */
export function canonicalHeaders(index: HeaderIndex, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const values = index.get(name);
    let joined = '';
    if (values) {
      for (let i = 0; i < values.length; i++)
        joined += (i === 0 ? '' : ',') + foldHeaderValue(values[i] as string);
    }
    out += `${name}:${joined}\n`;
  }
  return out;
}

export interface CanonicalParts {
  method: string;
  uri: string;
  query: string;
  headers: string;
  signedHeaders: readonly string[];
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  return `${p.method}\n${p.uri}\n${p.query}\n${p.headers}\n${p.signedHeaders.join(';')}\n${p.payloadHash}`;
}

export function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/${TERMINATOR}`;
}

export function stringToSign(amzDate: string, scope: CredentialScope, canonicalRequestHash: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scopeString(scope)}\n${canonicalRequestHash}`;
}
