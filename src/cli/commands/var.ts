// `gatepass var set|list|delete` (workspace or variable-set variables) and
// `gatepass varset create|list|update`. Sensitive values are write-only: never shown again.
import type { Command } from 'commander';
import {
  type ApiClient,
  type ClientFlags,
  createClient,
  enc,
  itemsOf,
  list,
  outputOf,
  show,
  withClientOptions,
  workspaceId,
} from '../lib/issuer-client.js';
import { UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';

type Flags = ClientFlags & {
  json?: boolean;
  sensitive?: boolean;
  terraform?: boolean;
  description?: string;
  global?: boolean;
  workspace?: string[];
  name?: string;
};

/** Variables belong to a workspace (ORG/NAME or ws-…) or a variable set (varset-…). */
async function ownerPath(client: ApiClient, owner: string): Promise<string> {
  if (owner.startsWith('varset-')) return `/api/v1/varsets/${enc(owner)}/vars`;
  return `/api/v1/workspaces/${enc(await workspaceId(client, owner))}/vars`;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const varCommand: CommandModule = {
  register(program: Command) {
    const v = program.command('var').description('Manage workspace and variable-set variables.');
    withClientOptions(
      v.command('set <owner> <KEY=VALUE>').description('Add a variable to ORG/WORKSPACE, ws-… or varset-….'),
    )
      .option('--sensitive', 'write-only: the value is never returned')
      .option('--terraform', 'a Terraform variable rather than an environment variable')
      .option('--description <text>', 'description')
      .option('--json', 'print JSON')
      .action(async (owner: string, assignment: string, flags: Flags, cmd: Command) => {
        const eq = assignment.indexOf('=');
        if (eq <= 0) throw new UsageError('expected KEY=VALUE');
        const client = createClient(flags);
        const body: Record<string, unknown> = {
          key: assignment.slice(0, eq),
          value: assignment.slice(eq + 1),
          category: flags.terraform ? 'terraform' : 'env',
          sensitive: flags.sensitive ?? false,
        };
        if (flags.description !== undefined) body.description = flags.description;
        show(outputOf(cmd), await client.call('POST', await ownerPath(client, owner), body), flags.json);
      });
    withClientOptions(
      v.command('list <owner>').description('List the variables of ORG/WORKSPACE, ws-… or varset-….'),
    )
      .option('--json', 'print JSON lines')
      .action(async (owner: string, flags: Flags, cmd: Command) => {
        const client = createClient(flags);
        const rows = itemsOf(await client.call('GET', await ownerPath(client, owner))).map((r) => ({
          ...r,
          value: r.sensitive ? '(sensitive)' : r.value,
        }));
        list(outputOf(cmd), rows, ['id', 'key', 'value', 'category', 'sensitive'], flags.json);
      });
    withClientOptions(v.command('delete <var-id>').description('Delete a variable.')).action(
      async (id: string, flags: Flags, cmd: Command) => {
        await createClient(flags).call('DELETE', `/api/v1/vars/${enc(id)}`);
        outputOf(cmd).success(`deleted ${id}`);
      },
    );

    const set = program
      .command('varset')
      .description('Manage organization variable sets (TFC_DEFAULT_* defaults).');
    withClientOptions(set.command('create <org> <name>').description('Create a variable set.'))
      .option('--global', 'apply to every workspace of the organization')
      .option('--workspace <name>', 'apply to this workspace (repeatable)', collect)
      .option('--json', 'print JSON')
      .action(async (org: string, name: string, flags: Flags, cmd: Command) => {
        const body = { name, global: flags.global ?? false, workspaces: flags.workspace ?? [] };
        show(
          outputOf(cmd),
          await createClient(flags).call('POST', `/api/v1/orgs/${enc(org)}/varsets`, body),
          flags.json,
        );
      });
    withClientOptions(set.command('list <org>').description("List an organization's variable sets."))
      .option('--json', 'print JSON lines')
      .action(async (org: string, flags: Flags, cmd: Command) => {
        const rows = itemsOf(await createClient(flags).call('GET', `/api/v1/orgs/${enc(org)}/varsets`));
        list(outputOf(cmd), rows, ['id', 'name', 'global', 'workspaceIds'], flags.json);
      });
    withClientOptions(set.command('update <varset-id>').description('Change where a variable set applies.'))
      .option('--name <name>', 'new name')
      .option('--global', 'apply to every workspace')
      .option('--no-global', 'apply only to the listed workspaces')
      .option('--workspace <name>', 'apply to this workspace (repeatable; replaces the list)', collect)
      .option('--json', 'print JSON')
      .action(async (id: string, flags: Flags, cmd: Command) => {
        const body: Record<string, unknown> = {};
        if (flags.name !== undefined) body.name = flags.name;
        if (flags.global !== undefined) body.global = flags.global;
        if (flags.workspace !== undefined) body.workspaces = flags.workspace;
        show(
          outputOf(cmd),
          await createClient(flags).call('PATCH', `/api/v1/varsets/${enc(id)}`, body),
          flags.json,
        );
      });
  },
};
