// The cloud side's key material for commands that work on the store directly (setup, bootstrap)
// rather than through a running node.
import type { Clock, Random } from '../../core/deps.js';
import type { Store } from '../../store/types.js';
import type { KeyDeps } from '../iam/users.js';
import { deriveAccessKeySecret } from '../sessions/credentials.js';
import { SealingKeys } from '../sessions/keys.js';

export async function offlineKeyDeps(
  store: Store,
  masterKey: Uint8Array,
  random: Random,
  clock: Clock,
): Promise<KeyDeps & { changed(): void }> {
  const keys = new SealingKeys(store, masterKey, random, clock);
  await keys.load();
  return {
    random,
    clock,
    currentKeyVersion: () => keys.active().version,
    accessKeySecret: (id, version) => {
      const key = keys.get(version);
      if (!key) throw new Error(`sealing key ${version} is missing`);
      return deriveAccessKeySecret(key, id);
    },
    // A running node notices store changes through its change feed.
    changed: () => undefined,
  };
}
