// Revocation where the STS has no RevokeRun, end to end over loopback against one gatepass node with
// RevokeRun switched off (stsRevokeRun: off, so its STS answers as AWS's does): its IAM and
// Organizations stand in for AWS's. The node and its organization (hub, members, a revoker account
// delegated the two deny-list SCPs and nothing else) are set up by helpers/deny-list-node.ts.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  addToDenyList,
  DENY_LIST_VARS,
  denyLapsedRun,
  type PolicyAccess,
} from '../../src/agent/deny-list.js';
import { IssuerClient } from '../../src/agent/issuer-client.js';
import { OrgError } from '../../src/agent/org-client.js';
import { type AgentOptions, type AgentOutcome, runAgent } from '../../src/agent/run.js';
import type { SigningCredentials } from '../../src/agent/sigv4-sign.js';
import { StsClient, StsError } from '../../src/agent/sts-client.js';
import {
  BUCKET_MS,
  bucketEnd,
  DenyListError,
  parseDenyList,
  planAdd,
  renderDenyList,
} from '../../src/core/denylist.js';
import { fixedClock } from '../../src/core/deps.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import type { App } from '../../src/server/app.js';
import {
  type DenyListNode,
  orgsClient,
  rawOrg as rawOrgAt,
  signedQuery,
  startDenyListNode,
} from './helpers/deny-list-node.js';

const root = new URL('../..', import.meta.url).pathname;
const policy = (statements: unknown[]) => ({ Version: '2012-10-17', Statement: statements });

let node: DenyListNode;
let app: App;
let dataDir: string;
let url: string;
let caPem: string;
let admin: SigningCredentials;
let hub: string;
let member: string;
let revoker: string;
let agentToken: string;
let denyIds: string[];
let guardId: string;
let revokerRole: string;

const orgs = (credentials: SigningCredentials) => orgsClient(node, credentials);
const query = (creds: SigningCredentials, params: Record<string, string>, service?: string) =>
  signedQuery(node, creds, params, service);
const listRoles = (creds: SigningCredentials) => query(creds, { Action: 'ListRoles' });
const rawOrg = (creds: SigningCredentials, operation: string, input: Record<string, unknown>) =>
  rawOrgAt(node, creds, operation, input);

async function orgCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof OrgError) return err.code;
    throw err;
  }
}

before(async () => {
  node = await startDenyListNode();
  ({ app, dataDir, url, caPem, admin, hub, member, revoker, agentToken, denyIds, guardId, revokerRole } =
    node);
});

after(async () => {
  if (process.env.KEEP) return;
  await node?.stop();
});

/** The command: resolves the default and the member alias credentials, writes their keys, then waits for `go` if given. */
const CHILD = `
import { STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import { existsSync, writeFileSync } from 'node:fs';
let keys;
try {
const dyn = JSON.parse(process.env.TF_VAR_tfc_aws_dynamic_credentials);
const memberCreds = fromIni({ configFilepath: dyn.aliases.member.shared_config_file, filepath: process.env.AWS_SHARED_CREDENTIALS_FILE });
  keys = [await new STSClient({}).config.credentials(), await memberCreds()].map((k) => ({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, sessionToken: k.sessionToken }));
} catch (e) {
  writeFileSync(process.argv[1] + '.err', String(e.name) + ': ' + String(e.message));
  process.exit(3);
}
writeFileSync(process.argv[1], JSON.stringify(keys), { mode: 0o600 });
const go = process.argv[2];
for (let i = 0; go && !existsSync(go) && i < 1200; i++) await new Promise((r) => setTimeout(r, 50));
`;

let n = 0;

