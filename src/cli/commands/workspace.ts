// `gatepass workspace create|list|show|update`. Workspaces are named ORG/NAME or by ws-… id.
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
  workspaceId,
} from '../lib/issuer-client.js';
import { UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';
import { addTokenOptionFlags, tokenOptionsFrom } from './org.js';

interface Flags {
  project?: string;
  planTimeout?: string;
  applyTimeout?: string;
  name?: string;
  json?: boolean;
  subTemplate?: string;
  sessionTags?: boolean;
  sourceIdentity?: boolean;
}

function body(flags: Flags): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  if (flags.name !== undefined) b.name = flags.name;
  if (flags.project !== undefined) b.project = flags.project;
  const plan = parseIntFlag('--plan-timeout', flags.planTimeout);
  if (plan !== undefined) b.planTimeoutSeconds = plan;
  const apply = parseIntFlag('--apply-timeout', flags.applyTimeout);
  if (apply !== undefined) b.applyTimeoutSeconds = apply;
  const options = tokenOptionsFrom(flags);
  if (options) b.tokenOptions = options;
  return b;
}

function splitRef(ref: string): [string, string] {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) throw new UsageError('expected ORG/WORKSPACE');
  return [ref.slice(0, slash), ref.slice(slash + 1)];
}

const timeouts = (cmd: Command): Command =>
  cmd
    .option('--plan-timeout <seconds>', 'plan phase timeout: the exp of plan tokens (default 7200)')
    .option('--apply-timeout <seconds>', 'apply phase timeout: the exp of apply tokens (default 86400)');

export const workspaceCommand: CommandModule = {
  register(program: Command) {
    const ws = program.command('workspace').description('Manage workspaces.');
    addTokenOptionFlags(
      timeouts(withClientOptions(ws.command('create <org/workspace>').description('Create a workspace.'))),
    )
      .option('--project <project>', 'project name or id (default "Default Project")')
      .option('--json', 'print JSON')
      .action(async (ref: string, flags: Flags & ClientFlags, cmd: Command) => {
        const [org, name] = splitRef(ref);
        const created = await createClient(flags).call(
          'POST',
          `/api/v1/orgs/${enc(org)}/workspaces`,
          body({ ...flags, name }),
        );
        show(outputOf(cmd), created, flags.json);
      });
    withClientOptions(ws.command('list <org>').description("List an organization's workspaces."))
      .option('--json', 'print JSON lines')
      .action(async (org: string, flags: Flags & ClientFlags, cmd: Command) => {
        const rows = itemsOf(await createClient(flags).call('GET', `/api/v1/orgs/${enc(org)}/workspaces`));
        list(
          outputOf(cmd),
          rows,
          ['id', 'name', 'projectId', 'planTimeoutSeconds', 'applyTimeoutSeconds'],
          flags.json,
        );
      });
    withClientOptions(ws.command('show <workspace>').description('Show a workspace (ORG/NAME or ws-… id).'))
      .option('--json', 'print JSON')
      .action(async (ref: string, flags: Flags & ClientFlags, cmd: Command) => {
        const client = createClient(flags);
        show(
          outputOf(cmd),
          await client.call('GET', `/api/v1/workspaces/${enc(await workspaceId(client, ref))}`),
          flags.json,
        );
      });
    addTokenOptionFlags(
      timeouts(
        withClientOptions(ws.command('update <workspace>').description('Rename or reconfigure a workspace.')),
      ),
    )
      .option('--name <name>', 'new name (the id never changes)')
      .option('--project <project>', 'move to this project')
      .option('--json', 'print JSON')
      .action(async (ref: string, flags: Flags & ClientFlags, cmd: Command) => {
        const client = createClient(flags);
        const id = await workspaceId(client, ref);
        show(
          outputOf(cmd),
          await client.call('PATCH', `/api/v1/workspaces/${enc(id)}`, body(flags)),
          flags.json,
        );
      });
  },
};
