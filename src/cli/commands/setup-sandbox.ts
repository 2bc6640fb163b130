// The in-memory cloud side of a setup file, for commands that work offline (`simulate -f`,
// `reach -f`): an unreadable or invalid file is a usage error that names its problems.
import { readFile } from 'node:fs/promises';
import { openSandbox, type Sandbox } from '../../cloud/explain/sandbox.js';
import { parseSetup, SetupError } from '../../cloud/setup/schema.js';
import { systemClock } from '../../runtime/clock.js';
import { cryptoRandom } from '../../runtime/random.js';
import { openSqliteStore } from '../../store/sqlite.js';
import { UsageError } from '../lib/output.js';

export async function openSetupSandbox(file: string): Promise<Sandbox> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read setup file ${file}`);
  }
  try {
    return await openSandbox(parseSetup(text, file, process.env), file, {
      clock: systemClock,
      random: cryptoRandom,
      openStore: () => openSqliteStore({ path: ':memory:' }),
    });
  } catch (err) {
    if (err instanceof SetupError)
      throw new UsageError(`invalid setup file ${file}`, [...new Set(err.lines())]);
    throw err;
  }
}
