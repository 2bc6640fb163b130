// End to end over loopback: one gatepass node serving the issuer (HTTPS with its local CA) and the
// cloud side (STS/IAM), set up like an operator would; `gatepass run` phases whose commands use
// unmodified AWS clients (the JS SDK, and aws-cli v2 where installed). Proves plan/apply roles, an
// alias chained into a member account, the plan phase denied writes, and every credential of the
// run rejected once the run has ended. The clients' own CA bundles lack the node's CA: they trust it
// because the agent does.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AgentOptions, type AgentOutcome, runAgent } from '../../src/agent/run.js';
import { StsClient, StsError } from '../../src/agent/sts-client.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { type AgentNode, startAgentNode } from './helpers/node.js';

const root = new URL('../..', import.meta.url).pathname;
const AWS_CLI = '/usr/bin/aws';

let node: AgentNode;
let dataDir: string;
let caPem: string;
let url: string;
let hub: string;
let member: string;
let security: string;

let userBundle: string;

before(async () => {
  node = await startAgentNode();
  ({ dataDir, caPem, url, hub, member, security } = node);
  userBundle = join(dataDir, 'user-bundle.pem');
  await writeFile(userBundle, rootCertificates.join('\n'));
});

after(() => node?.stop());

/** The run's command: JS SDK calls through the default profile and the member alias file. */
const JS_CHILD = `
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { IAMClient, CreateRoleCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { fromIni } from '@aws-sdk/credential-providers';
import { writeFileSync } from 'node:fs';
const dyn = JSON.parse(process.env.TF_VAR_tfc_aws_dynamic_credentials);
const memberCreds = fromIni({ configFilepath: dyn.aliases.member.shared_config_file, filepath: process.env.AWS_SHARED_CREDENTIALS_FILE });
const securityCreds = fromIni({ configFilepath: dyn.aliases.security.shared_config_file, filepath: process.env.AWS_SHARED_CREDENTIALS_FILE });
const out = {};
out.defaultArn = (await new STSClient({}).send(new GetCallerIdentityCommand({}))).Arn;
out.memberArn = (await new STSClient({ credentials: memberCreds }).send(new GetCallerIdentityCommand({}))).Arn;
out.securityArn = (await new STSClient({ credentials: securityCreds }).send(new GetCallerIdentityCommand({}))).Arn;
const name = 'made-by-' + process.env.GATEPASS_RUN_PHASE + '-' + Date.now();
try {
  await new IAMClient({}).send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }));
  out.create = 'ok';
} catch (e) { out.create = e.name; }
out.memberList = (await new IAMClient({ credentials: memberCreds }).send(new ListRolesCommand({}))).Roles.map((r) => r.RoleName);
const c = await new STSClient({}).config.credentials();
const m = await memberCreds();
const sec = await securityCreds();
out.keys = [c, m, sec].map((k) => ({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, sessionToken: k.sessionToken }));
const { readFileSync, readdirSync } = await import('node:fs');
const { dirname, join } = await import('node:path');
const dir = dirname(process.env.AWS_CONFIG_FILE);
const texts = [...Object.values(process.env), ...readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'))];
out.tokenSeen = texts.some((t) => /eyJ[w-]+.[w-]+.[w-]+/.test(t));
writeFileSync(process.argv[1], JSON.stringify(out));
`;

interface ChildReport {
  defaultArn: string;
  memberArn: string;
  securityArn: string;
  create: string;
  memberList: string[];
  keys: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
  tokenSeen: boolean;
}

async function phase(
  p: 'plan' | 'apply',
  command: string[],
  runId?: string,
  extraEnv: Record<string, string> = {},
): Promise<{ outcome: AgentOutcome; log: string[] }> {
  const log: string[] = [];
  const options: AgentOptions = {
    organization: 'acme',
    workspace: 'networking',
    phase: p,
    ...(runId !== undefined ? { runId } : {}),
    issuerUrl: url,
    agentToken: node.agentToken,
    refresh: false,
    keepFiles: false,
    command,
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      // The user's own CA bundles, which do not hold the node's CA: the clients trust it all the same,
      // because the agent was given it (http.ca, as --ca does).
      AWS_CA_BUNDLE: userBundle,
      NODE_EXTRA_CA_CERTS: userBundle,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_PAGER: '',
      ...extraEnv,
    },
    cwd: root,
    log: { info: (m) => log.push(m), warn: (m) => log.push(`warn ${m}`) },
    clock: systemClock,
    random: cryptoRandom,
    interactive: false,
    runDirBase: join(dataDir, 'runs'),
    http: { ca: [caPem] },
  };
  return { outcome: await runAgent(options), log };
}

