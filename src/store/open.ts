// Chooses the engine: PostgreSQL when a database URL is configured, else the embedded SQLite file
// under the data directory, created on first start.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  dataDir: string;
  databaseUrl?: string;
}

export const SQLITE_FILE = 'gatepass.db';

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl !== undefined) {
    // Loaded on demand so the embedded default never pays for the PostgreSQL client.
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore({ url: options.databaseUrl });
  }
  // The data directory holds keys at rest (sealed, but still): owner-only.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore({ path: join(options.dataDir, SQLITE_FILE) });
}
