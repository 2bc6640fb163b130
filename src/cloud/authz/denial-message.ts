// AWS's STS and IAM deny with words only; the encoded authorization failure message is what other
// AWS services (EC2 and the like) append. A node may append one too (`denialMessages: encoded`), so
// that `sts decode-authorization-message` and `gatepass explain --message` can tell the story.
// The message is sealed with the sealing key of the day, so any node can open it and no client can.
import { open, seal } from '../../core/crypto/aead.js';
import type { Random } from '../../core/deps.js';
import type { SealingKeys } from '../sessions/keys.js';

const MESSAGE_AAD = 'gatepass:authorization-message';

/** Seals a denial's story with the active sealing key: `<key version>.<sealed JSON>`. */
export function sealAuthorizationMessage(
  keys: SealingKeys,
  random: Random,
  message: Record<string, unknown>,
): string {
  const key = keys.active();
  return `${key.version}.${seal(key.key, Buffer.from(JSON.stringify(message)), MESSAGE_AAD, random)}`;
}

/** Opens an encoded authorization message sealed by any node (undefined when it is not one). */
export function openAuthorizationMessage(
  keys: SealingKeys,
  encoded: string,
): Record<string, unknown> | undefined {
  const match = /^(\d{1,9})\.([A-Za-z0-9_-]+)$/.exec(encoded.trim());
  const key = match?.[1] ? keys.get(Number(match[1])) : undefined;
  if (!key || !match?.[2]) return undefined;
  try {
    return JSON.parse(open(key.key, match[2], MESSAGE_AAD).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
