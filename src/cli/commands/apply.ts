// `gatepass apply -f setup.yaml [--dry-run]`: the declarative setup of accounts, the organization,
// OIDC providers, roles, policies and users, applied to the store in one transaction. New accounts
// get a bootstrap administrator whose keys are appended to <dataDir>/aws-credentials.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { bootstrapAccounts, issueUserAccessKeys } from '../../cloud/offline/bootstrap.js';
import { offlineKeyDeps } from '../../cloud/offline/keys.js';
import { applySetup } from '../../cloud/setup/apply.js';
import { parseSetup, SetupError } from '../../cloud/setup/schema.js';
import { awsCliUsage, endpointOf } from '../../cloud/setup/usage.js';
import { systemClock } from '../../runtime/clock.js';
import { cryptoRandom } from '../../runtime/random.js';
import { CREDENTIALS_FILE, recordedEndpoint } from '../../server/cloud-mount.js';
import { type Config, loadConfig } from '../../server/config.js';
import { findMasterKey, loadMasterKey, MASTER_KEY_ENV, masterKeySource } from '../../server/master-key.js';
import { checkSealedValues, holdsSealedValues } from '../../server/sealed-values.js';
import { openStore, SQLITE_FILE } from '../../store/open.js';
import { openSqliteStore } from '../../store/sqlite.js';
import type { Store } from '../../store/types.js';
import { outputOf } from '../lib/issuer-client.js';
import { UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';

interface ApplyOptions {
  file: string;
  dryRun?: boolean;
  dataDir?: string;
  databaseUrl?: string;
  config?: string;
  json?: boolean;
}

/**
 * The master key `apply` may write under, or a UsageError before anything is written: the key must
 * open the store's sealed values. Only an embedded store that holds none yet gets a new key (in its
 * data directory, as `gatepass serve` would); a PostgreSQL store never does, since its nodes would
 * not have it.
 */
async function masterKeyFor(store: Store, config: Config): Promise<Uint8Array> {
  const options =
    config.masterKeyFile !== undefined
      ? { dataDir: config.dataDir, masterKeyFile: config.masterKeyFile }
      : { dataDir: config.dataDir };
  const where = config.databaseUrl !== undefined ? 'the PostgreSQL store' : `the store in ${config.dataDir}`;
  const hint = [
    `${where} is sealed under the master key of the nodes that serve it`,
    `give apply that key: ${MASTER_KEY_ENV} (base64), or masterKeyFile in --config`,
  ];
  const found = findMasterKey(options);
  if (found === undefined) {
    if (config.databaseUrl !== undefined || (await holdsSealedValues(store)))
      throw new UsageError(`no master key for ${where}; nothing was written`, hint);
    return loadMasterKey(options);
  }
  if ((await checkSealedValues(store, found)) === 'mismatch')
    throw new UsageError(
      `the master key from ${masterKeySource(options)} does not open ${where}; nothing was written`,
      hint,
    );
  return found;
}

export const applyCommand: CommandModule = {
  register(program: Command) {
    program
      .command('apply')
      .description(
        'Apply a setup file (accounts, organization, OIDC providers, roles, policies, users) in one transaction.',
      )
      .requiredOption(
        '-f, --file <setup.yaml>',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the help text shows the literal placeholder syntax.
        'setup file (YAML or JSON); ${env:NAME} placeholders are filled from the environment',
      )
      .option('--dry-run', 'print the changes without writing anything')
      .option('--data-dir <path>', 'data directory of the embedded store (env GATEPASS_DATA_DIR)')
      .option(
        '--database-url <url>',
        'PostgreSQL store instead of the embedded one (env GATEPASS_DATABASE_URL)',
      )
      .option('--config <file>', 'gatepass config file (env GATEPASS_CONFIG)')
      .option('--json', 'print the changes as JSON')
      .action(async (options: ApplyOptions, c: Command) => {
        const out = outputOf(c);
        const flags: Record<string, unknown> = {};
        if (options.dataDir !== undefined) flags.dataDir = options.dataDir;
        if (options.databaseUrl !== undefined) flags.databaseUrl = options.databaseUrl;
        const config = await loadConfig(
          options.config !== undefined
            ? { env: process.env, flags, configPath: options.config }
            : { env: process.env, flags },
        );
        let text: string;
        try {
          text = await readFile(options.file, 'utf8');
        } catch {
          throw new UsageError(`cannot read setup file ${options.file}`);
        }
        let spec: ReturnType<typeof parseSetup>;
        try {
          spec = parseSetup(text, options.file, process.env);
        } catch (err) {
          if (err instanceof SetupError)
            throw new UsageError(`invalid setup file ${options.file}`, err.lines());
          throw err;
        }
        const dryRun = options.dryRun ?? false;
        // A dry run writes nothing at all: with no embedded store yet, it plans against an empty
        // one in memory rather than create the data directory and its database.
        const store =
          dryRun && config.databaseUrl === undefined && !existsSync(join(config.dataDir, SQLITE_FILE))
            ? openSqliteStore({ path: ':memory:' })
            : await openStore(
                config.databaseUrl !== undefined
                  ? { dataDir: config.dataDir, databaseUrl: config.databaseUrl }
                  : { dataDir: config.dataDir },
              );
        try {
          // Checked before the first write: entities written under a key the nodes do not have are lost.
          const masterKey = dryRun ? undefined : await masterKeyFor(store, config);
          let result: Awaited<ReturnType<typeof applySetup>>;
          try {
            result = await applySetup(
              store,
              spec,
              { random: cryptoRandom, clock: systemClock },
              { file: options.file, dryRun },
            );
          } catch (err) {
            if (err instanceof SetupError)
              throw new UsageError(`setup file ${options.file} was not applied`, err.lines());
            throw err;
          }
          const changed = result.changes.filter((c) => c.op !== 'unchanged');
          if (options.json) {
            out.json({ dryRun: options.dryRun ?? false, changes: result.changes, accounts: result.accounts });
          } else {
            if (changed.length > 0)
              out.table(
                changed.map((c) => ({
                  op: c.op,
                  kind: c.kind,
                  name: c.name,
                  fields: c.fields?.join(', ') ?? '',
                })),
                ['op', 'kind', 'name', 'fields'],
              );
            const verb = options.dryRun ? 'would change' : 'changed';
            out.success(
              `${verb} ${changed.length} of ${result.changes.length} entities${options.dryRun ? ' (dry run: nothing written)' : ''}`,
            );
          }
          if (masterKey !== undefined) {
            const credentialsFile = join(config.dataDir, CREDENTIALS_FILE);
            // Where clients reach the node: as the user names it, else as the node last announced
            // it in this data directory, else from the listen settings.
            const endpoint =
              process.env.GATEPASS_SERVER?.replace(/\/+$/, '') ||
              recordedEndpoint(config.dataDir) ||
              endpointOf(config);
            const ids = new Map(result.accounts.map((a) => [a.name, a.id]));
            const deps = await offlineKeyDeps(store, masterKey, cryptoRandom, systemClock);
            const boot = await bootstrapAccounts(store, deps, {
              credentialsFile,
              newAccounts: result.changes
                .filter((c) => c.kind === 'account' && c.op === 'create')
                .flatMap((c) => ids.get(c.name) ?? []),
            });
            const keys = await issueUserAccessKeys(
              store,
              deps,
              spec.accounts.flatMap((a) =>
                a.users
                  .filter((u) => u.accessKey)
                  .map((u) => ({ accountId: ids.get(a.name) ?? '', accountName: a.name, userName: u.name })),
              ),
              credentialsFile,
            );
            if (!options.json) {
              for (const c of boot.created) {
                out.line(
                  `administrator of account ${c.accountId}: profile ${c.profile} in ${credentialsFile}`,
                );
                out.line(`  ${awsCliUsage(c.profile, credentialsFile, endpoint)}`);
              }
              for (const c of keys) {
                out.line(`access key ${c.accessKeyId}: profile ${c.profile} in ${credentialsFile}`);
                out.line(`  ${awsCliUsage(c.profile, credentialsFile, endpoint)}`);
              }
            }
          }
        } finally {
          await store.close();
        }
      });
  },
};
