// Loading SigV4 vectors and turning them into verifier inputs.
import { readdirSync, readFileSync } from 'node:fs';
import type { SigV4Request } from '../../src/core/sigv4/index.js';
import type { SigV4Vector } from './vector-types.js';

const DIR = new URL('../vectors/sigv4/', import.meta.url);

export function loadVectors(): SigV4Vector[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as SigV4Vector);
}

export function toRequest(v: SigV4Vector): SigV4Request {
  return {
    method: v.request.method,
    path: v.request.path,
    query: v.request.query,
    rawHeaders: v.request.rawHeaders,
    body: Buffer.from(v.request.body, 'utf8'),
  };
}

/** A lookup that knows exactly one key. */
export const lookupFor =
  (v: SigV4Vector) =>
  (accessKeyId: string): { secretAccessKey: string } | undefined =>
    accessKeyId === v.credentials.accessKeyId
      ? { secretAccessKey: v.credentials.secretAccessKey }
      : undefined;

/** Replace the value of the first header called `name` (case-insensitive). */
export function withHeader(raw: readonly string[], name: string, value: string): string[] {
  const out = raw.slice();
  const i = out.findIndex((h, n) => n % 2 === 0 && h.toLowerCase() === name);
  if (i < 0) throw new Error(`no ${name} header`);
  out[i + 1] = value;
  return out;
}

export interface SignInput {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: [string, string][];
  body?: string;
  dateMs: number;
  service?: string;
  region?: string;
  sessionToken?: string;
  presignExpires?: number;
}

export const KEY = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
export const knownKey = (id: string): { secretAccessKey: string } | undefined =>
  id === KEY.accessKeyId ? { secretAccessKey: KEY.secretAccessKey } : undefined;

const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Sign a request with the reference signer and return it as the server would receive it. */
export async function signRequest(input: SignInput): Promise<SigV4Request> {
  const { HttpRequest } = await import('@smithy/protocol-http');
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const credentials = { ...KEY, ...(input.sessionToken ? { sessionToken: input.sessionToken } : {}) };
  const signer = new SignatureV4({
    credentials,
    region: input.region ?? 'us-east-1',
    service: input.service ?? 'sts',
    sha256: Sha256,
    applyChecksum: false,
  });
  const raw: [string, string][] = [['Host', 'sts.amazonaws.com'], ...(input.headers ?? [])];
  const headers: Record<string, string> = {};
  for (const [k, v] of raw) headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  const request = new HttpRequest({
    method: input.method ?? 'POST',
    protocol: 'https:',
    hostname: 'sts.amazonaws.com',
    path: input.path ?? '/',
    query: { ...input.query },
    headers,
    body: input.body ?? '',
  });
  const signingDate = new Date(input.dateMs);
  const body = Buffer.from(input.body ?? '', 'utf8');
  if (input.presignExpires !== undefined) {
    const signed = await signer.presign(request, { signingDate, expiresIn: input.presignExpires });
    const query = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${rfc3986(k)}=${rfc3986(String(v))}`)
      .join('&');
    return { method: request.method, path: request.path, query, rawHeaders: raw.flat(), body };
  }
  const signed = await signer.sign(request, { signingDate });
  for (const name of ['x-amz-date', 'x-amz-security-token', 'authorization']) {
    const value = signed.headers[name];
    if (value !== undefined) raw.push([name === 'authorization' ? 'Authorization' : name, value]);
  }
  const query = Object.entries(input.query ?? {})
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .join('&');
  return { method: request.method, path: request.path, query, rawHeaders: raw.flat(), body };
}
