// An organization built through the Organizations API and the same organization written as a setup
// file are one model: node A is built over real HTTP (OUs, accounts, an SCP on the hub's OU, an
// allow-list SCP with FullAWSAccess detached, an RCP), node B applies the equivalent file (the same
// account ids, pinned). The records read back the same, and `gatepass simulate` (on either node and
// offline on the file), `explain` of a refused request and `lint` of the management account give the
// same answers, once the ids each side chose at random (organization, root, OUs, policies) are
// replaced by names.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  type Credentials,
  STSClient,
} from '@aws-sdk/client-sts';
import { lintAccount, lintSetupText } from '../../src/cloud/explain/lint-files.js';
import { explainRequest } from '../../src/cloud/explain/request.js';
import { openSandbox } from '../../src/cloud/explain/sandbox.js';
import { simulate } from '../../src/cloud/explain/simulate.js';
import { decisionStory } from '../../src/cloud/explain/story.js';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup, SetupError, type SetupSpec } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';
import { organizationsOk } from '../helpers/organizations.js';

let api: CloudFixture;
let file: CloudFixture;
/** Account ids by name, the same on both nodes. */
const ids: Record<string, string> = {};
let managementName = '';

const doc = (statements: unknown[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
/** Everything in the hub but role chaining is denied (the multi-account guide's SCP). */
const HUB_SCP = doc([
  {
    Effect: 'Deny',
    NotAction: ['sts:AssumeRole', 'sts:TagSession', 'sts:GetCallerIdentity'],
    Resource: '*',
  },
]);
/**
 * The allow list of dev (FullAWSAccess detached there). Its second statement is a lint finding
 * (iam:ListUsers is requested on "*", which a role ARN never covers).
 */
const DEV_SCP = doc([
  { Effect: 'Allow', Action: ['iam:Get*', 'iam:List*', 'sts:*'], Resource: '*' },
  { Effect: 'Deny', Action: 'iam:ListUsers', Resource: 'arn:aws:iam::*:role/*' },
]);
/** Only the hub may assume roles in the workloads OU. */
const RCP = () =>
  doc([
    {
      Effect: 'Deny',
      Principal: '*',
      Action: 'sts:AssumeRole',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:PrincipalAccount': ids['runs-hub'] } },
    },
  ]);

/** The accounts, their OIDC provider and roles: applied on both nodes (node A has no organization section). */
function setupText(withOrganization: boolean): string {
  const issuer = api.idp.issuer;
  const host = issuer.replace(/^https:\/\//, '');
  const accounts = [
    // Each node's own bootstrapped account (its id differs, like the random ids below).
    { name: managementName },
    {
      name: 'runs-hub',
      id: ids['runs-hub'],
      oidcProviders: [
        { url: issuer, clientIds: ['aws.workload.identity'], thumbprints: [api.pki.caThumbprint] },
      ],
      roles: [
        {
          name: 'tfc-plan',
          trustPolicy: JSON.parse(
            doc([
              {
                Effect: 'Allow',
                Principal: { Federated: `arn:aws:iam::${ids['runs-hub']}:oidc-provider/${host}` },
                Action: 'sts:AssumeRoleWithWebIdentity',
                Condition: {
                  StringEquals: { [`${host}:aud`]: 'aws.workload.identity' },
                  StringLike: { [`${host}:sub`]: 'organization:acme:project:*:workspace:net:run_phase:plan' },
                },
              },
            ]),
          ),
          inlinePolicies: {
            everything: JSON.parse(doc([{ Effect: 'Allow', Action: '*', Resource: '*' }])),
          },
        },
      ],
    },
    {
      name: 'dev',
      id: ids.dev,
      roles: [
        {
          name: 'deploy',
          trustPolicy: JSON.parse(
            doc([
              {
                Effect: 'Allow',
                Action: 'sts:AssumeRole',
                Principal: { AWS: `arn:aws:iam::${ids['runs-hub']}:role/tfc-plan` },
              },
            ]),
          ),
          attachedPolicies: ['aws:AdministratorAccess'],
        },
      ],
    },
  ];
  const organization = {
    management: managementName,
    units: [
      { name: 'platform', accounts: ['runs-hub'] },
      { name: 'workloads', accounts: ['dev'] },
    ],
    policies: [
      { name: 'hub-chaining-only', type: 'scp', targets: ['ou:platform'], document: JSON.parse(HUB_SCP) },
      { name: 'dev-allow-list', type: 'scp', targets: ['dev'], document: JSON.parse(DEV_SCP) },
      { name: 'hub-only', type: 'rcp', targets: ['ou:workloads'], document: JSON.parse(RCP()) },
    ],
    detachFullAwsAccess: ['dev'],
  };
  return JSON.stringify(withOrganization ? { accounts, organization } : { accounts });
}

/** The file parsed, its problems in the error when it has any. */
async function explained<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof SetupError ? new Error(err.lines().join('\n')) : err;
  }
}
const parsed = (text: string): Promise<SetupSpec> => explained(() => parseSetup(text, 'org.json'));

const apply = (fx: CloudFixture, text: string) =>
  explained(async () =>
    applySetup(
      fx.app.store,
      await parsed(text),
      { random: cryptoRandom, clock: systemClock },
      { file: 'org.json' },
    ),
  );

before(async () => {
  api = await startCloud();
  file = await startCloud({ idpOf: api });
  const call = (op: string, body: Record<string, unknown> = {}) =>
    organizationsOk(api.url, api.admin, op, body);
  await call('CreateOrganization', { FeatureSet: 'ALL' });
  const root = ((await call('ListRoots')).Roots as { Id: string }[])[0]?.Id ?? '';
  for (const type of ['SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY'])
    await call('EnablePolicyType', { RootId: root, PolicyType: type });
  const ou = async (name: string) =>
    (
      (await call('CreateOrganizationalUnit', { ParentId: root, Name: name })).OrganizationalUnit as {
        Id: string;
      }
    ).Id;
  const platform = await ou('platform');
  const workloads = await ou('workloads');
  for (const [name, parent] of [
    ['runs-hub', platform],
    ['dev', workloads],
  ] as const) {
    const status = (await call('CreateAccount', { AccountName: name, Email: `${name}@example.com` }))
      .CreateAccountStatus as { AccountId: string };
    ids[name] = status.AccountId;
    await call('MoveAccount', {
      AccountId: status.AccountId,
      SourceParentId: root,
      DestinationParentId: parent,
    });
  }
  const policy = async (name: string, type: string, content: string, target: string) => {
    const p = (await call('CreatePolicy', { Name: name, Description: '', Type: type, Content: content }))
      .Policy as { PolicySummary: { Id: string } };
    await call('AttachPolicy', { PolicyId: p.PolicySummary.Id, TargetId: target });
  };
  await policy('hub-chaining-only', 'SERVICE_CONTROL_POLICY', HUB_SCP, platform);
  await policy('dev-allow-list', 'SERVICE_CONTROL_POLICY', DEV_SCP, ids.dev ?? '');
  await policy('hub-only', 'RESOURCE_CONTROL_POLICY', RCP(), workloads);
  await call('DetachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: ids.dev });

  const management = await api.app.store.get('account', api.accountId);
  managementName = management?.name ?? '';
  await apply(api, setupText(false));
  await apply(file, setupText(true));
  await Promise.all([api.cloud.sync(), file.cloud.sync()]);
});

after(async () => {
  await file?.stop();
  await api?.stop();
});

/** The ids a node chose at random (organization, root, OUs, customer policies, its own account) → names. */
async function namer(store: Store): Promise<(text: string) => string> {
  const names = new Map<string, string>();
  const [org] = await store.list('awsOrganization');
  if (org) {
    names.set(org.id, 'o-ORG');
    names.set(org.rootId, 'r-ROOT');
    names.set(org.managementAccountId, 'MANAGEMENT');
  }
  for (const u of await store.list('organizationalUnit'))
    if (u.id.startsWith('ou-')) names.set(u.id, `ou-${u.name}`);
  for (const p of await store.list('orgPolicy')) if (!p.awsManaged) names.set(p.id, `p-${p.name}`);
  return (text) => {
    let out = text;
    for (const [id, name] of names) out = out.replaceAll(id, name);
    return out;
  };
}

/**
 * A value with a store's random ids named, and lists of evaluated policies in name order (a level's
 * policies are listed in id order, and ids are chosen at random on each side).
 */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    const named = items.every((i) => typeof i === 'object' && i !== null && 'policy' in i);
    return named ? items.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))) : items;
  }
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonical(v)]));
  return value;
}

