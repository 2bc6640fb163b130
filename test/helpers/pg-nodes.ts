// Two stores on one fresh PostgreSQL database, as two nodes of a deployment see it: for tests that
// race them. The sandbox starts on first use; the test file stops it (`stopPgSandbox`) when done.
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';

let sandbox: PostgresSandbox | undefined;

/** Two connections ("nodes") to a new database named `name`. */
export async function twoPostgresNodes(name: string): Promise<[Store, Store]> {
  sandbox ??= await startPostgres();
  const url = await sandbox.createDatabase(name);
  const [a, b] = await Promise.all([openPostgresStore({ url }), openPostgresStore({ url })]);
  return [a, b];
}

export async function stopPgSandbox(): Promise<void> {
  await sandbox?.stop();
  sandbox = undefined;
}
