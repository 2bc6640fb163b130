// explain, audit, simulate and lint against a real `gatepass serve` process on loopback (its own
// issuer over HTTPS with the local CA), with denials produced by the AWS JS SDK: a web identity
// token for the wrong phase, a chain denied by an SCP, one denied by the caller's identity policy,
// and an IAM write the plan role may not make.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AdminNode, startAdminNode } from '../helpers/admin-node.js';
import { cli, golden, normalise } from './helpers.js';

const vectors = new URL('../vectors/explain/', import.meta.url).pathname;
const OPS = '111111111111';
const MEMBER = '222222222222';
const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

let n: AdminNode;
let node: AdminNode['node'];
let dataDir: string;
let caPem: string;
let auth: string[];
let masterKey: string;
let host: string;
const denied: Record<'phase' | 'scp' | 'identity' | 'iam', { requestId: string; message: string }> = {
  phase: { requestId: '', message: '' },
  iam: { requestId: '', message: '' },
  scp: { requestId: '', message: '' },
  identity: { requestId: '', message: '' },
};

const sts = (credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  new STSClient({
    endpoint: node.url,
    region: 'us-east-1',
    maxAttempts: 1,
    requestHandler: { httpsAgent: new Agent({ ca: caPem }) },
    ...(credentials ? { credentials } : {}),
  });

let planRun = '';
/** The latest allowed AssumeRoleWithWebIdentity (the plan token into net-plan, after before()). */
let allowedRequestId = '';

async function mint(phase: 'plan' | 'apply'): Promise<{ token: string; runId: string }> {
  const r = await cli(['token', 'mint', 'acme/net', '--phase', phase, '--json', ...auth]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { token: string; runId: string };
}

async function webIdentity(token: string, roleArn: string) {
  const r = await sts().send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'run',
      WebIdentityToken: token,
    }),
  );
  const c = r.Credentials;
  allowedRequestId = r.$metadata.requestId ?? '';
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
}

/** The AWS error's request id and message, for a call that must be denied. */
async function deniedBy(call: Promise<unknown>): Promise<{ requestId: string; message: string }> {
  try {
    await call;
  } catch (e) {
    const err = e as { name?: string; message?: string; $metadata?: { requestId?: string } };
    assert.equal(err.name, 'AccessDenied', err.message);
    return { requestId: err.$metadata?.requestId ?? '', message: err.message ?? '' };
  }
  assert.fail('the call was allowed');
}

/** Per-run values (request ids, times, the node's port) become placeholders. */
function stable(text: string): string {
  let out = normalise(text).replaceAll(host, '<issuer>');
  for (const [name, d] of Object.entries(denied)) out = out.replaceAll(d.requestId, `<request:${name}>`);
  return out
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, '<time>')
    .replace(/\bASIA[A-Z2-7]{16}\b/g, 'ASIA<key>')
    .replace(/^ {2}kid: \S+$/gm, '  kid: <kid>')
    .replace(/"(iat|exp)":\d+/g, '"$1":<seconds>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>')
    .replace(/\brun-[A-Za-z0-9]{16}\b/g, 'run-<id>')
    .replace(/\bws-[A-Za-z0-9]{16}\b/g, 'ws-<id>');
}

/** For tables: the same placeholders at the same width, so the columns stay aligned. */
const fixedWidth = (text: string): string =>
  text
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, '2000-01-01T00:00:00.000Z')
    .replace(
      /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g,
      '00000000-0000-0000-0000-000000000000',
    )
    .replace(/\brun-[A-Za-z0-9]{16}\b/g, 'run-XXXXXXXXXXXXXXXX');

