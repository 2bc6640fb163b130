// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` → typed struct.
// Each malformation has its own AWS-worded IncompleteSignature message; missing parameters are all
// reported at once, as AWS does.
import { AwsError } from '../query/errors.js';
import { clip, parseCredential, parseSignedHeaders } from './parse-credential.js';
import { ALGORITHM, type ParsedAuthorization } from './types.js';

const REQUIRED = ['Credential', 'Signature', 'SignedHeaders'] as const;

function missingMessage(missing: readonly string[]): string {
  return missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ');
}

export function parseAuthorization(header: string): ParsedAuthorization {
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ALGORITHM) {
    if (algorithm.startsWith('AWS4-')) {
      throw new AwsError('IncompleteSignature', `Unsupported AWS 'algorithm': '${clip(algorithm)}'.`);
    }
    throw new AwsError('IncompleteSignature', missingMessage(REQUIRED));
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new AwsError(
        'IncompleteSignature',
        `'${clip(item)}' not a valid key=value pair (missing equal-sign) in Authorization header.`,
      );
    }
    const key = item.slice(0, eq);
    if (fields.has(key)) {
      throw new AwsError(
        'IncompleteSignature',
        `Authorization header has a duplicate '${clip(key)}' parameter.`,
      );
    }
    fields.set(key, item.slice(eq + 1));
  }
  const missing = REQUIRED.filter((p) => !fields.get(p));
  if (missing.length > 0) throw new AwsError('IncompleteSignature', missingMessage(missing));
  return {
    credential: parseCredential(fields.get('Credential') ?? ''),
    signedHeaders: parseSignedHeaders(fields.get('SignedHeaders') ?? ''),
    signature: fields.get('Signature') ?? '',
  };
}
