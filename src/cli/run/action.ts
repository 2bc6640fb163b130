// What `gatepass run` does once its command line is parsed (by commander in commands/run.ts, or by
// argv.ts): run one phase with fresh credentials (src/agent/run.ts). Exits with the command's exit
// code (128 + signal number when it died by a signal); the agent's own failures exit 1 or 2.
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { AgentError } from '../../agent/errors.js';
import { Connections } from '../../agent/http-client.js';
import { runAgent } from '../../agent/run.js';
import { systemClock } from '../../runtime/clock.js';
import { cryptoRandom } from '../../runtime/random.js';
import { exitCodeFor } from '../lib/failure.js';
import { createOutput, EXIT, QuietExit, UsageError } from '../lib/output.js';
import type { RunArgs } from './argv.js';
import type { RunFlags } from './options.js';

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

function workspaceOf(text: string): { organization: string; workspace: string } {
  const slash = text.indexOf('/');
  const organization = slash < 0 ? '' : text.slice(0, slash);
  const workspace = slash < 0 ? '' : text.slice(slash + 1);
  if (organization === '' || workspace === '' || workspace.includes('/')) {
    throw new UsageError(`expected <organization>/<workspace>, got "${text}"`);
  }
  return { organization, workspace };
}

export async function runAction(targetText: string, command: string[], flags: RunFlags): Promise<void> {
  const out = createOutput();
  const env = process.env;
  const { organization, workspace } = workspaceOf(targetText);
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
  // The command's exit code is the product here; the CLI's own codes are only ok/failure/usage.
  // Thrown, not process.exit: the caller ends the process once the output above is written.
  if (exitCode !== 0) throw new QuietExit(exitCode);
}

/** A command line argv.ts parsed: run it, and map a failure to an exit code as the CLI does. */
export async function runParsed(args: RunArgs): Promise<number> {
  try {
    await runAction(args.target, args.command, args.flags);
    return EXIT.ok;
  } catch (err) {
    return exitCodeFor(err, createOutput());
  }
}
