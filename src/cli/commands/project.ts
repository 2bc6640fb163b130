// `gatepass project create|list|rename`.
import type { Command } from 'commander';
import {
  type ClientFlags,
  createClient,
  enc,
  itemsOf,
  list,
  outputOf,
  show,
  withClientOptions,
} from '../lib/issuer-client.js';
import type { CommandModule } from './index.js';

type Flags = ClientFlags & { json?: boolean };

export const projectCommand: CommandModule = {
  register(program: Command) {
    const project = program.command('project').description('Manage projects.');
    withClientOptions(
      project.command('create <org> <name>').description('Create a project in an organization.'),
    )
      .option('--json', 'print JSON')
      .action(async (org: string, name: string, flags: Flags, cmd: Command) => {
        show(
          outputOf(cmd),
          await createClient(flags).call('POST', `/api/v1/orgs/${enc(org)}/projects`, { name }),
          flags.json,
        );
      });
    withClientOptions(project.command('list <org>').description("List an organization's projects."))
      .option('--json', 'print JSON lines')
      .action(async (org: string, flags: Flags, cmd: Command) => {
        const rows = itemsOf(await createClient(flags).call('GET', `/api/v1/orgs/${enc(org)}/projects`));
        list(outputOf(cmd), rows, ['id', 'name'], flags.json);
      });
    withClientOptions(
      project.command('rename <project-id> <name>').description('Rename a project (its id never changes).'),
    )
      .option('--json', 'print JSON')
      .action(async (id: string, name: string, flags: Flags, cmd: Command) => {
        show(
          outputOf(cmd),
          await createClient(flags).call('PATCH', `/api/v1/projects/${enc(id)}`, { name }),
          flags.json,
        );
      });
  },
};
