// One gatepass node for end-to-end agent tests: the issuer over HTTPS with its local CA (which the
// node's cloud side trusts for OIDC), STS/IAM mounted, and the setup an operator would make:
//  - hub account: the issuer as OIDC provider; `gp-plan` (read, trusted by plan tokens) and
//    `gp-apply` (write, trusted by apply tokens) roles;
//  - member accounts `member` and `security`: `reader` (trusted by gp-plan, read) and `deployer`
//    (trusted by gp-apply, write);
//  - organization acme, workspace networking with the HCP variables: default configuration on the
//    phase roles, aliases `member` (with an account guard) and `security` chained into their accounts;
//  - an agent token for acme.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cloud } from '../../../src/cloud/assemble.js';
import { applySetup } from '../../../src/cloud/setup/apply.js';
import { parseSetup } from '../../../src/cloud/setup/schema.js';
import { thumbprintOf } from '../../../src/issuer/local-ca.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { cryptoRandom } from '../../../src/runtime/random.js';
import { type App, startServer } from '../../../src/server/app.js';
import { resolveConfig } from '../../../src/server/config.js';
import { createJsonLogger } from '../../../src/server/log.js';
import { adminApi, workspaceWithAgentToken } from '../../helpers/admin-api.js';

export interface AgentNode {
  app: App;
  cloud: Cloud;
  url: string;
  dataDir: string;
  caPem: string;
  caFile: string;
  hub: string;
  member: string;
  /** A second member account, reached by the alias `security`. */
  security: string;
  agentToken: string;
  stop(): Promise<void>;
}

const policy = (statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements });

/**
 * The hub's phase roles (`gp-plan` reads and may chain into `reader`, `gp-apply` writes and may chain
 * into `deployer`) and the member accounts `member` and `security` holding those two, for a setup
 * file: `federated` is a phase role's trust policy, `trustHub` a member role's, `chain` the hop's grant.
 */
export function phaseRoles(o: {
  federated: (phase: string) => unknown;
  trustHub: (role: string) => unknown;
  chain: (target: string) => unknown;
}): { hub: unknown[]; members: unknown[] } {
  const read = policy([{ Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' }]);
  const write = policy([{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }]);
  return {
    hub: [
      {
        name: 'gp-plan',
        trustPolicy: o.federated('plan'),
        inlinePolicies: { read, chain: o.chain('reader') },
      },
      {
        name: 'gp-apply',
        trustPolicy: o.federated('apply'),
        inlinePolicies: { write, chain: o.chain('deployer') },
      },
    ],
    members: ['member', 'security'].map((name) => ({
      name,
      roles: [
        { name: 'reader', trustPolicy: o.trustHub('gp-plan'), inlinePolicies: { read } },
        { name: 'deployer', trustPolicy: o.trustHub('gp-apply'), inlinePolicies: { write } },
      ],
    })),
  };
}

/**
 * A workspace's variables for the roles of phaseRoles: the default configuration on the hub's phase
 * roles, and the alias `member` chained into the member account's.
 */
export const memberAliasVars = (hub: string, member: string): Record<string, string> => ({
  TFC_AWS_PROVIDER_AUTH: 'true',
  TFC_AWS_PLAN_ROLE_ARN: `arn:aws:iam::${hub}:role/gp-plan`,
  TFC_AWS_APPLY_ROLE_ARN: `arn:aws:iam::${hub}:role/gp-apply`,
  TFC_AWS_PROVIDER_AUTH_member: 'true',
  TFC_DEFAULT_AWS_PLAN_ROLE_ARN: `arn:aws:iam::${hub}:role/gp-plan`,
  TFC_DEFAULT_AWS_APPLY_ROLE_ARN: `arn:aws:iam::${hub}:role/gp-apply`,
  GATEPASS_AWS_PLAN_CHAIN_ROLE_ARN_member: `arn:aws:iam::${member}:role/reader`,
  GATEPASS_AWS_APPLY_CHAIN_ROLE_ARN_member: `arn:aws:iam::${member}:role/deployer`,
});

/** `flags`: configuration beyond the defaults (e.g. a short `runLeaseSeconds`). */
export async function startAgentNode(flags: Record<string, unknown> = {}): Promise<AgentNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatepass-agent-node-'));
  const app = await startServer(
    resolveConfig({
      env: {},
      flags: { port: 0, dataDir, logLevel: 'error', tlsAutoHost: '127.0.0.1', ...flags },
    }),
    { log: createJsonLogger({ level: 'error', stream: { write: () => true } }) },
  );
  const cloud = app.services.cloud;
  if (!cloud) throw new Error('the cloud side is not mounted');
  const url = app.address.url;
  const caFile = join(dataDir, 'tls', 'ca.pem');
  const caPem = await readFile(caFile, 'utf8');
  const [account] = await app.store.list('account');
  const hub = account?.id ?? '';

  const host = url.replace(/^https:\/\//, '');
  const federated = (phase: string) =>
    policy([
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${hub}:oidc-provider/${host}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${host}:aud`]: 'aws.workload.identity' },
          StringLike: {
            [`${host}:sub`]: `organization:acme:project:*:workspace:networking:run_phase:${phase}`,
          },
        },
      },
    ]);
  const trustHub = (role: string) =>
    policy([
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: `arn:aws:iam::${hub}:role/${role}` } },
    ]);
  const chain = (target: string) =>
    policy([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `arn:aws:iam::*:role/${target}` }]);
  const roles = phaseRoles({ federated, trustHub, chain });
  const spec = parseSetup(
    JSON.stringify({
      accounts: [
        {
          name: 'hub',
          id: hub,
          oidcProviders: [{ url, clientIds: ['aws.workload.identity'], thumbprints: [thumbprintOf(caPem)] }],
          roles: roles.hub,
        },
        ...roles.members,
      ],
    }),
    'agent-node.json',
  );
  const applied = await applySetup(
    app.store,
    spec,
    { random: cryptoRandom, clock: systemClock },
    { file: 'agent-node.json' },
  );
  const member = applied.accounts.find((a) => a.name === 'member')?.id ?? '';
  const security = applied.accounts.find((a) => a.name === 'security')?.id ?? '';
  await cloud.sync();

  const api = await adminApi(url, dataDir, caPem);
  const vars: Record<string, string> = {
    ...memberAliasVars(hub, member),
    GATEPASS_AWS_ALLOWED_ACCOUNT_IDS_member: member,
    TFC_AWS_PROVIDER_AUTH_security: 'true',
    GATEPASS_AWS_PLAN_CHAIN_ROLE_ARN_security: `arn:aws:iam::${security}:role/reader`,
    GATEPASS_AWS_APPLY_CHAIN_ROLE_ARN_security: `arn:aws:iam::${security}:role/deployer`,
    GATEPASS_AWS_STS_ENDPOINT: url,
  };
  const agentToken = await workspaceWithAgentToken(api, 'acme', 'networking', vars);
  return {
    app,
    cloud,
    url,
    dataDir,
    caPem,
    caFile,
    hub,
    member,
    security,
    agentToken,
    async stop() {
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
