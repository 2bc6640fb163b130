// `gatepass run <org>/<workspace> --phase plan|apply [--run RUN_ID] -- COMMAND [ARGS…]`: run one
// phase of a run with fresh credentials (see src/agent/run.ts). Exits with the command's exit code
// (128 + signal number when it died by a signal); the agent's own failures exit 1 or 2.
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { type Command, Option } from 'commander';
import { AgentError } from '../../agent/errors.js';
import { Connections } from '../../agent/http-client.js';
import { runAgent } from '../../agent/run.js';
import { systemClock } from '../../runtime/clock.js';
import { cryptoRandom } from '../../runtime/random.js';
import { createOutput, UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';

interface RunFlags {
  phase: 'plan' | 'apply';
  run?: string;
  server?: string;
  /** Old spelling of --server. */
  url?: string;
  agentTokenFile?: string;
  /** --token-file, as the other commands spell a token file. */
  tokenFile?: string;
  ca?: string;
  stsEndpoint?: string;
  iamEndpoint?: string;
  region?: string;
  refresh?: boolean;
  keepFiles?: boolean;
}

function agentToken(flags: RunFlags, env: NodeJS.ProcessEnv): string {
  const file = flags.agentTokenFile ?? flags.tokenFile;
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new UsageError(`cannot read agent token file ${file}`);
    }
  }
  const token = env.GATEPASS_AGENT_TOKEN?.trim();
  if (!token) throw new AgentError('missing_agent_token');
  return token;
}

function target(text: string): { organization: string; workspace: string } {
  const slash = text.indexOf('/');
  const organization = slash < 0 ? '' : text.slice(0, slash);
  const workspace = slash < 0 ? '' : text.slice(slash + 1);
  if (organization === '' || workspace === '' || workspace.includes('/')) {
    throw new UsageError(`expected <organization>/<workspace>, got "${text}"`);
  }
  return { organization, workspace };
}

export const runCommand: CommandModule = {
  register(program: Command) {
    program
      .command('run')
      .description(
        'Run a command for one phase of a run with fresh credentials, then delete and revoke them.',
      )
      .argument('<org/workspace>', 'the workspace of the run')
      .argument('<command...>', 'the command and its arguments, after --')
      .addOption(new Option('--phase <phase>', 'run phase').choices(['plan', 'apply']).makeOptionMandatory())
      .option('--run <run-id>', 'join this run (e.g. the apply after its plan) instead of opening one')
      .option(
        '--server <url>',
        'gatepass server URL (env GATEPASS_SERVER or GATEPASS_URL; default http://127.0.0.1:8787)',
      )
      // Old and other commands' spellings, kept working but out of the help.
      .addOption(new Option('--url <url>').hideHelp())
      .option('--agent-token-file <file>', 'file holding the agent token (default: env GATEPASS_AGENT_TOKEN)')
      .addOption(new Option('--token-file <file>').hideHelp())
      .option(
        '--ca <file>',
        'PEM CA bundle to trust for https servers and STS; the command trusts it too, added to its AWS_CA_BUNDLE and NODE_EXTRA_CA_CERTS (env GATEPASS_CA_FILE)',
      )
      .option('--sts-endpoint <url>', 'STS endpoint (default: workspace GATEPASS_AWS_STS_ENDPOINT, else AWS)')
      .option(
        '--iam-endpoint <url>',
        'IAM endpoint (default: workspace GATEPASS_AWS_IAM_ENDPOINT, else the STS one)',
      )
      .option(
        '--region <region>',
        'AWS region (default: workspace AWS_REGION / AWS_DEFAULT_REGION, else us-east-1)',
      )
      .option(
        '--refresh',
        "with AWS's own STS, serve refreshing credentials from a loopback endpoint instead of token files (always so with any other STS)",
      )
      .option('--keep-files', 'debugging only: leave the credential files behind')
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
          '    files are deleted, then the phase is revoked at the STS (its sessions, chained ones\n' +
          '    included, and its tokens); after a successful plan only the plan phase, after apply\n' +
          '    or a failure the whole run. Other nodes apply it within about a second.\n' +
          '  - If gatepass run is killed (kill -9): its lease at the issuer lapses and the server\n' +
          "    revokes the run within the server's runLeaseSeconds + 2 s (default 32 s); a watchdog\n" +
          '    deletes the files within about 200 ms.\n' +
          "  - Against AWS's own STS (no RevokeRun): with a deny list in the workspace\n" +
          '    (GATEPASS_AWS_DENY_LIST_POLICY_IDS, GATEPASS_AWS_REVOKER_ROLE_ARN) the phase is denied\n' +
          '    by an SCP on aws:SourceIdentity when the command exits; otherwise, and after a\n' +
          '    kill -9, sessions live until they expire.\n',
      )
      .action(async (targetText: string, command: string[], flags: RunFlags) => {
        const out = createOutput();
        const env = process.env;
        const { organization, workspace } = target(targetText);
        let ca: string[] | undefined;
        const caFile = flags.ca ?? env.GATEPASS_CA_FILE;
        if (caFile) {
          try {
            ca = [readFileSync(caFile, 'utf8')];
          } catch {
            throw new UsageError(`cannot read CA file ${caFile}`);
          }
        }
        let exitCode: number;
        try {
          const outcome = await runAgent({
            organization,
            workspace,
            phase: flags.phase,
            ...(flags.run !== undefined ? { runId: flags.run } : {}),
            issuerUrl:
              flags.server ?? flags.url ?? env.GATEPASS_SERVER ?? env.GATEPASS_URL ?? 'http://127.0.0.1:8787',
            agentToken: agentToken(flags, env),
            ...(flags.stsEndpoint !== undefined ? { stsEndpoint: flags.stsEndpoint } : {}),
            ...(flags.iamEndpoint !== undefined ? { iamEndpoint: flags.iamEndpoint } : {}),
            ...(flags.region !== undefined ? { region: flags.region } : {}),
            refresh: flags.refresh === true,
            keepFiles: flags.keepFiles === true,
            command,
            env,
            cwd: process.cwd(),
            log: {
              info: (m) => out.stderr.write(`${out.colors.dim('gatepass:')} ${m}\n`),
              warn: (m) => out.warn(m),
            },
            clock: systemClock,
            random: cryptoRandom,
            // Asked of the descriptor: process.stdin would build a stream for it (on a file or
            // /dev/null Node's fs streams, with fs/promises, readline and fs.watch behind them).
            interactive: isatty(0),
            // Not closed at the end: the process exits right after, and idle connections do not
            // keep it alive (Node unrefs them); closing TLS connections would only cost time.
            http: { ...(ca ? { ca } : {}), connections: new Connections(ca) },
          });
          if (outcome.error) out.error(outcome.error.message, outcome.error.problems);
          exitCode = outcome.exitCode;
        } catch (err) {
          if (!(err instanceof AgentError)) throw err;
          out.error(err.message, err.problems);
          exitCode = err.exitCode;
        }
        // The command's exit code is the product here; runCli only knows ok/failure/usage.
        if (exitCode !== 0) process.exit(exitCode);
      });
  },
};
