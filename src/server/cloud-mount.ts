// Mounts the cloud side (STS and IAM on `/`, the AWS endpoint) into a gatepass node, and on first
// start bootstraps the accounts' administrators into an AWS credentials file in the data directory.
import { join } from 'node:path';
import { bootstrapAccounts } from '../cloud/bootstrap.js';
import { type Cloud, createCloud } from '../cloud/index.js';
import { awsCliUsage } from '../cloud/setup/usage.js';
import type { AppEnv, MountFactory } from './app.js';
import type { Mount } from './http-server.js';

export const CREDENTIALS_FILE = 'aws-credentials';

export interface CloudMountOptions {
  masterKey: (env: AppEnv) => Promise<Uint8Array>;
  /** Extra CA certificates (PEM) trusted for identity providers. */
  extraCa?: (env: AppEnv) => Promise<readonly string[] | undefined>;
  /** Receives the running cloud (tests, the admin CLI, shutdown). */
  onStart?: (cloud: Cloud) => void;
}

export function cloudMount(options: CloudMountOptions): MountFactory {
  return async (env: AppEnv): Promise<readonly Mount[]> => {
    const extraCa = await options.extraCa?.(env);
    const cloud = await createCloud({
      store: env.store,
      masterKey: await options.masterKey(env),
      clock: env.clock,
      random: env.random,
      log: env.log,
      bodyLimitBytes: env.config.bodyLimitBytes,
      revokeRun: env.config.stsRevokeRun !== 'off',
      ...(extraCa ? { extraCa } : {}),
    });
    const credentialsFile = join(env.config.dataDir, CREDENTIALS_FILE);
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
    options.onStart?.(cloud);
    return [
      {
        name: 'aws',
        match: (path, method) => path === '/' && (method === 'POST' || method === 'GET'),
        handler: cloud.handler,
      },
    ];
  };
}
