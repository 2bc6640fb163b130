// The delivered files and environment, consumed by the real AWS SDK for JavaScript v3 in a child
// process (as a run's command would), against a test STS on loopback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildChildEnv, type Env } from '../../src/agent/child-env.js';
import { resolveRunConfig } from '../../src/agent/config.js';
import { createRunDir, deliverFiles } from '../../src/agent/delivery.js';
import { startTestSts, type TestSts } from './helpers/sts-server.js';

const root = new URL('../..', import.meta.url).pathname;
const ROLE = 'arn:aws:iam::111122223333:role/run';
const MEMBER = 'arn:aws:iam::444455556666:role/member';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

const SCRIPT = `
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
const out = await new STSClient({}).send(new GetCallerIdentityCommand({}));
process.stdout.write(out.Arn);
`;

let sts: TestSts;
let scratch: string;
before(async () => {
  sts = await startTestSts();
  scratch = await mkdtemp(join(tmpdir(), 'gatepass-agent-sdk-'));
});
after(async () => {
  await sts.close();
  await rm(scratch, { recursive: true, force: true });
});

let bases = 0;

async function deliver(vars: Record<string, string>, tag = ''): Promise<Env> {
  const config = resolveRunConfig({
    variables: new Map(Object.entries(vars)),
    phase: 'plan',
    runId: 'run-sdk1',
    stsEndpoint: sts.url,
  });
  const dir = await createRunDir(join(scratch, `runs-${bases++}`), 'run-sdk1');
  const tokens = new Map(config.aws.map((a) => [a.tag, JWT]));
  const d = await deliverFiles(dir, config, tokens);
  const env = buildChildEnv({
    parent: {
      PATH: process.env.PATH,
      HOME: scratch,
      AWS_ACCESS_KEY_ID: 'AKIAWRONG',
      AWS_SECRET_ACCESS_KEY: 'wrong',
    },
    workspace: new Map(),
    config,
    defaultConfigFile: d.defaultConfigFile,
    credentialsFile: d.credentialsFile,
    delivered: d.configs,
    genericTokens: new Map(),
    runId: 'run-sdk1',
  });
  const alias = d.configs.find((c) => c.tag === tag);
  if (tag !== '' && alias) env.AWS_CONFIG_FILE = alias.configFile;
  return env;
}

// Asynchronous: the test STS lives in this process's event loop.
async function sdkCallerArn(env: Env): Promise<string> {
  const r = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    cwd: root,
    env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return r.stdout;
}

test('JS SDK: the default configuration reaches its role through the web identity variables', async () => {
  const env = await deliver({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const before = sts.calls.length;
  assert.equal(await sdkCallerArn(env), 'arn:aws:sts::111122223333:assumed-role/run/gatepass-run-sdk1-plan');
  const web = sts.calls.slice(before).find((c) => c.action === 'AssumeRoleWithWebIdentity');
  assert.equal(web?.params.WebIdentityToken, JWT);
  assert.equal(web?.params.RoleSessionName, 'gatepass-run-sdk1-plan');
});

test('JS SDK: a chained default configuration walks web identity → member from the config file alone', async () => {
  const env = await deliver({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: ROLE,
    GATEPASS_AWS_CHAIN_ROLE_ARN: MEMBER,
  });
  // Only the services section of the shared config names the endpoint.
  delete env.AWS_ENDPOINT_URL_STS;
  delete env.AWS_ENDPOINT_URL_IAM;
  const before = sts.calls.length;
  assert.equal(
    await sdkCallerArn(env),
    'arn:aws:sts::444455556666:assumed-role/member/gatepass-run-sdk1-plan',
  );
  assert.deepEqual(
    sts.calls.slice(before).map((c) => [c.action, c.params.RoleArn ?? '', c.caller ?? '']),
    [
      ['AssumeRoleWithWebIdentity', ROLE, ''],
      ['AssumeRole', MEMBER, ROLE],
      ['GetCallerIdentity', '', MEMBER],
    ],
  );
});

test('JS SDK: an alias file (as tfc_aws_dynamic_credentials hands it to a provider) selects its own role', async () => {
  const env = await deliver(
    {
      TFC_AWS_PROVIDER_AUTH: 'true',
      TFC_AWS_RUN_ROLE_ARN: ROLE,
      TFC_AWS_PROVIDER_AUTH_member: 'true',
      TFC_AWS_RUN_ROLE_ARN_member: ROLE,
      GATEPASS_AWS_CHAIN_ROLE_ARN_member: MEMBER,
    },
    'member',
  );
  // With aliases the agent sets no web identity variables, so only the file decides.
  assert.equal(env.AWS_ROLE_ARN, undefined);
  assert.equal(
    await sdkCallerArn(env),
    'arn:aws:sts::444455556666:assumed-role/member/gatepass-run-sdk1-plan',
  );
});
