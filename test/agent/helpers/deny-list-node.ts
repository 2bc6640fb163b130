// One gatepass node with RevokeRun switched off (stsRevokeRun: off, so its STS answers as AWS's does),
// whose IAM and Organizations stand in for AWS's, set up for revocation by the SCP deny list. The
// organization: a management account (the bootstrap administrator), and in one OU the hub (OIDC
// provider, plan/apply roles), two member accounts the hub chains into, and the revoker account,
// which the management account's delegation policy lets update the two deny-list SCPs attached at
// the root, and nothing else. Workspaces `networking` and `other` of organization acme name the deny
// list and the revoker role, with a chained alias `member`; trusts carry sts:SetSourceIdentity.
// Used in-process by deny-list.test.ts and inside a network namespace by clients/netns-deny-list.ts.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DENY_LIST_VARS } from '../../../src/agent/deny-list.js';
import { send } from '../../../src/agent/http-client.js';
import { OrganizationsClient } from '../../../src/agent/org-client.js';
import { type SigningCredentials, signRequest } from '../../../src/agent/sigv4-sign.js';
import { applySetup } from '../../../src/cloud/setup/apply.js';
import { parseSetup } from '../../../src/cloud/setup/schema.js';
import { renderDenyList } from '../../../src/core/denylist.js';
import { thumbprintOf } from '../../../src/issuer/local-ca.js';
import { systemClock } from '../../../src/runtime/clock.js';
import { cryptoRandom } from '../../../src/runtime/random.js';
import { type App, startServer } from '../../../src/server/app.js';
import { CREDENTIALS_FILE } from '../../../src/server/cloud-mount.js';
import { resolveConfig } from '../../../src/server/config.js';
import { createJsonLogger } from '../../../src/server/log.js';
import { adminApi } from '../../helpers/admin-api.js';
import { readCredentialsFile } from '../../helpers/cloud.js';
import { memberAliasVars, phaseRoles } from './node.js';

/** Where a node answers: its URL and the CA it is trusted with. */
export interface NodeTarget {
  url: string;
  caPem: string;
}

export interface DenyListNode extends NodeTarget {
  app: App;
  dataDir: string;
  caFile: string;
  /** The bootstrap administrator of the management account. */
  admin: SigningCredentials;
  /** Account ids: the hub (plan/apply roles), a member it chains into, the revoker's account. */
  hub: string;
  member: string;
  revoker: string;
  agentToken: string;
  /** The two deny-list SCPs, and another SCP the revoker must not touch. */
  denyIds: string[];
  guardId: string;
  revokerRole: string;
  stop(): Promise<void>;
}

const policy = (statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements });

export const orgsClient = (target: NodeTarget, credentials: SigningCredentials) =>
  new OrganizationsClient({
    endpoint: target.url,
    credentials,
    clock: systemClock,
    http: { ca: [target.caPem] },
  });

/** One signed Query call (IAM unless `service` says sts); returns the error code, or 'ok'. */
export async function signedQuery(
  target: NodeTarget,
  creds: SigningCredentials,
  params: Record<string, string>,
  service = 'iam',
): Promise<string> {
  const body = new URLSearchParams({
    Version: service === 'iam' ? '2010-05-08' : '2011-06-15',
    ...params,
  }).toString();
  const endpoint = new URL(target.url);
  const headers = signRequest({
    method: 'POST',
    url: endpoint,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
    credentials: creds,
    region: 'us-east-1',
    service,
    now: Date.now(),
  });
  const res = await send(endpoint, { method: 'POST', headers, body }, { ca: [target.caPem] });
  if (res.status < 300) return 'ok';
  return /<Code>([^<]+)<\/Code>/.exec(res.body.toString('utf8'))?.[1] ?? `HTTP${res.status}`;
}

