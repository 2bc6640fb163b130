// `gatepass run <org>/<workspace> --phase plan|apply [--run RUN_ID] -- COMMAND [ARGS…]`: run one
// phase of a run with fresh credentials. Commander parses what ../run/argv.ts does not take (help,
// usage errors, unusual spellings); both lead to ../run/action.ts.
import { type Command, Option } from 'commander';
import { runAction } from '../run/action.js';
import { RUN_OPTIONS } from '../run/options.js';
import type { CommandModule } from './index.js';

export const runCommand: CommandModule = {
  register(program: Command) {
    const command = program
      .command('run')
      .description(
        'Run a command for one phase of a run with fresh credentials, then delete and revoke them.',
      )
      .argument('<org/workspace>', 'the workspace of the run')
      .argument('<command...>', 'the command and its arguments, after --');
    for (const spec of RUN_OPTIONS) {
      const option = new Option(
        spec.value === undefined ? spec.long : `${spec.long} <${spec.value}>`,
        spec.description,
      );
      if (spec.choices !== undefined) option.choices(spec.choices);
      if (spec.mandatory) option.makeOptionMandatory();
      if (spec.description === undefined) option.hideHelp();
      command.addOption(option);
    }
    command
      .addHelpText(
        'after',
        "\nWith any STS but AWS's, the agent assumes every configuration itself and serves\n" +
          "the credentials on 127.0.0.1: each configuration's shared config file names them\n" +
          'through a credential_process, and the default configuration is also in\n' +
          'AWS_CONTAINER_CREDENTIALS_FULL_URI. The command never holds the token. With\n' +
          "AWS's STS it gets token files (role_arn + web_identity_token_file profiles).",
      )
      .addHelpText(
        'after',
        '\nExample:\n  gatepass run acme/networking --phase plan -- terraform plan -out=tfplan\n' +
          '  gatepass run acme/networking --phase apply --run run-… -- terraform apply tfplan\n' +
          '\nWhen the credentials die:\n' +
          '  - When the command exits (success, failure or signal), before gatepass run exits: the\n' +
          '    phase is revoked at the STS while the files are deleted (its sessions, chained ones\n' +
          '    included, and its tokens); after a successful plan only the plan phase, after apply\n' +
          '    or a failure the whole run. Other nodes apply it within about a second.\n' +
          '  - If gatepass run is killed (kill -9): its lease at the issuer lapses and the server\n' +
          "    revokes the run within the server's runLeaseSeconds + 2 s (default 32 s); a watchdog\n" +
          '    deletes the files at once.\n' +
          "  - Against AWS's own STS (no RevokeRun): with a deny list in the workspace\n" +
          '    (GATEPASS_AWS_DENY_LIST_POLICY_IDS, GATEPASS_AWS_REVOKER_ROLE_ARN) the phase is denied\n' +
          '    by an SCP on aws:SourceIdentity when the command exits; otherwise, and after a\n' +
          '    kill -9, sessions live until they expire.\n',
      )
      .action(runAction);
  },
};
