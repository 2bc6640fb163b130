// Many gatepass nodes for tests, as users run them: `gatepass serve` processes (the CLI) on loopback
// sharing one store (a PostgreSQL database from scripts/pg-sandbox.ts, or one SQLite file), with one
// master key, a test identity provider they trust, and a role set up through the real IAM API.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { type Keys, readCredentialsFile } from '../helpers/cloud.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'src/cli/main.ts');

export interface NodeProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** JSON log lines seen so far. */
  lines: Record<string, unknown>[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown hook runs, nothing is flushed. */
  kill9(): Promise<void>;
}

export interface NodeOptions {
  dataDir: string;
  databaseUrl?: string;
  masterKey: string;
  caFile: string;
  workers?: number;
  /** Reuse a port (a restarted node). */
  port?: number;
  /** More `gatepass serve` flags (e.g. --tls-auto-host). */
  extraArgs?: readonly string[];
}

function nodeEnv(masterKey: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of Object.keys(env)) if (key.startsWith('GATEPASS_')) delete env[key];
  env.GATEPASS_MASTER_KEY = masterKey;
  return env;
}

/** Start `gatepass serve` and resolve once it (every worker, with --workers) serves. */
export function spawnNode(options: NodeOptions): Promise<NodeProcess> {
  const args = [
    '--import',
    'tsx',
    main,
    'serve',
    '--data-dir',
    options.dataDir,
    '--port',
    String(options.port ?? 0),
    '--oidc-ca-file',
    options.caFile,
    '--log-level',
    'info',
  ];
  if (options.databaseUrl !== undefined) args.push('--database-url', options.databaseUrl);
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  args.push(...(options.extraArgs ?? []));
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: nodeEnv(options.masterKey),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = options.workers !== undefined && options.workers > 1 ? 'workers ready' : 'listening';
  return new Promise((resolve, reject) => {
    // A node that neither comes up nor exits fails the test instead of hanging it.
    const bound = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`gatepass serve did not reach "${ready}" in 90 s: ${JSON.stringify(lines.slice(-5))}`),
      );
    }, 90_000);
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const text = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          continue;
        }
        // Request lines are many under load and unused here.
        if (line.msg !== 'request') lines.push(line);
        if (line.msg !== ready) continue;
        clearTimeout(bound);
        const url = typeof line.url === 'string' ? line.url : `http://127.0.0.1:${String(line.port)}`;
        resolve({
          url,
          dataDir: options.dataDir,
          child,
          lines,
          stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            return exited;
          },
          async kill9() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(bound);
      reject(
        new Error(`gatepass serve exited ${code} before "${ready}": ${JSON.stringify(lines.slice(-5))}`),
      );
    });
  });
}

export interface World {
  pki: TestPki;
  idp: TestIdp;
  caFile: string;
  masterKey: string;
  /** Scratch directory; nodes' data directories go under it. */
  root: string;
  roleArn: string;
  accountId: string;
  admin: Keys;
  /** A web identity token the role trusts, for a run. */
  token(runId?: string): Promise<string>;
  close(): Promise<void>;
}

export const ROLE = 'deploy';