/** An Organizations call with the raw status and body (for the admin's set-up). */
export async function rawOrg(
  target: NodeTarget,
  creds: SigningCredentials,
  operation: string,
  input: Record<string, unknown>,
) {
  const body = JSON.stringify(input);
  const endpoint = new URL(target.url);
  const headers = signRequest({
    method: 'POST',
    url: endpoint,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSOrganizationsV20161128.${operation}`,
    },
    body,
    credentials: creds,
    region: 'us-east-1',
    service: 'organizations',
    now: Date.now(),
  });
  const res = await send(endpoint, { method: 'POST', headers, body }, { ca: [target.caPem] });
  return {
    status: res.status,
    json: JSON.parse(res.body.toString('utf8') || '{}') as Record<string, unknown>,
  };
}

export async function startDenyListNode(): Promise<DenyListNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatepass-deny-list-'));
  const app = await startServer(
    resolveConfig({
      env: {},
      flags: { port: 0, dataDir, logLevel: 'error', tlsAutoHost: '127.0.0.1', stsRevokeRun: 'off' },
    }),
    { log: createJsonLogger({ level: 'error', stream: { write: () => true } }) },
  );
  const url = app.address.url;
  const caFile = join(dataDir, 'tls', 'ca.pem');
  const caPem = await readFile(caFile, 'utf8');
  const target = { url, caPem };
  const keys = readCredentialsFile(join(dataDir, CREDENTIALS_FILE))['gatepass-hub'];
  if (!keys) throw new Error('no bootstrap administrator');
  const admin: SigningCredentials = keys;
  const [management] = await app.store.list('account');
  const host = url.replace(/^https:\/\//, '');
  const provider = (account: string) => `arn:aws:iam::\${account:${account}}:oidc-provider/${host}`;
  const oidc = {
    url,
    clientIds: ['aws.workload.identity', 'gatepass-revoker'],
    thumbprints: [thumbprintOf(caPem)],
  };
  // Trusts carry sts:SetSourceIdentity: every token of the run carries the run id as source identity.
  const federated = (phase: string) =>
    policy([
      {
        Effect: 'Allow',
        Principal: { Federated: provider('platform') },
        Action: ['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity'],
        Condition: {
          StringEquals: { [`${host}:aud`]: 'aws.workload.identity' },
          StringLike: { [`${host}:sub`]: `organization:acme:project:*:workspace:*:run_phase:${phase}` },
        },
      },
    ]);
  const trustHub = (role: string) =>
    policy([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Principal: { AWS: `arn:aws:iam::\${account:platform}:role/${role}` },
      },
    ]);
  const chain = (target: string) =>
    policy([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Resource: `arn:aws:iam::*:role/${target}`,
      },
    ]);
  const roles = phaseRoles({ federated, trustHub, chain });
  const empty = JSON.parse(renderDenyList(new Map(), { exempt: [] })) as unknown;
  // The revoker role: assumed with a token of the revoker audience only; updates the deny lists only.
  const spec = (denyArns: string[]) =>
    JSON.stringify({
      accounts: [
        { name: 'hub', id: management?.id },
        {
          name: 'platform',
          oidcProviders: [oidc],
          roles: roles.hub,
        },
        ...roles.members,
        {
          name: 'revoker',
          oidcProviders: [oidc],
          roles: [
            {
              name: 'gatepass-revoker',
              trustPolicy: policy([
                {
                  Effect: 'Allow',
                  Principal: { Federated: provider('revoker') },
                  Action: ['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity'],
                  Condition: {
                    StringEquals: { [`${host}:aud`]: 'gatepass-revoker' },
                    StringLike: { [`${host}:sub`]: 'organization:acme:*' },
                  },
                },
              ]),
              inlinePolicies: {
                writer: policy([
                  {
                    Effect: 'Allow',
                    Action: ['organizations:DescribePolicy', 'organizations:UpdatePolicy'],
                    Resource: denyArns.length ? denyArns : 'arn:aws:organizations::000000000000:policy/none',
                  },
                ]),
              },
            },
          ],
        },
      ],
      organization: {
        management: 'hub',
        units: [{ name: 'workloads', accounts: ['platform', 'member', 'security', 'revoker'] }],
        policies: [
          { name: 'gatepass-deny-list-1', type: 'scp', document: empty, targets: ['root'] },
          { name: 'gatepass-deny-list-2', type: 'scp', document: empty, targets: ['root'] },
          // Another SCP, which the revoker must not be able to touch.
          {
            name: 'no-users',
            type: 'scp',
            document: policy([{ Effect: 'Deny', Action: 'iam:CreateUser', Resource: '*' }]),
            targets: ['ou:workloads'],
          },
        ],
      },
    });
  const deps = { random: cryptoRandom, clock: systemClock };
  const first = await applySetup(app.store, parseSetup(spec([]), 'd.json'), deps, { file: 'd.json' }).catch(
    (e: unknown) => {
      throw new Error(JSON.stringify((e as { problems?: unknown }).problems));
    },
  );
  const id = (name: string) => first.accounts.find((a) => a.name === name)?.id ?? '';
  const hub = id('platform');
  const member = id('member');
  const revoker = id('revoker');
  const policies = await app.store.list('orgPolicy');
  const byName = (n: string) => policies.find((p) => p.name === n)?.id ?? '';
  const denyIds = [byName('gatepass-deny-list-1'), byName('gatepass-deny-list-2')];
  const guardId = byName('no-users');
  const [org] = await app.store.list('awsOrganization');
  const denyArns = denyIds.map(
    (p) => `arn:aws:organizations::${management?.id}:policy/${org?.id}/service_control_policy/${p}`,
  );
  await applySetup(app.store, parseSetup(spec(denyArns), 'd.json'), deps, { file: 'd.json' });
  assert.deepEqual(
    (await app.store.list('orgPolicy'))
      .filter((p) => p.name.startsWith('gatepass-deny-list'))
      .map((p) => p.id)
      .sort(),
    [...denyIds].sort(),
  );
  await app.services.cloud?.sync();
  const revokerRole = `arn:aws:iam::${revoker}:role/gatepass-revoker`;
  // The management account delegates exactly these two policies to the revoker account.
  const put = await rawOrg(target, admin, 'PutResourcePolicy', {
    Content: JSON.stringify(
      policy([
        {
          Sid: 'GatepassDenyListWriter',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${revoker}:root` },
          Action: ['organizations:DescribePolicy', 'organizations:UpdatePolicy'],
          Resource: denyArns,
        },
      ]),
    ),
  });
  assert.equal(put.status, 200, JSON.stringify(put.json));

  const api = await adminApi(url, dataDir, caPem);
  await api('/orgs', { name: 'acme', tokenOptions: { sourceIdentity: true } });
  for (const name of ['networking', 'other']) {
    const ws = await api('/orgs/acme/workspaces', { name });
    const vars: Record<string, string> = {
      ...memberAliasVars(hub, member),
      GATEPASS_AWS_STS_ENDPOINT: url,
      [DENY_LIST_VARS.policies]: denyIds.join(','),
      [DENY_LIST_VARS.revokerRole]: revokerRole,
    };
    for (const [key, value] of Object.entries(vars))
      await api(`/workspaces/${String(ws.id)}/vars`, { key, value, category: 'env' });
  }
  const agentToken = String((await api('/orgs/acme/agent-tokens', { description: 'deny list' })).token);

  return {
    app,
    url,
    caPem,
    caFile,
    dataDir,
    admin,
    hub,
    member,
    revoker,
    agentToken,
    denyIds,
    guardId,
    revokerRole,
    async stop() {
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