async function normalizedIn(store: Store, value: unknown): Promise<unknown> {
  return canonical(JSON.parse((await namer(store))(JSON.stringify(value))));
}
const normalized = (fx: CloudFixture, value: unknown) => normalizedIn(fx.app.store, value);

test('the API-built organization and the file-built one are the same records: tree, policy types, every SCP and RCP with its targets', async () => {
  const records = async (fx: CloudFixture) => {
    const store = fx.app.store;
    const name = await namer(store);
    const [org] = await store.list('awsOrganization');
    const accounts: Record<string, string | null> = {};
    for (const [account, id] of Object.entries(ids)) {
      const parent = (await store.get('account', id))?.parentId;
      accounts[account] = parent ? name(parent) : null;
    }
    const units = (await store.list('organizationalUnit'))
      .map((u) => `${name(u.id)} in ${u.parentId ? name(u.parentId) : '-'}`)
      .sort();
    const policies = (await store.list('orgPolicy'))
      .map((p) => ({
        policy: name(p.id),
        type: p.type,
        content: JSON.parse(name(p.content)) as unknown,
        targets: p.targets.map(name).sort(),
      }))
      .sort((x, y) => x.policy.localeCompare(y.policy));
    return {
      management: name(org?.managementAccountId ?? ''),
      enabled: [...(org?.enabledPolicyTypes ?? ['SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY'])].sort(),
      accounts,
      units,
      policies,
    };
  };
  const fromApi = await records(api);
  assert.deepEqual(fromApi, await records(file));
  // Not vacuous: the allow list is in place (FullAWSAccess off dev, on its OU).
  const full = fromApi.policies.find((p) => p.policy === 'p-FullAWSAccess');
  assert.equal(full?.targets.includes(ids.dev ?? ''), false);
  assert.equal(full?.targets.includes('ou-workloads'), true);
});

