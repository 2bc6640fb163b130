// `gatepass serve`: run a node. Every configuration key is a flag, generated from the config schema.
import { type Command, Option } from 'commander';
import { CONFIG_SCHEMA, type ConfigKeySpec, loadConfig } from '../../server/config.js';
import type { CommandModule } from './index.js';

const PLACEHOLDER: Record<ConfigKeySpec['type'], string> = {
  string: 'value',
  integer: 'n',
  port: 'port',
  url: 'url',
  path: 'path',
  enum: 'level',
};

function describe(spec: ConfigKeySpec): string {
  const extra = [`env ${spec.env}`];
  if (spec.choices) extra.push(`one of ${spec.choices.join('|')}`);
  if (spec.default !== undefined) extra.push(`default ${spec.default}`);
  return `${spec.description} (${extra.join('; ')})`;
}

export const serveCommand: CommandModule = {
  register(program: Command) {
    const cmd = program
      .command('serve')
      .description('Run the gatepass server (issuer, STS/IAM endpoints, health and metrics).')
      .option('--config <file>', 'JSON or YAML config file (env GATEPASS_CONFIG)');
    // No commander defaults or choices: values are validated together by resolveConfig, so every
    // problem is reported at once and a flag only overrides what was actually given.
    const options = CONFIG_SCHEMA.map((spec) => {
      const option = new Option(`${spec.flag} <${PLACEHOLDER[spec.type]}>`, describe(spec));
      cmd.addOption(option);
      return { spec, option };
    });
    cmd.action(async (raw: Record<string, unknown>) => {
      const flags: Record<string, unknown> = {};
      for (const { spec, option } of options) {
        const value = raw[option.attributeName()];
        if (value !== undefined) flags[spec.key] = value;
      }
      const configPath = typeof raw.config === 'string' ? raw.config : undefined;
      const config = await loadConfig(
        configPath !== undefined ? { env: process.env, flags, configPath } : { env: process.env, flags },
      );
      // Loaded on demand so other commands do not pay for the server's dependencies at startup.
      if (config.workers > 1) {
        const { isClusterWorker, runPrimary, runWorker } = await import('../../server/cluster.js');
        await (isClusterWorker() ? runWorker(config) : runPrimary(config));
        return;
      }
      const { startServer } = await import('../../server/app.js');
      await startServer(config, { handleSignals: true });
    });
  },
};
