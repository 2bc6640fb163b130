// Commands that read a gatepass store directly (`--data-dir` or `--database-url`) instead of asking
// a running node: the same configuration sources as `gatepass serve`, flags first.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SealingKeys } from '../../cloud/sessions/keys.js';
import { systemClock } from '../../runtime/clock.js';
import { cryptoRandom } from '../../runtime/random.js';
import { type Config, loadConfig } from '../../server/config.js';
import { loadMasterKey } from '../../server/master-key.js';
import { openStore, SQLITE_FILE } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { UsageError } from '../lib/output.js';

export interface LocalFlags {
  dataDir?: string;
  databaseUrl?: string;
  config?: string;
}

/** Adds --data-dir, --database-url and --config (local mode instead of --server). */
export function withLocalOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <path>', 'read this data directory directly instead of asking a running server')
    .option('--database-url <url>', 'read this PostgreSQL store directly instead of asking a running server')
    .option('--config <file>', 'gatepass config file, for --data-dir/--database-url (env GATEPASS_CONFIG)');
}

export const isLocal = (f: LocalFlags): boolean => f.dataDir !== undefined || f.databaseUrl !== undefined;

export interface LocalStore {
  store: Store;
  config: Config;
  /** The sealing keys (opens encoded authorization messages); needs the master key. */
  sealingKeys(): Promise<SealingKeys>;
}

export async function withLocalStore<T>(f: LocalFlags, fn: (local: LocalStore) => Promise<T>): Promise<T> {
  const flags: Record<string, unknown> = {};
  if (f.dataDir !== undefined) flags.dataDir = f.dataDir;
  if (f.databaseUrl !== undefined) flags.databaseUrl = f.databaseUrl;
  const config = await loadConfig(
    f.config !== undefined ? { env: process.env, flags, configPath: f.config } : { env: process.env, flags },
  );
  // These commands only read: a wrong directory must not become a new, empty store.
  if (config.databaseUrl === undefined && !existsSync(join(config.dataDir, SQLITE_FILE)))
    throw new UsageError(`no gatepass store in ${config.dataDir}`);
  const store = await openStore(
    config.databaseUrl !== undefined
      ? { dataDir: config.dataDir, databaseUrl: config.databaseUrl }
      : { dataDir: config.dataDir },
  );
  try {
    return await fn({
      store,
      config,
      async sealingKeys() {
        const masterKey = loadMasterKey(
          config.masterKeyFile !== undefined
            ? { dataDir: config.dataDir, masterKeyFile: config.masterKeyFile }
            : { dataDir: config.dataDir },
        );
        const keys = new SealingKeys(store, masterKey, cryptoRandom, systemClock);
        await keys.load();
        return keys;
      },
    });
  } finally {
    await store.close();
  }
}