/** Each chain and action simulated: a web identity on the hub role, then the member role, then actions. */
const SCENARIOS = (): { name: string; chain: string[]; actions: string[] }[] => [
  { name: 'hub session acts in the hub', chain: [], actions: ['iam:ListRoles', 'sts:GetCallerIdentity'] },
  {
    name: 'chained into dev',
    chain: [`arn:aws:iam::${ids.dev}:role/deploy`],
    actions: ['iam:ListRoles', 'iam:CreateUser', 'iam:GetRole'],
  },
];

test('gatepass simulate answers the same on the API-built node, the file-built node and offline on the file', async () => {
  const claims = api.idp.claims({ sub: 'organization:acme:project:Infra:workspace:net:run_phase:plan' });
  const sandbox = await openSandbox(await parsed(setupText(true)), 'org.json', {
    clock: systemClock,
    random: cryptoRandom,
    openStore: () => openSqliteStore({ path: ':memory:' }),
  });
  try {
    for (const s of SCENARIOS()) {
      const input = {
        roleArn: `arn:aws:iam::${ids['runs-hub']}:role/tfc-plan`,
        chain: s.chain,
        actions: s.actions,
      };
      const now = systemClock.now();
      const onApi = await simulate(api.cloud.sts, { ...input, token: await api.idp.sign(claims) }, now);
      const onFile = await simulate(file.cloud.sts, { ...input, token: await api.idp.sign(claims) }, now);
      const offline = await simulate(sandbox.sts, { ...input, token: await sandbox.sign(claims) }, now);
      const a = await normalized(api, onApi);
      assert.deepEqual(a, await normalized(file, onFile), s.name);
      assert.deepEqual(a, await normalizedIn(sandbox.store, offline), `${s.name} (offline)`);
      assert.equal(onApi.steps.length, 1 + s.chain.length + s.actions.length, s.name);
    }
  } finally {
    await sandbox.close();
  }
  // What the scenarios decide: the SCPs and the RCP take part (not vacuous).
  const token = await api.idp.sign(claims);
  const dev = await simulate(
    api.cloud.sts,
    {
      token,
      roleArn: `arn:aws:iam::${ids['runs-hub']}:role/tfc-plan`,
      chain: [`arn:aws:iam::${ids.dev}:role/deploy`],
      actions: ['iam:ListRoles', 'iam:CreateUser'],
    },
    systemClock.now(),
  );
  assert.deepEqual(
    dev.steps.map((s) => s.allowed),
    [true, true, true, false],
  );
});

