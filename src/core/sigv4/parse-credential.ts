// The Credential value (header or X-Amz-Credential): keyid/date/region/service/aws4_request, and
// the SignedHeaders list. Shared by both ways of carrying a signature.
import { SigV4Failure } from './failure.js';
import { type CredentialScope, TERMINATOR } from './types.js';

/** Client-supplied text echoed in messages is cut short; it is never a secret. */
export const clip = (s: string): string => (s.length > 128 ? `${s.slice(0, 128)}…` : s);

export function parseCredential(value: string): CredentialScope {
  const parts = value.split('/');
  if (parts.length !== 5) {
    throw new SigV4Failure({ kind: 'credential-elements', value: clip(value) });
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (terminator !== TERMINATOR) {
    throw new SigV4Failure({ kind: 'credential-terminator', terminator: clip(terminator) });
  }
  return { accessKeyId, date, region, service };
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Lower-case names, sorted as the canonical request lists them (a conforming client already sorts). */
export function parseSignedHeaders(value: string): string[] {
  const names = value.split(';');
  let sorted = true;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (!HEADER_NAME.test(name)) {
      throw new SigV4Failure({ kind: 'signed-headers-format', value: clip(value) });
    }
    const prev = names[i - 1];
    if (prev !== undefined && prev >= name) {
      if (prev === name) {
        throw new SigV4Failure({ kind: 'signed-headers-duplicate', name: clip(name) });
      }
      sorted = false;
    }
  }
  if (sorted) return names;
  names.sort();
  // Sorting can bring a duplicate next to its twin.
  for (let i = 1; i < names.length; i++) {
    if (names[i] === names[i - 1]) {
      throw new SigV4Failure({ kind: 'signed-headers-duplicate', name: clip(names[i] as string) });
    }
  }
  return names;
}