test('plan then apply: phase roles, two aliases chained into two member accounts, plan denied writes, all revoked at the end', async () => {
  const planOut = join(dataDir, 'plan.json');
  const plan = await phase('plan', [process.execPath, '--input-type=module', '-e', JS_CHILD, planOut]);
  assert.equal(plan.outcome.exitCode, 0, plan.log.join('\n'));
  const runId = plan.outcome.runId ?? '';
  const p = JSON.parse(await readFile(planOut, 'utf8')) as ChildReport;
  assert.equal(p.defaultArn, `arn:aws:sts::${hub}:assumed-role/gp-plan/gatepass-${runId}-plan`);
  assert.equal(p.memberArn, `arn:aws:sts::${member}:assumed-role/reader/gatepass-${runId}-plan`);
  assert.equal(p.securityArn, `arn:aws:sts::${security}:assumed-role/reader/gatepass-${runId}-plan`);
  assert.equal(p.create, 'AccessDenied');
  assert.ok(p.memberList.includes('deployer'));
  assert.equal(p.tokenSeen, false, 'the command never holds the token');
  assert.equal(plan.outcome.revoked, true, 'the plan phase is revoked; the run stays open for its apply');

  const applyOut = join(dataDir, 'apply.json');
  const apply = await phase(
    'apply',
    [process.execPath, '--input-type=module', '-e', JS_CHILD, applyOut],
    runId,
  );
  assert.equal(apply.outcome.exitCode, 0, apply.log.join('\n'));
  assert.equal(apply.outcome.status, 'succeeded');
  assert.equal(apply.outcome.revoked, true, apply.log.join('\n'));
  const a = JSON.parse(await readFile(applyOut, 'utf8')) as ChildReport;
  assert.equal(a.defaultArn, `arn:aws:sts::${hub}:assumed-role/gp-apply/gatepass-${runId}-apply`);
  assert.equal(a.memberArn, `arn:aws:sts::${member}:assumed-role/deployer/gatepass-${runId}-apply`);
  assert.equal(a.securityArn, `arn:aws:sts::${security}:assumed-role/deployer/gatepass-${runId}-apply`);
  assert.equal(a.create, 'ok');
  assert.equal(a.tokenSeen, false);

  // After the run: every session of the run (both phases, chained ones too) and its tokens are dead.
  await node.cloud.sync();
  for (const keys of [...p.keys, ...a.keys]) {
    const sts = new STSClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: keys,
      maxAttempts: 1,
      requestHandler: { httpsAgent: new Agent({ ca: caPem }) },
    });
    await assert.rejects(sts.send(new GetCallerIdentityCommand({})), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.notEqual(e.name, 'TypeError');
      return true;
    });
  }
});

test('a successful plan-only run: its captured credentials (chained ones too) and its token are refused as soon as gatepass run returns', async (t) => {
  const out = join(dataDir, 'plan-only.json');
  // The command never holds the run's token, so it stands in for whoever captured one: it mints
  // another token of the same run and phase (as the agent could) while the phase is open. The child
  // notes when it exits, so the delay from its exit to the refusal is measured.
  const child = `${JS_CHILD}
const minted = await fetch(process.env.TEST_ISSUER + '/api/v1/runs/' + process.env.GATEPASS_RUN_ID + '/tokens', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + process.env.TEST_AGENT_TOKEN, 'content-type': 'application/json' },
  body: JSON.stringify({ phase: 'plan', tag: '', audience: 'aws.workload.identity' }),
});
const report = JSON.parse(readFileSync(process.argv[1], 'utf8'));
report.token = (await minted.json()).token;
writeFileSync(process.argv[1], JSON.stringify(report));
writeFileSync(process.argv[1] + '.exit', String(Date.now()));`;
  const plan = await phase('plan', [process.execPath, '--input-type=module', '-e', child, out], undefined, {
    TEST_ISSUER: url,
    TEST_AGENT_TOKEN: node.agentToken,
  });
  const returned = Date.now();
  assert.equal(plan.outcome.status, 'succeeded', plan.log.join('\n'));
  assert.equal(plan.outcome.revoked, true, plan.log.join('\n'));
  assert.ok(plan.log.some((l) => l.includes('plan phase revoked at the STS')));
  const p = JSON.parse(await readFile(out, 'utf8')) as ChildReport & { token: string };
  assert.match(p.token, /^eyJ/, 'the stand-in for a captured token was minted');
  // No sync, no waiting: the agent returned only once the node had applied the revocation.
  const codes: string[] = [];
  for (const keys of p.keys) {
    const sts = new STSClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: keys,
      maxAttempts: 1,
      requestHandler: { httpsAgent: new Agent({ ca: caPem }) },
    });
    codes.push(
      await sts.send(new GetCallerIdentityCommand({})).then(
        () => 'ok',
        (e: Error) => e.name,
      ),
    );
  }
  const refusedAt = Date.now();
  assert.deepEqual(codes, ['InvalidClientTokenId', 'InvalidClientTokenId', 'InvalidClientTokenId']);
  const ours = new StsClient({
    endpoint: url,
    region: 'us-east-1',
    clock: systemClock,
    http: { ca: [caPem] },
  });
  await assert.rejects(
    ours.assumeRoleWithWebIdentity({
      roleArn: `arn:aws:iam::${hub}:role/gp-plan`,
      roleSessionName: 'after',
      webIdentityToken: p.token,
    }),
    (e: unknown) => e instanceof StsError && e.code === 'IDPRejectedClaim',
  );
  // The run itself stays open for an apply: only the plan phase ended.
  const exited = Number(await readFile(`${out}.exit`, 'utf8'));
  t.diagnostic(
    `plan-only: child exit → agent returned ${returned - exited} ms, → three sessions refused ${refusedAt - exited} ms`,
  );
});

