// The Credential value (header or X-Amz-Credential): keyid/date/region/service/aws4_request, and
// the SignedHeaders list. Shared by both ways of carrying a signature.
import { AwsError } from '../query/errors.js';
import { type CredentialScope, TERMINATOR } from './types.js';

/** Client-supplied text echoed in messages is cut short; it is never a secret. */
export const clip = (s: string): string => (s.length > 128 ? `${s.slice(0, 128)}…` : s);

export function parseCredential(value: string): CredentialScope {
  const parts = value.split('/');
  if (parts.length !== 5) {
    throw new AwsError(
      'IncompleteSignature',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${clip(value)}'`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (terminator !== TERMINATOR) {
    throw new AwsError(
      'SignatureDoesNotMatch',
      `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${clip(terminator)}'.`,
    );
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
      throw new AwsError(
        'IncompleteSignature',
        `SignedHeaders must be a ';'-separated list of lower-case header names, got '${clip(value)}'.`,
      );
    }
    const prev = names[i - 1];
    if (prev !== undefined && prev >= name) {
      if (prev === name) {
        throw new AwsError('IncompleteSignature', `SignedHeaders lists '${clip(name)}' more than once.`);
      }
      sorted = false;
    }
  }
  if (sorted) return names;
  names.sort();
  // Sorting can bring a duplicate next to its twin.
  for (let i = 1; i < names.length; i++) {
    if (names[i] === names[i - 1]) {
      throw new AwsError(
        'IncompleteSignature',
        `SignedHeaders lists '${clip(names[i] as string)}' more than once.`,
      );
    }
  }
  return names;
}
