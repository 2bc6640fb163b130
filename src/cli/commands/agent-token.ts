// `gatepass agent-token create|list|revoke`: bearer secrets scoped to one organization (optionally
// some workspaces) that open runs and mint. The secret is printed once, at creation.
import type { Command } from 'commander';
import {
  type ClientFlags,
  createClient,
  enc,
  field,
  itemsOf,
  list,
  outputOf,
  show,
  withClientOptions,
} from '../lib/issuer-client.js';
import type { CommandModule } from './index.js';

type Flags = ClientFlags & { json?: boolean; description?: string; workspace?: string[] };

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const agentTokenCommand: CommandModule = {
  register(program: Command) {
    const at = program.command('agent-token').description('Manage agent tokens.');
    withClientOptions(
      at.command('create <org>').description('Create an agent token; the secret is shown only now.'),
    )
      .option('--description <text>', 'what the token is for')
      .option('--workspace <name>', 'restrict to this workspace (repeatable)', collect)
      .option('--json', 'print JSON')
      .action(async (org: string, flags: Flags, cmd: Command) => {
        const body: Record<string, unknown> = { description: flags.description ?? '' };
        if (flags.workspace) body.workspaces = flags.workspace;
        const created = await createClient(flags).call('POST', `/api/v1/orgs/${enc(org)}/agent-tokens`, body);
        const out = outputOf(cmd);
        if (flags.json) {
          out.json(created);
          return;
        }
        out.line(String(field(created, 'token')));
        out.warn(
          `agent token ${String(field(field(created, 'agentToken'), 'id'))} created; its secret is not shown again`,
        );
      });
    withClientOptions(
      at.command('list <org>').description("List an organization's agent tokens (never their secrets)."),
    )
      .option('--json', 'print JSON lines')
      .action(async (org: string, flags: Flags, cmd: Command) => {
        const rows = itemsOf(await createClient(flags).call('GET', `/api/v1/orgs/${enc(org)}/agent-tokens`));
        list(
          outputOf(cmd),
          rows,
          ['id', 'description', 'workspaceIds', 'createdAt', 'revokedAt'],
          flags.json,
        );
      });
    withClientOptions(at.command('revoke <token-id>').description('Revoke an agent token.'))
      .option('--json', 'print JSON')
      .action(async (id: string, flags: Flags, cmd: Command) => {
        show(
          outputOf(cmd),
          await createClient(flags).call('DELETE', `/api/v1/agent-tokens/${enc(id)}`),
          flags.json,
        );
      });
  },
};