async function phase(
  p: 'plan' | 'apply',
  o: { workspace?: string; runId?: string; go?: string } = {},
): Promise<{ outcome: AgentOutcome; log: string[]; keys: () => Promise<SigningCredentials[]> }> {
  const log: string[] = [];
  const out = join(dataDir, `keys-${n++}.json`);
  const options: AgentOptions = {
    organization: 'acme',
    workspace: o.workspace ?? 'networking',
    phase: p,
    ...(o.runId !== undefined ? { runId: o.runId } : {}),
    issuerUrl: url,
    agentToken,
    refresh: false,
    keepFiles: false,
    command: [process.execPath, '--input-type=module', '-e', CHILD, out, ...(o.go ? [o.go] : [])],
    env: { PATH: process.env.PATH, HOME: dataDir, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    cwd: root,
    log: { info: (m) => log.push(m), warn: (m) => log.push(`warn ${m}`) },
    clock: systemClock,
    random: cryptoRandom,
    interactive: false,
    runDirBase: join(dataDir, 'runs'),
    http: { ca: [caPem] },
  };
  const outcome = await runAgent(options);
  return { outcome, log, keys: async () => JSON.parse(await readFile(out, 'utf8')) as SigningCredentials[] };
}

async function until(file: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    try {
      await readFile(file);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${file} never appeared`);
}

const describe = async (policyId: string) => orgs(admin).describePolicy(policyId);

/** An STS client of the node (the agent's own, trusting the node's CA). */
const nodeSts = () =>
  new StsClient({ endpoint: url, region: 'us-east-1', clock: systemClock, http: { ca: [caPem] } });

test("RevokeRun switched off is answered as AWS's STS answers an action it does not have", async () => {
  const sts = nodeSts();
  await assert.rejects(sts.revokeRun('a.b.c'), (e: unknown) => {
    assert.ok(e instanceof StsError);
    assert.equal(e.code, 'InvalidAction');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'Could not find operation RevokeRun for version 2011-06-15');
    return true;
  });
});

test("a finished plan phase's hub and member credentials are denied on their next call; a concurrent run is untouched; the run's apply still works and its end denies the whole run", async () => {
  // Run B (another workspace) is running its command while run A comes and goes.
  const go = join(dataDir, 'go');
  const b = phase('plan', { workspace: 'other', go });
  const bKeysFile = join(dataDir, `keys-${n - 1}.json`);
  await Promise.race([
    until(bKeysFile),
    b.then((r) => {
      throw new Error(
        `run B ended early: ${r.log.join('\n')} ${r.outcome.error?.message} ${r.outcome.error?.problems.join('; ')}`,
      );
    }),
  ]);
  const bKeys = JSON.parse(await readFile(bKeysFile, 'utf8')) as SigningCredentials[];

  const plan = await phase('plan');
  assert.equal(plan.outcome.exitCode, 0, plan.log.join('\n'));
  const runId = plan.outcome.runId ?? '';
  assert.equal(plan.outcome.revocation?.method, 'DenyList', plan.log.join('\n'));
  assert.equal(plan.outcome.revoked, true);
  assert.match(plan.outcome.revocation?.detail ?? '', /^its sessions on 3 role\(s\) denied by SCP p-/);
  const [hubKeys, memberKeys] = await plan.keys();
  assert.ok(hubKeys && memberKeys);
  assert.equal(await listRoles(hubKeys), 'AccessDenied', 'the hub session of the ended plan phase');
  assert.equal(await listRoles(memberKeys), 'AccessDenied', 'its chained session in the member account');
  for (const k of bKeys) assert.equal(await listRoles(k), 'ok', 'the concurrent run is untouched');
  assert.ok(!plan.log.join('\n').includes(hubKeys.secretAccessKey), 'no secret in the log');
  // The issuer records what the agent reported (gatepass audit --run lists it).
  const reported = await app.store.queryAudit({ runId, action: 'gatepass:ReportRevocation' });
  assert.equal(reported.length, 1);
  assert.deepEqual(
    { phase: reported[0]?.detail?.phase, method: reported[0]?.detail?.method },
    { phase: 'plan', method: 'DenyList' },
  );

  // The plan entry names the plan phase's roles: the same run's apply assumes its own roles.
  const apply = await phase('apply', { runId });
  assert.equal(apply.outcome.exitCode, 0, apply.log.join('\n'));
  assert.equal(apply.outcome.revocation?.method, 'DenyList');
  assert.match(apply.outcome.revocation?.detail ?? '', /^every session of the run denied by SCP p-/);
  for (const k of await apply.keys()) assert.equal(await listRoles(k), 'AccessDenied');

  await writeFile(go, '');
  const bDone = await b;
  assert.equal(bDone.outcome.revocation?.method, 'DenyList');
  for (const k of bKeys) assert.equal(await listRoles(k), 'AccessDenied', 'and B is denied once it ends');

  const entries = [...parseDenyList(await describe(denyIds[0] ?? '')).values()];
  assert.deepEqual(
    entries
      .filter((e) => e.runId === runId)
      .map((e) => e.roles?.length ?? 0)
      .sort(),
    [0, 3],
    'one phase entry (gp-plan and the two readers) and one whole-run entry',
  );
});

test("after a lapsed lease the issuer's deny-list writer (denyLapsedRun) puts the whole run on the list: its hub and chained member sessions are denied", async () => {
  // The reaper's trigger is tested in test/issuer/leases.test.ts; here the writer it calls, against
  // this node's STS and Organizations as AWS's stand-in. (Here the run stays open: on one node the
  // lapse's own revocation record would end the revoker's session of the run too, which AWS's STS,
  // the target of this path, knows nothing of.)
  const issuer = new IssuerClient({ url, agentToken, http: { ca: [caPem] } });
  const run = await issuer.openRun('acme', 'networking', 'plan');
  const token = (await issuer.mint(run.id, { phase: 'plan', tag: '', audience: 'aws.workload.identity' }))
    .token;
  const sts = nodeSts();
  const hubKeys = (
    await sts.assumeRoleWithWebIdentity({
      roleArn: `arn:aws:iam::${hub}:role/gp-plan`,
      roleSessionName: 'lapsed',
      webIdentityToken: token,
    })
  ).credentials;
  const memberKeys = (
    await sts.assumeRole(hubKeys, {
      roleArn: `arn:aws:iam::${member}:role/reader`,
      roleSessionName: 'lapsed',
    })
  ).credentials;
  assert.equal(await listRoles(hubKeys), 'ok');
  assert.equal(await listRoles(memberKeys), 'ok');

  const variables = new Map<string, string | null>([
    ['GATEPASS_AWS_STS_ENDPOINT', url],
    [DENY_LIST_VARS.policies, denyIds.join(',')],
    [DENY_LIST_VARS.revokerRole, revokerRole],
  ]);
  const deadline = Date.now() + 3_600_000;
  const report = await denyLapsedRun({
    runId: run.id,
    variables,
    deadline,
    mint: async (audience) => (await issuer.mint(run.id, { phase: 'plan', tag: '', audience })).token,
    clock: systemClock,
    ca: [caPem],
  });
  assert.equal(report?.method, 'DenyList', report?.detail);
  assert.match(report?.detail ?? '', /^every session of the run denied by SCP p-/);
  assert.equal(await listRoles(hubKeys), 'AccessDenied', 'the hub session of the dead agent');
  assert.equal(await listRoles(memberKeys), 'AccessDenied', 'its chained session in the member account');
  const entries = [];
  for (const id of denyIds) entries.push(...parseDenyList(await describe(id)).values());
  const entry = entries.find((e) => e.runId === run.id);
  assert.ok(entry, 'the run is on a deny list');
  assert.equal(entry.roles, undefined, 'the whole run, not one phase');
  assert.ok(
    entry.until >= deadline + 13 * 3_600_000,
    'until the last session its tokens can mint has expired',
  );

  // No deny list named: nothing to do; plain http to another host: no revoker token leaves.
  const never = () => assert.fail('a revoker token was minted');
  const none = { runId: run.id, deadline, mint: never, clock: systemClock, ca: [] };
  assert.equal(await denyLapsedRun({ ...none, variables: new Map() }), undefined);
  const remote = new Map(variables).set('GATEPASS_AWS_STS_ENDPOINT', 'http://sts.gatepass-deny.invalid');
  const refused = await denyLapsedRun({ ...none, variables: remote });
  assert.equal(refused?.method, 'none');
  assert.match(refused?.detail ?? '', /neither https nor loopback/);
});

/** Credentials of the revoker role, as the agent gets them: a token of the revoker audience. */
async function revokerKeys(): Promise<{ creds: SigningCredentials; planToken: string; runId: string }> {
  const issuer = new IssuerClient({ url, agentToken, http: { ca: [caPem] } });
  const run = await issuer.openRun('acme', 'networking', 'plan');
  const token = (await issuer.mint(run.id, { phase: 'plan', tag: '', audience: 'gatepass-revoker' })).token;
  const planToken = (await issuer.mint(run.id, { phase: 'plan', tag: '', audience: 'aws.workload.identity' }))
    .token;
  const sts = nodeSts();
  const { credentials } = await sts.assumeRoleWithWebIdentity({
    roleArn: revokerRole,
    roleSessionName: 'revoker-test',
    webIdentityToken: token,
  });
  return { creds: credentials, planToken, runId: run.id };
}

test("the revoker's credentials update the two deny lists and grant nothing: no other SCP, no attachment, no delegation, no IAM write", async () => {
  const { creds, planToken, runId } = await revokerKeys();
  const as = orgs(creds);
  const before = await as.describePolicy(denyIds[0] ?? '');
  assert.equal(await orgCode(as.describePolicy(guardId)), 'AccessDeniedException');
  const loosen = JSON.stringify(policy([{ Effect: 'Allow', Action: '*', Resource: '*' }]));
  assert.equal(await orgCode(as.updatePolicy(guardId, loosen)), 'AccessDeniedException', 'another SCP');
  for (const [op, input] of [
    ['AttachPolicy', { PolicyId: 'p-FullAWSAccess', TargetId: revoker }],
    ['DetachPolicy', { PolicyId: guardId, TargetId: revoker }],
    ['PutResourcePolicy', { Content: loosen }],
    ['DeleteResourcePolicy', {}],
    ['CreatePolicy', { Name: 'x', Description: 'x', Type: 'SERVICE_CONTROL_POLICY', Content: loosen }],
  ] as const) {
    const r = await rawOrg(creds, op, input);
    assert.equal(r.json.__type, 'AccessDeniedException', op);
  }
  const doc = JSON.stringify(policy([{ Effect: 'Allow', Action: '*', Resource: '*' }]));
  for (const params of [
    { Action: 'PutRolePolicy', RoleName: 'gatepass-revoker', PolicyName: 'more', PolicyDocument: doc },
    { Action: 'CreatePolicy', PolicyName: 'more', PolicyDocument: doc },
    {
      Action: 'CreatePolicyVersion',
      PolicyArn: `arn:aws:iam::${revoker}:policy/any`,
      PolicyDocument: doc,
      SetAsDefault: 'true',
    },
    {
      Action: 'AttachRolePolicy',
      RoleName: 'gatepass-revoker',
      PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
    },
    { Action: 'UpdateAssumeRolePolicy', RoleName: 'gatepass-revoker', PolicyDocument: doc },
  ])
    assert.equal(await query(creds, params), 'AccessDenied', params.Action);
  // An Allow written into a deny list grants nothing: SCPs only ever restrict.
  await as.updatePolicy(
    denyIds[0] ?? '',
    JSON.stringify(policy([{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }])),
  );
  assert.equal(await listRoles(creds), 'AccessDenied');
  await as.updatePolicy(denyIds[0] ?? '', before);
  // A run's own token (its audience) cannot become the revoker.
  const sts = nodeSts();
  await assert.rejects(
    sts.assumeRoleWithWebIdentity({
      roleArn: revokerRole,
      roleSessionName: 'run-token',
      webIdentityToken: planToken,
    }),
    (e: unknown) => e instanceof StsError && e.code === 'AccessDenied',
  );
  await new IssuerClient({ url, agentToken, http: { ca: [caPem] } }).cancelRun(runId);
});

test('entries are pruned once every session of their run has expired (the writer clock moved past their bucket)', async () => {
  const { creds, runId } = await revokerKeys();
  const as = orgs(creds);
  const access: PolicyAccess = {
    read: (id) => as.describePolicy(id),
    write: (id, c) => as.updatePolicy(id, c),
  };
  const held = [...parseDenyList(await describe(denyIds[0] ?? '')).values()];
  assert.ok(held.length > 0, 'earlier tests left entries');
  const latest = Math.max(...held.map((e) => e.until));
  const later = fixedClock(latest);
  const out = await addToDenyList(
    access,
    denyIds,
    { runId, until: latest + BUCKET_MS },
    { clock: later, exempt: [revokerRole] },
  );
  assert.equal(out.policyId, denyIds[0]);
  const left = [...parseDenyList(await describe(denyIds[0] ?? '')).values()];
  assert.deepEqual(
    left.map((e) => e.runId),
    [runId],
    'only the new entry: the expired ones are gone',
  );
  assert.equal(left[0]?.until, bucketEnd(latest + BUCKET_MS));
  await new IssuerClient({ url, agentToken, http: { ca: [caPem] } }).cancelRun(runId);
});

test('two writers racing over HTTP: the entry one of them lost is noticed on read-back and written again; both survive', async () => {
  const { creds, runId } = await revokerKeys();
  const as = orgs(creds);
  // Both writers read and re-read before either writes; A writes, then B (over A's entry); A reads
  // back after B's write. Without the read-back A's entry would be gone.
  const gate = () => {
    let open: () => void = () => undefined;
    const p = new Promise<void>((r) => {
      open = r;
    });
    return { p, open };
  };
  const bothPlanned = gate();
  const aWrote = gate();
  const bWrote = gate();
  let planned = 0;
  const writer = (name: 'A' | 'B'): PolicyAccess => {
    let reads = 0;
    return {
      async read(id) {
        reads++;
        if (name === 'A' && reads === 3) await bWrote.p;
        const c = await as.describePolicy(id);
        if (reads === 2 && ++planned === 2) bothPlanned.open();
        return c;
      },
      async write(id, content) {
        await (name === 'A' ? bothPlanned.p : aWrote.p);
        await as.updatePolicy(id, content);
        (name === 'A' ? aWrote : bWrote).open();
      },
    };
  };
  const one = [denyIds[1] ?? ''];
  const until = Date.now() + 2 * BUCKET_MS;
  const o = { clock: systemClock, exempt: [revokerRole] };
  const [a, b] = await Promise.all([
    addToDenyList(writer('A'), one, { runId: `${runId}A`, until }, o),
    addToDenyList(writer('B'), one, { runId: `${runId}B`, until }, o),
  ]);
  assert.equal(a.lostUpdates, 1, 'A noticed its entry was overwritten');
  assert.equal(b.lostUpdates, 0);
  const ids = [...parseDenyList(await describe(denyIds[1] ?? '')).values()].map((e) => e.runId);
  assert.ok(ids.includes(`${runId}A`) && ids.includes(`${runId}B`), 'both entries are in the list');
  await new IssuerClient({ url, agentToken, http: { ca: [caPem] } }).cancelRun(runId);
});

test('a list near the size limit still revokes by spilling into the next policy; with every policy full the agent says so and the run is not reported revoked', async () => {
  const until = Date.now() + 20 * BUCKET_MS;
  /** Fill one policy to the brim with entries of runs that do not exist. */
  const brim = async (policyId: string) => {
    let contents = [await describe(policyId)];
    for (let i = 0; ; i++) {
      try {
        const plan = planAdd(
          contents,
          { runId: `run-fill${String(i).padStart(12, '0')}`, until },
          Date.now(),
          {
            exempt: [revokerRole],
          },
        );
        for (const w of plan) contents = [w.content];
      } catch (err) {
        assert.ok(err instanceof DenyListError && err.code === 'Full');
        break;
      }
    }
    await orgs(admin).updatePolicy(policyId, contents[0] ?? '');
  };
  await brim(denyIds[0] ?? '');
  const spilled = await phase('plan');
  assert.equal(spilled.outcome.revocation?.method, 'DenyList', spilled.log.join('\n'));
  assert.match(spilled.outcome.revocation?.detail ?? '', new RegExp(`denied by SCP ${denyIds[1]} `));
  for (const k of await spilled.keys()) assert.equal(await listRoles(k), 'AccessDenied');

  await brim(denyIds[1] ?? '');
  const full = await phase('plan');
  assert.equal(full.outcome.revoked, false);
  assert.equal(full.outcome.revocation?.method, 'none');
  assert.match(
    full.outcome.revocation?.detail ?? '',
    /^the deny list could not be written: the deny list is full: 2 policies hold \d+ revoked runs/,
  );
  assert.ok(
    full.log.some((l) =>
      l.startsWith('warn run revocation not possible: the deny list could not be written'),
    ),
  );
  for (const k of await full.keys())
    assert.equal(await listRoles(k), 'ok', 'what a full list means: these live on');
});

test("the delegation policy API answers as AWS's: management account only, bad content refused, not found once deleted, and a delegate's reach ends with it", async () => {
  const described = await rawOrg(admin, 'DescribeResourcePolicy', {});
  assert.equal(described.status, 200);
  const rp = described.json.ResourcePolicy as {
    ResourcePolicySummary: { Id: string; Arn: string };
    Content: string;
  };
  assert.match(rp.ResourcePolicySummary.Id, /^rp-[0-9a-z]{8}$/);
  assert.match(
    rp.ResourcePolicySummary.Arn,
    /^arn:aws:organizations::\d{12}:resourcepolicy\/o-[a-z0-9]{10}\/rp-[0-9a-z]{8}$/,
  );
  const { creds, runId } = await revokerKeys();
  // The delegate reads it (DescribeResourcePolicy is delegable); writing it is the management account's.
  assert.equal(
    (await rawOrg(creds, 'DescribeResourcePolicy', {})).json.__type,
    'AccessDeniedException',
    'not in the delegation',
  );
  for (const [content, type] of [
    ['{not json', 'MalformedPolicyDocumentException'],
    [
      JSON.stringify(policy([{ Effect: 'Allow', Principal: '*', Action: 'iam:*', Resource: '*' }])),
      'MalformedPolicyDocumentException',
    ],
    [
      JSON.stringify(
        policy([{ Effect: 'Allow', Principal: { AWS: '*' }, NotAction: 'organizations:*', Resource: '*' }]),
      ),
      'MalformedPolicyDocumentException',
    ],
  ] as const) {
    const r = await rawOrg(admin, 'PutResourcePolicy', { Content: content });
    assert.equal(r.status, 400);
    assert.equal(r.json.__type, type, content);
  }
  assert.equal((await rawOrg(admin, 'DescribeResourcePolicy', {})).json.ResourcePolicy !== undefined, true);
  assert.equal(
    JSON.stringify((await rawOrg(admin, 'DescribeResourcePolicy', {})).json.ResourcePolicy),
    JSON.stringify(rp),
    'refused writes changed nothing',
  );
  // Deleted: the revoker's credentials no longer reach the deny lists, and the API says not found.
  assert.equal((await rawOrg(admin, 'DeleteResourcePolicy', {})).status, 200);
  assert.equal(
    (await rawOrg(admin, 'DescribeResourcePolicy', {})).json.__type,
    'ResourcePolicyNotFoundException',
  );
  assert.equal(
    (await rawOrg(admin, 'DeleteResourcePolicy', {})).json.__type,
    'ResourcePolicyNotFoundException',
  );
  assert.equal(await orgCode(orgs(creds).describePolicy(denyIds[0] ?? '')), 'AccessDeniedException');
  const back = await rawOrg(admin, 'PutResourcePolicy', { Content: rp.Content });
  assert.equal(back.status, 200);
  assert.equal(await orgCode(orgs(creds).describePolicy(denyIds[0] ?? '')), 'ok');
  await new IssuerClient({ url, agentToken, http: { ca: [caPem] } }).cancelRun(runId);
});

test('a policy that changes between the read and the write is merged again before writing (no blind overwrite); a list that never settles fails loudly', async () => {
  // In memory (unit isolation): another writer's entry lands between this writer's read and re-read.
  const other = renderDenyList(
    new Map([
      ['run-other000000000001', { runId: 'run-other000000000001', until: bucketEnd(Date.now() + BUCKET_MS) }],
    ]),
    { exempt: [] },
  );
  let content = renderDenyList(new Map(), { exempt: [] });
  let reads = 0;
  const access: PolicyAccess = {
    async read() {
      reads++;
      if (reads === 2) content = other;
      return content;
    },
    async write(_id, c) {
      content = c;
    },
  };
  const out = await addToDenyList(
    access,
    ['p-memory01'],
    { runId: 'run-mine0000000000001', until: Date.now() },
    { clock: systemClock, exempt: [] },
  );
  assert.equal(out.conflicts, 1);
  assert.deepEqual([...parseDenyList(content).values()].map((e) => e.runId).sort(), [
    'run-mine0000000000001',
    'run-other000000000001',
  ]);
  // A list rewritten under every attempt: the writer gives up with the reason, never silently.
  let n = 0;
  const churn: PolicyAccess = {
    async read() {
      n++;
      return renderDenyList(
        new Map([
          [
            `run-churn${n}`,
            { runId: `run-churn${String(n).padStart(11, '0')}`, until: bucketEnd(Date.now() + BUCKET_MS) },
          ],
        ]),
        { exempt: [] },
      );
    },
    async write() {},
  };
  await assert.rejects(
    addToDenyList(
      churn,
      ['p-memory01'],
      { runId: 'run-mine0000000000002', until: Date.now() },
      { clock: systemClock, exempt: [], attempts: 3 },
    ),
    (e: unknown) =>
      e instanceof DenyListError &&
      e.code === 'Conflict' &&
      /3 attempts \(3 changed before the write, 0 lost after it\)/.test(e.message),
  );
});
