// The gatepass node under test, in its own process: a SQLite data dir, the cloud side mounted, an
// identity provider's CA trusted, and the benchmark's provider and role set up by a setup file.
// Prints one JSON line {url, accountId, admin} when ready; stops on SIGTERM.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/core/deps.js';
import { cryptoRandom } from '../../src/core/random.js';
import { startServer } from '../../src/server/app.js';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';

const job = JSON.parse(process.argv[2] ?? '{}') as {
  issuer: string;
  caPem: string;
  thumbprint: string;
  port: number;
};
const dataDir = mkdtempSync(join(tmpdir(), 'gatepass-bench-'));
const caFile = join(dataDir, 'idp-ca.pem');
writeFileSync(caFile, job.caPem);
const app = await startServer(
  resolveConfig({ env: {}, flags: { port: job.port, dataDir, logLevel: 'error', oidcCaFile: caFile } }),
  { log: createJsonLogger({ level: 'error' }) },
);
const cloud = app.services.cloud;
const [account] = await app.store.list('account');
const host = job.issuer.replace(/^https:\/\//, '');
const setup = `
accounts:
  - name: hub
    id: "${account?.id}"
    oidcProviders:
      - url: ${job.issuer}
        clientIds: [aws.workload.identity]
        thumbprints: [${job.thumbprint}]
    roles:
      - name: bench
        inlinePolicies:
          read: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "iam:Get*", Resource: "*" }] }
        trustPolicy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: { Federated: "arn:aws:iam::${account?.id}:oidc-provider/${host}" }
              Action: sts:AssumeRoleWithWebIdentity
              Condition:
                StringEquals: { "${host}:aud": aws.workload.identity }
                StringLike: { "${host}:sub": "organization:acme:project:*:workspace:*:run_phase:*" }
`;
await applySetup(
  app.store,
  parseSetup(setup, 'bench.yaml'),
  { random: cryptoRandom, clock: systemClock },
  { file: 'bench.yaml' },
);
await cloud?.sync();
const credentials = readFileSync(join(dataDir, CREDENTIALS_FILE), 'utf8');
const id = /aws_access_key_id = (\S+)/.exec(credentials)?.[1];
const secret = /aws_secret_access_key = (\S+)/.exec(credentials)?.[1];
process.stdout.write(
  `${JSON.stringify({ url: app.address.url, accountId: account?.id, admin: { id, secret } })}\n`,
);
process.on('SIGTERM', () => {
  void (async () => {
    await app.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  })();
});