before(async () => {
  n = await startAdminNode({
    name: 'explain-node',
    setup: join(vectors, 'server-setup.yaml'),
    organization: { name: 'acme', workspaces: ['net'] },
    // explain --message opens the encoded authorization message the denials carry.
    serveArgs: ['--denial-messages', 'encoded'],
  });
  ({ node, dataDir, caPem, auth, masterKey, host } = n);

  const { token: plan, runId } = await mint('plan');
  planRun = runId;
  const { token: apply } = await mint('apply');
  // The node picks up the setup through its change feed; retry until the role is known.
  for (let i = 0; ; i++) {
    const d = await deniedBy(
      sts().send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: role(OPS, 'net-apply'),
          RoleSessionName: 'run',
          WebIdentityToken: plan,
        }),
      ),
    ).catch((e: unknown) => {
      if (i > 40) throw e;
      return undefined;
    });
    if (d && !/role-not-found/.test(d.message)) {
      denied.phase = d;
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const applySession = await webIdentity(apply, role(OPS, 'net-apply'));
  denied.scp = await deniedBy(
    sts(applySession).send(
      new AssumeRoleCommand({ RoleArn: role(MEMBER, 'break-glass'), RoleSessionName: 'hop' }),
    ),
  );
  const planSession = await webIdentity(plan, role(OPS, 'net-plan'));
  denied.iam = await deniedBy(
    new IAMClient({
      endpoint: node.url,
      region: 'us-east-1',
      maxAttempts: 1,
      requestHandler: { httpsAgent: new Agent({ ca: caPem }) },
      credentials: planSession,
    }).send(
      new CreateRoleCommand({
        RoleName: 'made-in-plan',
        AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}',
      }),
    ),
  );
  denied.identity = await deniedBy(
    sts(planSession).send(
      new AssumeRoleCommand({ RoleArn: role(MEMBER, 'deployer'), RoleSessionName: 'hop' }),
    ),
  );
});

after(() => n?.stop());

for (const [name, file] of [
  ['phase', 'web-identity-wrong-phase'],
  ['scp', 'chain-denied-by-scp'],
  ['identity', 'chain-denied-by-identity-policy'],
  ['iam', 'iam-write-denied-in-plan'],
] as const) {
  test(`explain <request-id> of a real denial (${file}) tells the recorded story, from the server and from --data-dir alike`, async () => {
    const r = await cli(['explain', denied[name].requestId, ...auth]);
    assert.equal(r.code, 0, r.stderr);
    await golden(join(vectors, 'server', `${file}.txt`), stable(r.stdout));
    const local = await cli(['explain', denied[name].requestId, '--data-dir', dataDir], {
      GATEPASS_MASTER_KEY: masterKey,
    });
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stdout, r.stdout);
  });
}

test('explain of an allowed web identity request re-evaluates the current trust with the recorded sub and aud', async () => {
  const r = await cli(['explain', allowedRequestId, ...auth]);
  assert.equal(r.code, 0, r.stderr);
  await golden(join(vectors, 'server', 'web-identity-allowed.txt'), stable(r.stdout));
});

test('explain <request-id> of a token refused before any policy (wrong audience) names the fix; the token is not on record', async () => {
  const minted = await cli([
    'token',
    'mint',
    'acme/net',
    '--phase',
    'plan',
    '--audience',
    'sts.amazonaws.com',
    ...auth,
  ]);
  const token = minted.stdout.trim();
  let requestId = '';
  await assert.rejects(
    sts().send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: role(OPS, 'net-plan'),
        RoleSessionName: 'run',
        WebIdentityToken: token,
      }),
    ),
    (e: { name?: string; $metadata?: { requestId?: string } }) => {
      requestId = e.$metadata?.requestId ?? '';
      return e.name === 'InvalidIdentityTokenException' || e.name === 'InvalidIdentityToken';
    },
  );
  const r = await cli(['explain', requestId, ...auth]);
  assert.equal(r.code, 0, r.stderr);
  await golden(join(vectors, 'server', 'web-identity-wrong-audience.txt'), stable(r.stdout));
  const events = await cli(['audit', '--json', '--request', requestId, ...auth]);
  assert.ok(events.stdout.includes('Incorrect token audience'));
  assert.ok(!events.stdout.includes(token.split('.')[2] ?? 'x') && !events.stdout.includes(token));
});

