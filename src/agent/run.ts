// `gatepass run`: one run phase from start to clean-up. Open or join the run, read the workspace's
// variables, resolve the configurations, mint one token per configuration, deliver them, guard the
// accounts, run the command with relayed signals, and on every path afterwards: delete the files,
// revoke the run at the STS when the run ends, and close the phase at the issuer.
import type { Clock, Random } from '../core/deps.js';
import { checkAllowedAccount, walkChain } from './chain.js';
import { exitCodeOf, SignalRelay, startChild } from './child.js';
import { type ChildCaFiles, writeChildCa } from './child-ca.js';
import { buildChildEnv } from './child-env.js';
import {
  type AwsConfiguration,
  isAwsEndpoint,
  type Phase,
  type RunConfig,
  resolveRunConfig,
} from './config.js';
import { type CredentialServer, RefreshingCredentials, startCredentialServer } from './credential-server.js';
import {
  cleanStaleRunDirs,
  createRunDir,
  type Delivery,
  deliverFiles,
  removeRunDir,
  runDirBase,
} from './delivery.js';
import { type RevocationReport, revokeWithDenyList } from './deny-list.js';
import { AgentError } from './errors.js';
import { Connections, type HttpOptions, TransportError } from './http-client.js';
import {
  IssuerClient,
  type LeaseInfo,
  type MintedToken,
  type RunInfo,
  type StartedPhase,
} from './issuer-client.js';
import { type AwsCredentials, retryingTransient, StsClient, StsError } from './sts-client.js';
import { tlsHint } from './transport-hint.js';
import { type Watchdog, watchRunDir } from './watchdog.js';

export type RunStatus = 'succeeded' | 'failed' | 'cancelled';

export interface AgentLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface AgentOptions {
  organization: string;
  workspace: string;
  phase: Phase;
  /** Join this run (its other phase ran earlier) instead of opening one. */
  runId?: string;
  issuerUrl: string;
  agentToken: string;
  stsEndpoint?: string;
  iamEndpoint?: string;
  region?: string;
  refresh: boolean;
  /** Debug only: leave the credential files behind. */
  keepFiles: boolean;
  command: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  log: AgentLog;
  clock: Clock;
  random: Random;
  /** Whether a terminal delivers SIGINT/SIGHUP to the child itself (see SignalRelay). */
  interactive: boolean;
  runDirBase?: string;
  http?: HttpOptions;
  stdio?: 'inherit' | 'ignore' | 'pipe';
}

export interface AgentOutcome {
  runId?: string;
  status: RunStatus;
  exitCode: number;
  durationMs: number;
  /** Whether the run's sessions were revoked (RevokeRun at the STS, or the deny list). */
  revoked: boolean;
  /** How they were revoked, or why they could not be. */
  revocation?: RevocationReport;
  /** Set when the agent itself stopped the run (bad configuration, guard, issuer or STS error). */
  error?: AgentError;
}

class Cancelled extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`cancelled by ${signal}`);
  }
}

const label = (tag: string): string => (tag === '' ? 'default configuration' : `configuration ${tag}`);

/** STS and transport failures as catalogued agent errors naming the configuration. */
function stsFailure(tag: string, err: unknown, hasCa: boolean): unknown {
  if (err instanceof StsError)
    return new AgentError('sts_refused', [`${label(tag)}: ${err.code}: ${err.message}`]);
  if (err instanceof TransportError) {
    const hint = tlsHint(err.url, err.reason, hasCa, '--sts-endpoint');
    return new AgentError('sts_unreachable', [`${label(tag)}: ${err.message}`, ...(hint ? [hint] : [])]);
  }
  return err;
}

const signalExit = (sig: NodeJS.Signals): number => exitCodeOf(null, sig);

/**
 * Run `work` once the requests just issued are on their sockets (Node writes them on a later turn
 * of the event loop), so that the server works on them while the agent does this.
 */
async function whileSending<T>(work: () => T | Promise<T>): Promise<T> {
  await new Promise((resolve) => setImmediate(resolve));
  return work();
}

/**
 * Promise.all that waits for every step to settle before it rejects (with the first failure in
 * order): a step still running could otherwise leave something (a directory, a token) behind the
 * clean-up.
 */
