// The run directory: private (0700) under the temp dir, one per run (see createRunDir), holding each
// configuration's shared config file and, against AWS's own STS, its token file (0600), an empty
// credentials file, the credential_process script when the agent serves the credentials, the CA
// files when the agent was given CAs (child-ca.ts), and a marker with the agent's pid so the next agent can remove
// what a crashed one left behind.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execPath } from 'node:process';
import type { DeliveredConfig } from './child-env.js';
import type { RunConfig } from './config.js';
import {
  ENDPOINT_TOKEN_FILE,
  PROCESS_SCRIPT,
  PROCESS_SCRIPT_FILE,
  processCommand,
} from './credential-process.js';
import { AgentError } from './errors.js';
import { ensurePrivateDir, writePrivateFile } from './secure-files.js';
import { renderSharedConfig } from './shared-config.js';

export const MARKER_FILE = 'agent.pid';
/** A directory without a marker may be one being created right now; only older ones are stale. */
export const UNMARKED_GRACE_MS = 10 * 60_000;

export interface Delivery {
  dir: string;
  /** `[default]` of the default configuration, or region and endpoints only when there is none. */
  defaultConfigFile: string;
  credentialsFile: string;
  configs: DeliveredConfig[];
}

/** `<tmp>/gatepass-runs-<uid>`: per user, so users of one machine never share the directory. */
export function runDirBase(tmp: string = tmpdir()): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  return join(tmp, uid === undefined ? 'gatepass-runs' : `gatepass-runs-${uid}`);
}

/**
 * `<base>/<run id>`: the same path in the plan and the apply of a run, because Terraform saves
 * `tfc_aws_dynamic_credentials` (the file paths) in the plan file and uses them when applying it.
 * The base is private to this user, so the predictable name cannot be squatted; a directory left by
 * a live agent of the same run is refused.
 */
export async function createRunDir(base: string, runId: string, pid = process.pid): Promise<string> {
  await ensurePrivateDir(base);
  const dir = join(base, runId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80) || 'run');
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new AgentError('unsafe_path', [`${dir} is in use by another agent`]);
    throw err;
  }
  await ensurePrivateDir(dir);
  await writePrivateFile(join(dir, MARKER_FILE), String(pid));
  return dir;
}

const fileBase = (tag: string): string => (tag === '' ? 'aws' : `aws-${tag}`);

/** The agent's loopback credential endpoint, when it serves the credentials. */
export interface ServedEndpoint {
  /** The full URI of one configuration ('' = default). */
  url(tag: string): string;
  authorizationToken: string;
}

export interface DeliveryOptions {
  /**
   * The agent serves every configuration's credentials: no token file is written and no profile
   * names a role or a token, so no client can take the token anywhere. Each file's `[default]` has a
   * `credential_process`, so it works alone (fromIni, shared_config_files); the default
   * configuration is also in the environment as the container endpoint, for tools that read no
   * config file.
   */
  served?: ServedEndpoint;
  /** The node binary that runs the credential_process script. */
  nodePath?: string;
}

/**
 * Write every configuration's files. `tokens` maps a configuration tag to its JWT. Without `served`,
 * each configuration's `[default]` profile walks web identity → chain from its token file.
 */
export async function deliverFiles(
  dir: string,
  config: RunConfig,
  tokens: ReadonlyMap<string, string>,
  options: DeliveryOptions = {},
): Promise<Delivery> {
  const endpoints = {
    ...(config.stsEndpoint !== undefined ? { stsEndpoint: config.stsEndpoint } : {}),
    ...(config.iamEndpoint !== undefined ? { iamEndpoint: config.iamEndpoint } : {}),
  };
  const { served } = options;
  const script = join(dir, PROCESS_SCRIPT_FILE);
  if (served && config.aws.length > 0) {
    await writePrivateFile(script, PROCESS_SCRIPT);
    await writePrivateFile(join(dir, ENDPOINT_TOKEN_FILE), served.authorizationToken);
  }
  const configs: DeliveredConfig[] = [];
  for (const aws of config.aws) {
    const configFile = join(dir, `${fileBase(aws.tag)}.config`);
    let text: string;
    let tokenFile: string | undefined;
    if (served) {
      const credentialProcess = processCommand(options.nodePath ?? execPath, script, served.url(aws.tag));
      text = renderSharedConfig({ region: config.region, credentialProcess, ...endpoints });
    } else {
      const token = tokens.get(aws.tag);
      if (token === undefined) throw new Error(`no token for configuration "${aws.tag}"`);
      tokenFile = join(dir, `${fileBase(aws.tag)}.token`);
      await writePrivateFile(tokenFile, token);
      text = renderSharedConfig({
        region: config.region,
        credentials: { roleArn: aws.roleArn, tokenFile, sessionName: config.sessionName, chain: aws.chain },
        ...endpoints,
      });
    }
    await writePrivateFile(configFile, text);
    configs.push({ tag: aws.tag, configFile, ...(tokenFile !== undefined ? { tokenFile } : {}) });
  }
  let defaultConfigFile = configs.find((c) => c.tag === '')?.configFile;
  if (defaultConfigFile === undefined) {
    defaultConfigFile = join(dir, 'aws.config');
    await writePrivateFile(defaultConfigFile, renderSharedConfig({ region: config.region, ...endpoints }));
  }
  const credentialsFile = join(dir, 'aws.credentials');
  await writePrivateFile(credentialsFile, '');
  return { dir, defaultConfigFile, credentialsFile, configs };
}

export async function removeRunDir(dir: string): Promise<void> {
  // Synchronous, as the writes (secure-files.ts). The directory holds the agent's files only, unless
  // the command added some: then the recursive removal (slower to start: a module of its own).
  try {
    for (const name of readdirSync(dir)) unlinkSync(join(dir, name));
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a process with this pid exists (EPERM: it does, it is just not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove run directories whose agent is gone; returns the names removed. Synchronous, as the rest of
 * the agent's file work: the base holds a directory per live or crashed run, a handful.
 */
export function cleanStaleRunDirs(
  base: string,
  options: { isAlive?: (pid: number) => boolean; now?: number } = {},
): string[] {
  const isAlive = options.isAlive ?? pidAlive;
  const now = options.now ?? Date.now();
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const path = join(base, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    let stale: boolean;
    if (!st.isDirectory()) {
      stale = true;
    } else {
      const pid = Number(readMarker(join(path, MARKER_FILE)) ?? Number.NaN);
      stale = Number.isInteger(pid) && pid > 0 ? !isAlive(pid) : now - st.mtimeMs > UNMARKED_GRACE_MS;
    }
    if (stale) {
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

function readMarker(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