test('explain --message opens the encoded authorization message of the AccessDenied error', async () => {
  const r = await cli(['explain', '--message', denied.scp.message, ...auth]);
  assert.equal(r.code, 0, r.stderr);
  await golden(join(vectors, 'server', 'message-chain-denied-by-scp.txt'), stable(r.stdout));
  const local = await cli(['explain', '--message', denied.scp.message, '--data-dir', dataDir], {
    GATEPASS_MASTER_KEY: masterKey,
  });
  assert.equal(local.stdout, r.stdout);
  const forged = await cli(['explain', '--message', '1.AAAA', ...auth]);
  assert.equal(forged.code, 1);
  assert.match(forged.stderr, /not an encoded authorization message/);
});

test('explain of an unknown request id fails naming it; --json carries the stored trace', async () => {
  const missing = await cli(['explain', 'no-such-request', ...auth]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no audit event for request no-such-request/);
  const nowhere = await cli(['explain', 'x', '--data-dir', join(dataDir, 'not-a-store')]);
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /no gatepass store in /);
  const json = await cli(['explain', denied.phase.requestId, '--json', ...auth]);
  const parsed = JSON.parse(json.stdout) as {
    events: { trace?: { layer: string; layers: unknown[] }; hints: string[] }[];
  };
  assert.equal(parsed.events[0]?.trace?.layer, 'resource');
  assert.match(
    parsed.events[0]?.hints[0] ?? '',
    /use the plan role \(arn:aws:iam::111111111111:role\/net-plan\)/,
  );
});

test('audit filters by decision, role, workspace and time, as a table or JSON lines; no token in it', async () => {
  const table = await cli(['audit', '--decision', 'deny', ...auth]);
  assert.equal(table.code, 0, table.stderr);
  for (const d of Object.values(denied)) assert.ok(table.stdout.includes(d.requestId), d.requestId);
  assert.match(table.stdout, /^TIME\s+REQUEST\s+ACTION\s+DECISION\s+REASON\s+ROLE\s+WHO\s+RUN/);
  const lines = await cli(['audit', '--json', '--role', role(OPS, 'net-apply'), '--since', '1h', ...auth]);
  const events = lines.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { decision: string; roleArn: string });
  assert.deepEqual([...new Set(events.map((e) => e.roleArn))], [role(OPS, 'net-apply')]);
  assert.deepEqual([...new Set(events.map((e) => e.decision))].sort(), ['allow', 'deny']);
  const byWorkspace = [
    'audit',
    '--json',
    '--workspace',
    'acme/net',
    '--action',
    'sts:AssumeRoleWithWebIdentity',
  ];
  const ws = await cli([...byWorkspace, ...auth]);
  // Both issuances and the denial: denials carry the run and workspace too.
  assert.equal(ws.stdout.trim().split('\n').length, 3, ws.stdout);
  const run = await cli(['audit', '--json', '--run', planRun, '--decision', 'deny', ...auth]);
  const runEvents = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { requestId: string });
  assert.deepEqual(
    runEvents.map((e) => e.requestId).sort(),
    [denied.phase.requestId, denied.identity.requestId, denied.iam.requestId].sort(),
  );
  const local = await cli([...byWorkspace, '--data-dir', dataDir]);
  assert.equal(local.stdout, ws.stdout);
  assert.ok(!/eyJ[\w-]+\.eyJ/.test(table.stdout + lines.stdout + ws.stdout), 'no JWT in the audit output');
  const chains = await cli(['audit', '--decision', 'deny', '--action', 'sts:AssumeRole', ...auth]);
  await golden(join(vectors, 'server', 'audit-chain-denials.txt'), fixedWidth(chains.stdout));
  const bad = await cli(['audit', '--decision', 'maybe', ...auth]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--decision: expected one of allow, deny, error, info/);
});