/** The identity provider and shared secrets, before any node starts. */
export async function makeWorld(): Promise<Omit<World, 'roleArn' | 'accountId' | 'admin'>> {
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-cluster-'));
  const pki = makeTestPki();
  const idp = await startTestIdp(pki);
  await idp.addKey('k1', 'RS256');
  const caFile = join(dir, 'idp-ca.pem');
  writeFileSync(caFile, pki.caPem);
  return {
    pki,
    idp,
    caFile,
    masterKey: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'),
    root: dir,
    token: (runId = `run-${crypto.randomUUID()}`) =>
      idp.sign(
        idp.claims({
          sub: 'organization:acme:project:Infra:workspace:net:run_phase:apply',
          terraform_run_id: runId,
        }),
      ),
    async close() {
      await idp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function dataDir(world: { root: string }, name: string): string {
  const dir = join(world.root, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** The bootstrap administrator, from whichever node's data directory holds the credentials file. */
export function findAdmin(nodes: readonly { dataDir: string }[]): Keys {
  for (const node of nodes) {
    const file = join(node.dataDir, CREDENTIALS_FILE);
    if (!existsSync(file)) continue;
    const admin = readCredentialsFile(file)['gatepass-hub'];
    if (admin) return admin;
  }
  throw new Error('no bootstrap administrator in any data directory');
}

export const iamClient = (url: string, credentials: Keys): IAMClient =>
  new IAMClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
export const stsClient = (url: string, credentials: Keys): STSClient =>
  new STSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });

/** The OIDC provider and a role trusting it, created through IAM on `url`. */
export async function setupRole(
  base: Omit<World, 'roleArn' | 'accountId' | 'admin'>,
  url: string,
  admin: Keys,
): Promise<World> {
  const iam = iamClient(url, admin);
  const accountId = (await stsClient(url, admin).send(new GetCallerIdentityCommand({}))).Account ?? 'unknown';
  const host = base.idp.issuer.replace(/^https:\/\//, '');
  await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: base.idp.issuer,
      ClientIDList: ['aws.workload.identity'],
      ThumbprintList: [base.pki.caThumbprint],
    }),
  );
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: ROLE,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::${accountId}:oidc-provider/${host}` },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { [`${host}:aud`]: 'aws.workload.identity' },
              StringLike: { [`${host}:sub`]: 'organization:acme:project:*:workspace:*:run_phase:*' },
            },
          },
        ],
      }),
    }),
  );
  await iam.send(readPolicy());
  return { ...base, roleArn: role.Role?.Arn ?? '', accountId, admin };
}

/** The role's one inline policy: its sessions may call iam:GetRole. */
export const readPolicy = (): PutRolePolicyCommand =>
  new PutRolePolicyCommand({
    RoleName: ROLE,
    PolicyName: 'read',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iam:GetRole', Resource: '*' }],
    }),
  });

export interface Issued extends Keys {
  sessionToken: string;
}

/** AssumeRoleWithWebIdentity over plain HTTP (it is unsigned): the status and the XML answered. */
export async function postWebIdentity(
  url: string,
  roleArn: string,
  token: string,
  init: { signal?: AbortSignal } = {},
): Promise<{ status: number; xml: string }> {
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn,
      RoleSessionName: 'cluster',
      WebIdentityToken: token,
    }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
  return { status: res.status, xml: await res.text() };
}

/** The text of the first `<tag>` element of an AWS XML answer ('' when there is none). */
export const xmlValue = (xml: string, tag: string): string =>
  new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml)?.[1] ?? '';

/** AssumeRoleWithWebIdentity over plain HTTP (it is unsigned); undefined unless the answer is a 200. */
export async function assumeWithWebIdentity(
  url: string,
  roleArn: string,
  token: string,
  init: { signal?: AbortSignal } = {},
): Promise<Issued | undefined> {
  const { status, xml } = await postWebIdentity(url, roleArn, token, init);
  return status === 200 ? issuedFrom(xml) : undefined;
}

/** The credentials in an AssumeRoleWithWebIdentity answer. */
export const issuedFrom = (xml: string): Issued => ({
  accessKeyId: xmlValue(xml, 'AccessKeyId'),
  secretAccessKey: xmlValue(xml, 'SecretAccessKey'),
  sessionToken: xmlValue(xml, 'SessionToken'),
});

/** gatepass's RevokeRun (unsigned): ends every session of the token's run. */
export async function revokeRun(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: 'RevokeRun', Version: '2011-06-15', WebIdentityToken: token }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Whether `url` accepts these credentials (GetCallerIdentity), or the AWS error code it answers. */
export async function callerIdentity(url: string, creds: Keys): Promise<'ok' | string> {
  try {
    await stsClient(url, creds).send(new GetCallerIdentityCommand({}));
    return 'ok';
  } catch (err) {
    return (err as { name?: string }).name ?? 'error';
  }
}

/**
 * Poll `check` until it returns true; fails after `maxMs` (a bound that only catches a hang, not a
 * performance threshold). Resolves with how long it took.
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  maxMs = 30_000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > maxMs) throw new Error(`not within ${maxMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
