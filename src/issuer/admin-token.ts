// The administrator's bearer token: created on first start (when the store has none), written to
// <dataDir>/admin-token with mode 0600, and announced once. Only its SHA-256 is stored.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Random } from '../core/deps.js';
import { hcpId } from '../core/ids.js';
import type { AdminTokenRecord } from '../store/records/platform.js';
import type { Store } from '../store/types.js';
import { ADMIN_TOKEN_PREFIX, generateSecret, hashSecret } from './secrets.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

export interface AdminTokenOptions {
  store: Store;
  clock: Clock;
  random: Random;
  dataDir: string;
  /** Told once about a new token: the secret and the file holding it. */
  announce: (token: string, path: string) => void;
}

/** Returns the new token's id, or undefined when an active admin token already exists. */
export async function ensureAdminToken(options: AdminTokenOptions): Promise<string | undefined> {
  const existing = await options.store.list('adminToken');
  if (existing.some((t) => t.revokedAt === undefined)) return undefined;
  const token = generateSecret(options.random, ADMIN_TOKEN_PREFIX);
  const record: AdminTokenRecord = {
    id: hcpId(options.random, 'adm'),
    hash: hashSecret(token),
    createdAt: options.clock.now(),
  };
  const path = join(options.dataDir, ADMIN_TOKEN_FILE);
  // Written before the record lands: a crash between leaves a stale file, never a lost secret.
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'w' });
  await options.store.insert('adminToken', record);
  options.announce(token, path);
  return record.id;
}