/** A request the allow-list SCP refuses, made for real over HTTP on a node: its request id. */
async function refusedRequest(fx: CloudFixture): Promise<string> {
  const client = (creds?: Credentials) => ({
    endpoint: fx.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: creds?.AccessKeyId ?? 'unused',
      secretAccessKey: creds?.SecretAccessKey ?? 'unused',
      ...(creds?.SessionToken ? { sessionToken: creds.SessionToken } : {}),
    },
  });
  const token = await api.idp.sign(
    api.idp.claims({ sub: 'organization:acme:project:Infra:workspace:net:run_phase:plan' }),
  );
  const hub = await new STSClient(client()).send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: `arn:aws:iam::${ids['runs-hub']}:role/tfc-plan`,
      RoleSessionName: 'equivalence',
      WebIdentityToken: token,
    }),
  );
  const dev = await new STSClient(client(hub.Credentials)).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ids.dev}:role/deploy`, RoleSessionName: 'equivalence' }),
  );
  try {
    await new IAMClient(client(dev.Credentials)).send(new CreateUserCommand({ UserName: 'not-allowed' }));
  } catch (err) {
    const e = err as { name?: string; $metadata?: { requestId?: string } };
    assert.equal(e.name, 'AccessDenied');
    await fx.cloud.flushAudit();
    return e.$metadata?.requestId ?? '';
  }
  throw new Error('CreateUser was allowed');
}

test('gatepass explain tells the same story of a request the allow-list SCP refused on either node', async () => {
  const story = async (fx: CloudFixture) => {
    const id = await refusedRequest(fx);
    const explained = await explainRequest(fx.app.store, fx.cloud.authorizer, id);
    assert.ok(explained, `request ${id} is on the record`);
    return normalized(
      fx,
      explained.events.map((e) => ({
        action: e.event.action,
        decision: e.event.decision,
        reason: e.event.reasonCode,
        story: e.trace ? decisionStory(e.trace) : [],
        hints: e.hints,
      })),
    );
  };
  const fromApi = await story(api);
  assert.deepEqual(fromApi, await story(file));
  assert.match(JSON.stringify(fromApi), /dev-allow-list/);
});

test('gatepass lint of the management account finds what lint finds in the setup file, SCPs and RCPs included', async () => {
  const strip = (findings: { rule: string; severity: string; message: string; role?: string }[]) =>
    findings.map((f) => [f.rule, f.severity, f.role ?? '', f.message]).sort();
  const onApi = strip(await lintAccount(api.app.store, api.accountId));
  const onFile = strip(await lintAccount(file.app.store, file.accountId));
  const fromText = strip(
    lintSetupText(setupText(true), 'org.json', {}).filter(
      (f) => f.role?.startsWith(`${managementName}/`) || f.role?.startsWith('organization/'),
    ),
  );
  assert.deepEqual(onApi, onFile);
  assert.deepEqual(onApi, fromText);
  assert.ok(
    onApi.some(
      ([rule, , role]) =>
        rule === 'wildcard-only-action-on-arn' && role === 'organization/policy/dev-allow-list',
    ),
    JSON.stringify(onApi),
  );
});
