// `gatepass apply -f setup.yaml [--dry-run]`: the declarative setup of accounts, the organization,
// OIDC providers, roles, policies and users, applied to the store in one transaction. New accounts
// get a bootstrap administrator whose keys are appended to <dataDir>/aws-credentials.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { bootstrapAccounts } from '../../cloud/bootstrap.js';
import { offlineKeyDeps } from '../../cloud/offline.js';
import { applySetup } from '../../cloud/setup/apply.js';
import { parseSetup, SetupError } from '../../cloud/setup/schema.js';
import { awsCliUsage, endpointOf } from '../../cloud/setup/usage.js';
import { systemClock } from '../../core/deps.js';
import { cryptoRandom } from '../../core/random.js';
import { CREDENTIALS_FILE } from '../../server/cloud-mount.js';
import { loadConfig } from '../../server/config.js';
import { loadMasterKey } from '../../server/master-key.js';
import { openStore } from '../../store/open.js';
import { createOutput, UsageError } from '../output.js';
import type { CommandModule } from './index.js';

interface ApplyOptions {
  file: string;
  dryRun?: boolean;
  dataDir?: string;
  databaseUrl?: string;
  config?: string;
  json?: boolean;
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
      .action(async (options: ApplyOptions) => {
        const out = createOutput();
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
        const store = await openStore(
          config.databaseUrl !== undefined
            ? { dataDir: config.dataDir, databaseUrl: config.databaseUrl }
            : { dataDir: config.dataDir },
        );
        try {
          let result: Awaited<ReturnType<typeof applySetup>>;
          try {
            result = await applySetup(
              store,
              spec,
              { random: cryptoRandom, clock: systemClock },
              { file: options.file, dryRun: options.dryRun ?? false },
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
          if (!options.dryRun) {
            const masterKey = loadMasterKey(
              config.masterKeyFile !== undefined
                ? { dataDir: config.dataDir, masterKeyFile: config.masterKeyFile }
                : { dataDir: config.dataDir },
            );
            const credentialsFile = join(config.dataDir, CREDENTIALS_FILE);
            const boot = await bootstrapAccounts(
              store,
              await offlineKeyDeps(store, masterKey, cryptoRandom, systemClock),
              { credentialsFile },
            );
            for (const c of boot.created) {
              if (!options.json) {
                out.line(
                  `administrator of account ${c.accountId}: profile ${c.profile} in ${credentialsFile}`,
                );
                out.line(`  ${awsCliUsage(c.profile, credentialsFile, endpointOf(config))}`);
              }
            }
          }
        } finally {
          await store.close();
        }
      });
  },
};