// Debian's aws-cli v2 (2.9) predates service-specific endpoints (2.13): it takes the credentials the
// agent serves (credential_process) and needs only --endpoint-url for its own call.
test('aws-cli v2 (Debian 2.9) as the command, on served credentials', async () => {
  assert.ok(existsSync(AWS_CLI), 'Debian awscli (v2) is installed by .ci/run');
  const out = join(dataDir, 'cli.json');
  const script = `const { execFileSync } = require('child_process');
const args = ['sts', 'get-caller-identity', '--output', 'json', '--endpoint-url', process.env.AWS_ENDPOINT_URL_STS];
require('fs').writeFileSync(process.argv[1], execFileSync('${AWS_CLI}', args));`;
  const r = await phase('plan', [process.execPath, '-e', script, out]);
  assert.equal(r.outcome.exitCode, 0, r.log.join('\n'));
  const who = JSON.parse(await readFile(out, 'utf8')) as { Arn: string };
  assert.equal(who.Arn, `arn:aws:sts::${hub}:assumed-role/gp-plan/gatepass-${r.outcome.runId}-plan`);
});

const PYTHON = process.env.GATEPASS_TEST_PYTHON ?? 'python3';
const hasBoto3 = (() => {
  try {
    return (
      execFileSync(PYTHON, ['-c', 'import boto3; print(boto3.__version__)'], { encoding: 'utf8' }).length > 0
    );
  } catch {
    return false;
  }
})();

test('boto3 as the command: the default profile and the member alias file, endpoints from the config', async () => {
  assert.ok(hasBoto3, `boto3 importable by ${PYTHON} (Debian python3-boto3 is installed by .ci/run)`);
  const out = join(dataDir, 'boto3.json');
  const py = [
    'import boto3, json, os, sys',
    "dyn = json.loads(os.environ['TF_VAR_tfc_aws_dynamic_credentials'])",
    "default = boto3.client('sts').get_caller_identity()['Arn']",
    "os.environ['AWS_CONFIG_FILE'] = dyn['aliases']['member']['shared_config_file']",
    "member = boto3.session.Session().client('sts').get_caller_identity()['Arn']",
    "open(sys.argv[1], 'w').write(json.dumps({'default': default, 'member': member}))",
  ].join('\n');
  const r = await phase('plan', [PYTHON, '-c', py, out]);
  assert.equal(r.outcome.exitCode, 0, r.log.join('\n'));
  const who = JSON.parse(await readFile(out, 'utf8')) as { default: string; member: string };
  assert.equal(who.default, `arn:aws:sts::${hub}:assumed-role/gp-plan/gatepass-${r.outcome.runId}-plan`);
  assert.equal(who.member, `arn:aws:sts::${member}:assumed-role/reader/gatepass-${r.outcome.runId}-plan`);
});

test('the allowed-account guard resolves the member alias through the real STS before the command', async () => {
  const r = await phase('plan', [process.execPath, '-e', '']);
  assert.equal(r.outcome.exitCode, 0, r.log.join('\n'));
  assert.ok(r.log.some((l) => l.includes(`→ arn:aws:iam::${member}:role/reader`)));
});
