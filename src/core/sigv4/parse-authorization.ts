// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` → typed struct.
// Each malformation is its own typed failure (the protocol words it); missing parameters are all
// reported at once, as AWS does.
import { SigV4Failure } from './failure.js';
import { clip, parseCredential, parseSignedHeaders } from './parse-credential.js';
import { ALGORITHM, type ParsedAuthorization } from './types.js';

const REQUIRED = ['Credential', 'Signature', 'SignedHeaders'] as const;

export function parseAuthorization(header: string): ParsedAuthorization {
  const trimmed = header.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ALGORITHM) {
    if (algorithm.startsWith('AWS4-')) {
      throw new SigV4Failure({ kind: 'unsupported-algorithm', algorithm: clip(algorithm) });
    }
    throw new SigV4Failure({ kind: 'missing-parameters', missing: REQUIRED });
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new SigV4Failure({ kind: 'not-key-value', item: clip(item) });
    }
    const key = item.slice(0, eq);
    if (fields.has(key)) {
      throw new SigV4Failure({ kind: 'duplicate-parameter', key: clip(key) });
    }
    fields.set(key, item.slice(eq + 1));
  }
  const missing = REQUIRED.filter((p) => !fields.get(p));
  if (missing.length > 0) throw new SigV4Failure({ kind: 'missing-parameters', missing });
  return {
    credential: parseCredential(fields.get('Credential') ?? ''),
    signedHeaders: parseSignedHeaders(fields.get('SignedHeaders') ?? ''),
    signature: fields.get('Signature') ?? '',
  };
}
