// `gatepass org create|list|show|update`: organizations (each created with a "Default Project").
import type { Command } from 'commander';
import {
  type ClientFlags,
  createClient,
  enc,
  itemsOf,
  list,
  outputOf,
  parseIntFlag,
  show,
  withClientOptions,
} from '../lib/issuer-client.js';
import type { CommandModule } from './index.js';

interface OrgFlags {
  maxPhaseTimeout?: string;
  subTemplate?: string;
  sessionTags?: boolean;
  sourceIdentity?: boolean;
  name?: string;
  json?: boolean;
}

/** Token options from flags; only those given are sent. */
export function tokenOptionsFrom(flags: OrgFlags): Record<string, unknown> | undefined {
  const o: Record<string, unknown> = {};
  if (flags.subTemplate !== undefined) o.subTemplate = flags.subTemplate;
  if (flags.sessionTags !== undefined) o.sessionTags = flags.sessionTags;
  if (flags.sourceIdentity !== undefined) o.sourceIdentity = flags.sourceIdentity;
  return Object.keys(o).length > 0 ? o : undefined;
}

export function addTokenOptionFlags(cmd: Command): Command {
  return cmd
    .option(
      '--sub-template <template>',
      'sub claim template, e.g. organization:{organization_id}:workspace:{workspace_id}:run_phase:{run_phase}',
    )
    .option('--session-tags', 'add the https://aws.amazon.com/tags claim')
    .option('--no-session-tags', 'omit the https://aws.amazon.com/tags claim')
    .option('--source-identity', 'add the https://aws.amazon.com/source_identity claim (the run id)')
    .option('--no-source-identity', 'omit the source identity claim');
}

function body(flags: OrgFlags, name?: string): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (name !== undefined) b.name = name;
  const max = parseIntFlag('--max-phase-timeout', flags.maxPhaseTimeout);
  if (max !== undefined) b.maxPhaseTimeoutSeconds = max;
  const options = tokenOptionsFrom(flags);
  if (options) b.tokenOptions = options;
  return b;
}

export const orgCommand: CommandModule = {
  register(program: Command) {
    const org = program.command('org').description('Manage organizations.');
    addTokenOptionFlags(
      withClientOptions(
        org.command('create <name>').description('Create an organization and its Default Project.'),
      ),
    )
      .option('--max-phase-timeout <seconds>', 'upper bound on any phase timeout (default 86400)')
      .option('--json', 'print JSON')
      .action(async (name: string, flags: OrgFlags & ClientFlags, cmd: Command) => {
        const created = await createClient(flags).call('POST', '/api/v1/orgs', body(flags, name));
        show(outputOf(cmd), (created as { organization?: unknown }).organization ?? created, flags.json);
      });
    withClientOptions(org.command('list').description('List organizations.'))
      .option('--json', 'print JSON lines')
      .action(async (flags: OrgFlags & ClientFlags, cmd: Command) => {
        const rows = itemsOf(await createClient(flags).call('GET', '/api/v1/orgs'));
        list(outputOf(cmd), rows, ['id', 'name', 'maxPhaseTimeoutSeconds', 'tokenOptions'], flags.json);
      });
    withClientOptions(org.command('show <org>').description('Show an organization (by name or id).'))
      .option('--json', 'print JSON')
      .action(async (ref: string, flags: OrgFlags & ClientFlags, cmd: Command) => {
        show(outputOf(cmd), await createClient(flags).call('GET', `/api/v1/orgs/${enc(ref)}`), flags.json);
      });
    addTokenOptionFlags(
      withClientOptions(org.command('update <org>').description('Rename or reconfigure an organization.')),
    )
      .option('--name <name>', 'new name (the id never changes)')
      .option('--max-phase-timeout <seconds>', 'upper bound on any phase timeout')
      .option('--json', 'print JSON')
      .action(async (ref: string, flags: OrgFlags & ClientFlags, cmd: Command) => {
        const updated = await createClient(flags).call(
          'PATCH',
          `/api/v1/orgs/${enc(ref)}`,
          body(flags, flags.name),
        );
        show(outputOf(cmd), updated, flags.json);
      });
  },
};