async function settleAll<T extends readonly unknown[]>(
  steps: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const settled = await Promise.allSettled(steps);
  for (const r of settled) if (r.status === 'rejected') throw r.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** What the phase body leaves for clean-up, filled in as it goes. */
interface PhaseState {
  config?: RunConfig;
  dir?: string;
  server?: CredentialServer;
  /** AWS configurations' tokens, for RevokeRun. */
  awsTokens: string[];
  /** Deletes the run directory should this agent die; released once the agent has cleaned up. */
  watchdog?: Watchdog | undefined;
  /** The heartbeat that keeps the phase's lease at the issuer. */
  lease: { stop(): void };
  /** The workspace's variables (the deny list is configured there). */
  variables: ReadonlyMap<string, string | null>;
  revocation?: RevocationReport;
}

/**
 * Renew the lease taken with the phase as the issuer asks (a third of the lease), until stopped.
 * A failed renewal is retried at the next beat; when the lease lapses, the issuer revokes the run.
 */
function renewLease(
  o: AgentOptions,
  issuer: IssuerClient,
  runId: string,
  first: LeaseInfo,
): { stop(): void } {
  let warned = false;
  const timer = setInterval(() => {
    issuer.lease(runId, o.phase).then(
      () => {
        warned = false;
      },
      (err: unknown) => {
        if (warned) return;
        warned = true;
        const why = err instanceof AgentError ? err.problems.join('; ') : 'error';
        o.log.warn(`could not renew the ${o.phase} phase lease (${why}); retrying`);
      },
    );
  }, first.renewEveryMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export async function runAgent(options: AgentOptions): Promise<AgentOutcome> {
  // One set of keep-alive connections for the run's requests, closed when the run is over.
  const connections = options.http?.connections ? undefined : new Connections(options.http?.ca);
  const o: AgentOptions = connections ? { ...options, http: { ...options.http, connections } } : options;
  const started = o.clock.now();
  const relay = new SignalRelay({
    interactive: o.interactive,
    onSignal: (sig) => o.log.warn(`received ${sig}: cancelling the run`),
  });
  relay.install();
  try {
    const base = o.runDirBase ?? runDirBase();
    const issuer = new IssuerClient({
      url: o.issuerUrl,
      agentToken: o.agentToken,
      ...(o.http ? { http: o.http } : {}),
    });
    // One request opens (or joins) the run with the phase started, its lease taken in the same
    // write (no moment where the phase runs unleased) and the workspace's variables; stale
    // directories are removed meanwhile.
    const [opened, stale] = await settleAll<[StartedPhase, string[]]>([
      issuer.startLeased(
        o.runId !== undefined ? { runId: o.runId } : { organization: o.organization, workspace: o.workspace },
        o.phase,
      ),
      whileSending(() => {
        try {
          return cleanStaleRunDirs(base);
        } catch {
          return [];
        }
      }),
    ]);
    const { run } = opened;
    if (stale.length > 0)
      o.log.info(`removed ${stale.length} stale run director${stale.length === 1 ? 'y' : 'ies'}`);
    o.log.info(`run ${run.id} ${o.phase} phase started (join the next phase with --run ${run.id})`);

    const state: PhaseState = {
      awsTokens: [],
      lease: renewLease(o, issuer, run.id, opened.lease),
      variables: opened.variables,
    };
    let status: RunStatus = 'failed';
    let exitCode = 1;
    let error: AgentError | undefined;
    try {
      const exit = await runPhase(o, issuer, run, relay, base, state);
      exitCode = exit;
      status = relay.received ? 'cancelled' : exit === 0 ? 'succeeded' : 'failed';
    } catch (err) {
      if (err instanceof Cancelled) {
        status = 'cancelled';
        exitCode = signalExit(err.signal);
      } else if (err instanceof AgentError) {
        error = err;
        exitCode = err.exitCode;
        status = relay.received ? 'cancelled' : 'failed';
      } else {
        // Unexpected (a bug, a disk error): clean up all the same, then let it surface.
        await cleanUp(o, issuer, run.id, relay.received ? 'cancelled' : 'failed', state);
        throw err;
      }
    }
    const revoked = await cleanUp(o, issuer, run.id, status, state);
    const durationMs = o.clock.now() - started;
    o.log.info(`run ${run.id} ${o.phase} ${status} in ${(durationMs / 1000).toFixed(1)}s (exit ${exitCode})`);
    const outcome: AgentOutcome = { runId: run.id, status, exitCode, durationMs, revoked };
    if (state.revocation) outcome.revocation = state.revocation;
    if (error) outcome.error = error;
    return outcome;
  } finally {
    relay.uninstall();
    connections?.destroy();
  }
}

async function runPhase(
  o: AgentOptions,
  issuer: IssuerClient,
  run: RunInfo,
  relay: SignalRelay,
  base: string,
  state: PhaseState,
): Promise<number> {
  const stopIfCancelled = () => {
    if (relay.received) throw new Cancelled(relay.received);
  };
  const { variables } = state;
  const dir = await createRunDir(base, run.id);
  state.dir = dir;
  const config = resolveRunConfig({
    variables,
    phase: o.phase,
    runId: run.id,
    ...(o.region !== undefined ? { region: o.region } : {}),
    ...(o.stsEndpoint !== undefined ? { stsEndpoint: o.stsEndpoint } : {}),
    ...(o.iamEndpoint !== undefined ? { iamEndpoint: o.iamEndpoint } : {}),
  });
  state.config = config;
  for (const w of config.warnings) o.log.warn(w);
  stopIfCancelled();

  // Against any STS but AWS's (or with --refresh) the agent serves the credentials: clients that do
  // not read the STS endpoint from the config (aws-cli < 2.13, boto3 < 1.28) would otherwise send the
  // token to AWS.
  const served = config.aws.length > 0 && (o.refresh || !isAwsEndpoint(config.stsEndpoint));
  const sts = new StsClient({
    region: config.region,
    clock: o.clock,
    userAgent: 'gatepass-agent',
    ...(config.stsEndpoint !== undefined ? { endpoint: config.stsEndpoint } : {}),
    ...(o.http ? { http: o.http } : {}),
  });
  const walk = async (aws: AwsConfiguration, token: string): Promise<AwsCredentials> => {
    try {
      const walked = await walkChain(sts, {
        roleArn: aws.roleArn,
        chain: aws.chain,
        token,
        sessionName: config.sessionName,
      });
      await checkAllowedAccount(sts, label(aws.tag), walked, aws.allowedAccountIds);
      return walked.credentials;
    } catch (err) {
      throw stsFailure(aws.tag, err, (o.http?.ca?.length ?? 0) > 0);
    }
  };
  const sources = new Map<string, RefreshingCredentials>();
  if (served) {
    for (const aws of config.aws) {
      const source = new RefreshingCredentials(async () => {
        // A fresh token each time: the run must still be open, and the chain is walked again.
        const t = await issuer.mint(run.id, { phase: o.phase, tag: aws.tag, audience: aws.audience });
        state.awsTokens.push(t.token);
        return walk(aws, t.token);
      }, o.clock);
      sources.set(aws.tag, source);
    }
  }

  // The agent's requests go one after another on one connection (a request in parallel would open
  // another, a TLS handshake costing more than the wait it saves); its local work is done while it
  // waits for them. Here: every token in one request, while the credential endpoint starts and the
  // CA files are written.
  const minting = async (): Promise<[MintedToken[], MintedToken[]]> => {
    const asked = [...config.aws, ...config.generic].map((c) => ({
      phase: o.phase,
      tag: c.tag,
      audience: c.audience,
    }));
    const minted = await issuer.mintAll(run.id, asked);
    const aws = minted.slice(0, config.aws.length);
    for (const t of aws) state.awsTokens.push(t.token);
    return [aws, minted.slice(config.aws.length)];
  };
  // The command's inherited value of a variable: the workspace's beats the agent's environment.
  const inherited = (name: string) => variables.get(name) ?? o.env[name];
  const [[awsMinted, genericMinted], ca, server] = await settleAll<
    [[MintedToken[], MintedToken[]], ChildCaFiles | undefined, CredentialServer | undefined]
  >([
    minting(),
    whileSending(() =>
      o.http?.ca?.length
        ? writeChildCa(dir, o.http.ca, {
            awsCaBundle: inherited('AWS_CA_BUNDLE'),
            nodeExtraCaCerts: inherited('NODE_EXTRA_CA_CERTS'),
          })
        : undefined,
    ),
    served
      ? whileSending(() =>
          startCredentialServer({
            sources,
            random: o.random,
            onError: (tag, err) => {
              const e = err instanceof AgentError ? err : undefined;
              o.log.warn(
                `refresh failed for ${label(tag)}${e ? `: ${[e.message, ...e.problems].join(' ')}` : ''}`,
              );
            },
          }),
        ).then((started) => {
          state.server = started;
          return started;
        })
      : Promise.resolve(undefined),
  ]);
  const tokens = new Map<string, string>();
  for (const [k, aws] of config.aws.entries()) {
    const t = awsMinted[k] as MintedToken;
    tokens.set(aws.tag, t.token);
    o.log.info(
      `${label(aws.tag)}: ${aws.roleArn}${aws.chain.length ? ` → ${aws.chain.join(' → ')}` : ''} (jti ${t.jti})`,
    );
  }
  const genericTokens = new Map<string, string>();
  for (const [k, g] of config.generic.entries()) {
    const t = genericMinted[k] as MintedToken;
    genericTokens.set(g.envName, t.token);
    o.log.info(`${g.envName}: audience ${g.audience} (jti ${t.jti})`);
  }
  for (const w of ca?.warnings ?? []) o.log.warn(w);
  stopIfCancelled();

  // The guard resolves each guarded configuration's final identity before the command starts; served
  // configurations are all resolved, so a refusal stops the run here, named, not inside the command.
  // The files are written meanwhile (they name the endpoint or the token files, not the credentials),
  // the watchdog started first: should this agent be killed, they are removed all the same. (Until
  // then the directory holds the CA files and the marker, which the next agent removes.)
  const guarded = config.aws.filter((aws) => served || aws.allowedAccountIds.length > 0);
  const walking = async (): Promise<AwsCredentials[]> => {
    const walked: AwsCredentials[] = [];
    for (const aws of guarded) walked.push(await walk(aws, tokens.get(aws.tag) ?? ''));
    return walked;
  };
  const [first, delivery] = await settleAll<[AwsCredentials[], Delivery]>([
    walking(),
    whileSending(() => {
      if (!o.keepFiles) state.watchdog = watchRunDir(dir);
      return deliverFiles(dir, config, tokens, server ? { served: server } : {});
    }),
  ]);
  for (const [k, aws] of guarded.entries()) sources.get(aws.tag)?.seed(first[k] as AwsCredentials);
  stopIfCancelled();

  let container: { url: string; authorizationToken: string } | undefined;
  if (server && config.aws.some((a) => a.tag === '')) {
    container = { url: server.url(''), authorizationToken: server.authorizationToken };
  }

  const workspace = new Map<string, string>();
  for (const [k, v] of variables) if (v !== null) workspace.set(k, v);
  const env = buildChildEnv({
    parent: o.env,
    workspace,
    config,
    defaultConfigFile: delivery.defaultConfigFile,
    credentialsFile: delivery.credentialsFile,
    delivered: delivery.configs,
    genericTokens,
    runId: run.id,
    ...(container ? { container } : {}),
    ...(ca ? { ca } : {}),
  });
  stopIfCancelled();

  const child = startChild(o.command, { env, cwd: o.cwd, ...(o.stdio ? { stdio: o.stdio } : {}) });
  relay.attach(child.process);
  const exit = await child.exited;
  relay.detach();
  if (exit.spawnError !== undefined) {
    o.log.warn(`could not start ${o.command[0] ?? ''}: ${exit.spawnError}`);
  }
  return exit.exitCode;
}

/** Returns whether the run was revoked at the STS. Never throws: every step is attempted. */
async function cleanUp(
  o: AgentOptions,
  issuer: IssuerClient,
  runId: string,
  status: RunStatus,
  state: PhaseState,
): Promise<boolean> {
  state.lease.stop();
  // The revocation goes out first; the endpoint closes and the files are deleted while the STS works
  // on it. Both are done before the phase is closed at the issuer.
  const dir = state.dir;
  const removing = whileSending(async () => {
    await Promise.all([
      state.server?.close().catch(() => undefined),
      dir === undefined
        ? undefined
        : o.keepFiles
          ? o.log.warn(`--keep-files: the run's credential files remain in ${dir}`)
          : removeRunDir(dir).catch(() => o.log.warn(`could not remove ${dir}`)),
    ]);
    // The directory is gone (or the watchdog tries once more): its watch is over.
    state.watchdog?.release();
  });
  const revoked = await revokePhase({ o, issuer, runId, status, state });
  await removing;

  try {
    if (status === 'cancelled') await issuer.cancelRun(runId);
    else await issuer.finishPhase(runId, o.phase, status, state.revocation);
  } catch (err) {
    const why = err instanceof AgentError ? err.problems.join('; ') : 'error';
    o.log.warn(`could not close the ${o.phase} phase at the issuer: ${why}`);
  }
  return revoked;
}

/** What a phase's revocation works with: the run, how the phase ended, what it left. */
interface Ending {
  o: AgentOptions;
  issuer: IssuerClient;
  runId: string;
  status: RunStatus;
  state: PhaseState;
}

/** Revoke the phase (or the whole run) at the STS, or by the deny list; returns whether it was. */
async function revokePhase({ o, issuer, runId, status, state }: Ending): Promise<boolean> {
  // Every phase ends revoked: its sessions and tokens at once. The whole run when it ends (after
  // apply, or a phase that did not succeed); after a successful plan only the plan phase, so the
  // run's apply can still follow.
  const runEnds = o.phase === 'apply' || status !== 'succeeded';
  const scope = runEnds ? 'Run' : 'Phase';
  let revoked = false;
  if (state.awsTokens.length > 0 && state.config) {
    const config = state.config;
    const sts = new StsClient({
      region: config.region,
      clock: o.clock,
      ...(config.stsEndpoint !== undefined ? { endpoint: config.stsEndpoint } : {}),
      ...(o.http ? { http: o.http } : {}),
    });
    // Where the STS has no RevokeRun (AWS's, or one answering InvalidAction), the deny list.
    let without: string | undefined = isAwsEndpoint(config.stsEndpoint)
      ? "AWS's STS has no RevokeRun"
      : undefined;
    if (without === undefined) {
      let lastProblem = '';
      for (const token of state.awsTokens) {
        try {
          await retryingTransient(() => sts.revokeRun(token, scope));
          revoked = true;
          break;
        } catch (err) {
          lastProblem =
            err instanceof StsError ? err.code : err instanceof TransportError ? err.reason : 'error';
          if (lastProblem === 'InvalidAction') break;
        }
      }
      if (revoked) {
        o.log.info(
          runEnds
            ? `run ${runId} revoked at the STS: every session minted from its tokens has ended`
            : `run ${runId} ${o.phase} phase revoked at the STS: its sessions and tokens have ended`,
        );
        state.revocation = { method: 'RevokeRun', detail: `scope ${scope} at ${sts.endpoint.origin}` };
      } else if (lastProblem === 'InvalidAction') without = 'the STS has no RevokeRun (InvalidAction)';
      else {
        o.log.warn(`run revocation failed (${lastProblem}); the sessions expire on their own`);
        state.revocation = { method: 'none', detail: `RevokeRun failed (${lastProblem})` };
      }
    }
    if (without !== undefined) {
      const report = await revokeWithDenyList({
        runId,
        variables: state.variables,
        stsEndpoint: config.stsEndpoint,
        tokens: state.awsTokens,
        roles: runEnds ? undefined : config.aws.flatMap((a) => [a.roleArn, ...a.chain]),
        because: without,
        sts,
        mint: async (audience) => (await issuer.mint(runId, { phase: o.phase, tag: '', audience })).token,
        clock: o.clock,
        ...(o.http ? { http: o.http } : {}),
      });
      revoked = report.method === 'DenyList';
      state.revocation = report;
      if (revoked) o.log.info(`run ${runId} ${runEnds ? '' : `${o.phase} phase `}revoked: ${report.detail}`);
      else o.log.warn(`run revocation not possible: ${report.detail}`);
    }
  }

  return revoked;
}
