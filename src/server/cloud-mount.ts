// Mounts the cloud side (STS and IAM on `/`, the AWS endpoint) into a gatepass node, and on first
// start bootstraps the accounts' administrators into an AWS credentials file in the data directory.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Cloud, createCloud } from '../cloud/assemble.js';
import { bootstrapAccounts } from '../cloud/offline/bootstrap.js';
import { awsCliUsage } from '../cloud/setup/usage.js';
import type { Mount } from '../http/transport.js';
import type { NodeEnv } from './app.js';

export const CREDENTIALS_FILE = 'aws-credentials';
/** The AWS endpoint the node last started on this data directory serves (no secret). */
export const ENDPOINT_FILE = 'endpoint-url';

/** Written on every start, whole or not at all: `gatepass apply` names this endpoint in its hints. */
function recordEndpoint(dataDir: string, url: string): void {
  const file = join(dataDir, ENDPOINT_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${url}\n`, { mode: 0o644 });
  renameSync(temp, file);
}

/** The endpoint recorded by the last node started on this data directory, if any. */
export function recordedEndpoint(dataDir: string): string | undefined {
  try {
    const url = readFileSync(join(dataDir, ENDPOINT_FILE), 'utf8').trim();
    return /^https?:\/\/\S{1,300}$/.test(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The node's cloud side, started: sessions, revocation, audit, the change feed. On a data directory's
 * first start, its accounts' administrators are written to the credentials file.
 */
export async function startCloud(env: NodeEnv): Promise<Cloud> {
  const cloud = await createCloud({
    store: env.store,
    masterKey: env.masterKey,
    clock: env.clock,
    random: env.random,
    log: env.log,
    bodyLimitBytes: env.config.bodyLimitBytes,
    denialMessages: env.config.denialMessages,
    revokeRun: env.config.stsRevokeRun !== 'off',
    ...(env.oidcCa.length > 0 ? { extraCa: env.oidcCa } : {}),
  });
  env.onShutdown(() => cloud.stop());
  const credentialsFile = join(env.config.dataDir, CREDENTIALS_FILE);
  recordEndpoint(env.config.dataDir, env.baseUrl);
  const boot = await bootstrapAccounts(env.store, cloud.iamDeps, { credentialsFile });
  for (const c of boot.created) {
    const usage = awsCliUsage(c.profile, credentialsFile, env.baseUrl);
    env.log.log('info', 'bootstrap administrator created', {
      accountId: c.accountId,
      profile: c.profile,
      accessKeyId: c.accessKeyId,
      file: credentialsFile,
      usage,
    });
    // Like the admin token: told to a person at a terminal (no secret here, only where it is).
    if (process.stderr.isTTY)
      process.stderr.write(`gatepass administrator of account ${c.accountId}, with aws-cli:\n  ${usage}\n`);
  }
  return cloud;
}

/** STS and IAM on `/`, the AWS endpoint. */
export function cloudMounts(cloud: Cloud): readonly Mount[] {
  return [
    {
      name: 'aws',
      match: (path, method) => path === '/' && (method === 'POST' || method === 'GET'),
      handler: cloud.handler,
    },
  ];
}