test('simulate on the server walks the live IAM state, changes nothing, and exits 0 only when all is allowed', async () => {
  const before = await cli(['audit', '--json', '--action', 'sts:AssumeRole', ...auth]);
  const simAuth = [
    '--server',
    node.url,
    '--token-file',
    join(dataDir, 'admin-token'),
    '--ca',
    join(dataDir, 'tls', 'ca.pem'),
  ];
  const deniedPhase = await cli([
    'simulate',
    '--as',
    'acme/net:plan',
    '--role',
    role(OPS, 'net-apply'),
    ...simAuth,
  ]);
  assert.equal(deniedPhase.code, 1, deniedPhase.stderr);
  assert.match(
    deniedPhase.stdout,
    /fix: the token's phase is plan; this role's trust pins run_phase:apply — use the plan role \(arn:aws:iam::111111111111:role\/net-plan\)/,
  );
  const scp = await cli([
    'simulate',
    '--as',
    'acme/net:apply',
    '--role',
    role(OPS, 'net-apply'),
    '--chain',
    role(MEMBER, 'break-glass'),
    ...simAuth,
  ]);
  assert.equal(scp.code, 1);
  assert.match(
    scp.stdout,
    /step 2: AssumeRole into arn:aws:iam::222222222222:role\/break-glass: DENIED \(AccessDenied\)/,
  );
  assert.match(scp.stdout, /deciding layer: service control policies \(SCPs\)/);
  const ok = await cli([
    'simulate',
    '--as',
    'acme/net:plan',
    '--role',
    role(OPS, 'net-plan'),
    '--chain',
    role(MEMBER, 'reader'),
    '--action',
    'iam:ListRoles',
    '--output',
    'json',
    ...simAuth,
  ]);
  assert.equal(ok.code, 0, ok.stdout);
  const result = JSON.parse(ok.stdout) as { allowed: boolean; steps: { assumedRoleArn?: string }[] };
  assert.equal(result.allowed, true);
  assert.equal(
    result.steps[1]?.assumedRoleArn,
    'arn:aws:sts::222222222222:assumed-role/reader/gatepass-simulate',
  );
  const tokenFile = join(dataDir, 'plan-token');
  await writeFile(tokenFile, (await mint('plan')).token, { mode: 0o600 });
  const fromFile = await cli([
    'simulate',
    '--web-identity-token-file',
    tokenFile,
    '--role',
    role(OPS, 'net-plan'),
    ...simAuth,
  ]);
  assert.equal(fromFile.code, 0, fromFile.stdout);
  // --admin-token-file, the old spelling of --token-file, is kept as a hidden alias.
  const oldFlag = await cli([
    'simulate',
    '--web-identity-token-file',
    tokenFile,
    '--role',
    role(OPS, 'net-plan'),
    ...simAuth.map((a) => (a === '--token-file' ? '--admin-token-file' : a)),
  ]);
  assert.equal(oldFlag.code, 0, oldFlag.stderr);
  const afterwards = await cli(['audit', '--json', '--action', 'sts:AssumeRole', ...auth]);
  assert.equal(afterwards.stdout, before.stdout, 'a simulation records no STS event');
});

test('lint --account reads the roles of a running node and of a data directory', async () => {
  const r = await cli(['lint', '--account', OPS, '--fail-on', 'warning', ...auth]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /^0 errors, 0 warnings/m);
  const local = await cli(['lint', '--account', OPS, '--data-dir', dataDir]);
  assert.equal(local.stdout, r.stdout);
  const unknown = await cli(['lint', '--account', '333333333333', ...auth]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /No such resource/);
});

test('the explain API wants the admin token and names bad fields', async () => {
  const get = (path: string, token?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsGet(
        `${node.url}${path}`,
        { ca: caPem, headers: token ? { authorization: `Bearer ${token}` } : {} },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
    });
  assert.equal((await get('/api/v1/audit')).status, 401);
  const admin = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const bad = await get('/api/v1/audit?since=yesterday', admin);
  assert.equal(bad.status, 400);
  assert.match(bad.body, /"field":"since"/);
  const unknown = await get('/api/v1/audit?colour=red', admin);
  assert.match(unknown.body, /"field":"colour","reason":"unknown filter"/);
});
