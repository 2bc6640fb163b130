// Unmodified AWS clients against a running gatepass node: aws-cli v2 (Debian) and v1 (pyenv), boto3
// from Debian and from pyenv, the AWS SDK for Go v2 (Debian). Only the endpoint is changed;
// credentials come from the environment or a token, as they would in a run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { runChild } from '../helpers/child.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';

const ORG_SUB = 'organization:acme:project:Infra:workspace:networking:run_phase';
let fx: CloudFixture;
let host: string;
let memberId: string;

function pyenvBin(name: string): string {
  const out = spawnSync('pyenv', ['which', name], { encoding: 'utf8' });
  assert.equal(out.status, 0, `pyenv has no ${name}: ${out.stderr}`);
  return out.stdout.trim();
}

/** Run an aws-cli, with credentials only in the environment. Returns exit status, JSON and stderr. */
async function aws(
  bin: string,
  args: string[],
  keys?: Keys,
): Promise<{ status: number; json: Record<string, unknown>; stderr: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: fx.dataDir,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '1',
  };
  if (keys) {
    env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
    if (keys.sessionToken) env.AWS_SESSION_TOKEN = keys.sessionToken;
  }
  const r = await runChild(bin, ['--endpoint-url', fx.url, '--output', 'json', ...args], { env });
  let json: Record<string, unknown> = {};
  if (r.status === 0 && r.stdout.trim()) json = JSON.parse(r.stdout) as Record<string, unknown>;
  return { status: r.status, json, stderr: r.stderr };
}

const token = (phase: string) =>
  fx.idp.sign(fx.idp.claims({ sub: `${ORG_SUB}:${phase}`, terraform_run_id: 'run-clients' }));
const roleArn = () => `arn:aws:iam::${fx.accountId}:role/tfc-plan`;
/** aws-cli arguments for AssumeRoleWithWebIdentity into the plan role. */
const webIdentityArgs = (sessionName: string, webToken: string): string[] => [
  'sts',
  'assume-role-with-web-identity',
  '--role-arn',
  roleArn(),
  '--role-session-name',
  sessionName,
  '--web-identity-token',
  webToken,
];

before(async () => {
  fx = await startCloud();
  host = fx.idp.issuer.replace(/^https:\/\//, '');
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${fx.accountId}:oidc-provider/${host}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${host}:aud`]: 'aws.workload.identity', [`${host}:sub`]: `${ORG_SUB}:plan` },
        },
      },
    ],
  });
  const v2 = '/usr/bin/aws';
  // The administrator sets everything up with aws-cli v2, as an operator would.
  const steps: string[][] = [
    [
      'iam',
      'create-open-id-connect-provider',
      '--url',
      fx.idp.issuer,
      '--client-id-list',
      'aws.workload.identity',
      '--thumbprint-list',
      fx.pki.caThumbprint,
    ],
    [
      'iam',
      'create-role',
      '--role-name',
      'tfc-plan',
      '--assume-role-policy-document',
      trust,
      '--max-session-duration',
      '7200',
    ],
    [
      'iam',
      'put-role-policy',
      '--role-name',
      'tfc-plan',
      '--policy-name',
      'read-and-chain',
      '--policy-document',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
          { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/terraform-plan' },
        ],
      }),
    ],
  ];
  for (const step of steps) {
    const r = await aws(v2, step, fx.admin);
    assert.equal(r.status, 0, `${step.slice(0, 2).join(' ')}: ${r.stderr}`);
  }
  const spec = parseSetup(
    [
      'accounts:',
      '  - name: hub',
      `    id: "${fx.accountId}"`,
      '  - name: member',
      '    roles:',
      '      - name: terraform-plan',
      '        trustPolicy:',
      '          Version: "2012-10-17"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file placeholder syntax, not a template.
      '          Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: { AWS: "arn:aws:iam::${account:hub}:role/tfc-plan" } }]',
    ].join('\n'),
    'member.yaml',
  );
  const applied = await applySetup(
    fx.app.store,
    spec,
    { random: cryptoRandom, clock: systemClock },
    { file: 'member.yaml' },
  );
  memberId = applied.accounts.find((a) => a.name === 'member')?.id ?? '';
  await fx.cloud.sync();
});

after(() => fx?.stop());

const CLIS = [
  ['aws-cli v2 (Debian)', () => '/usr/bin/aws'],
  ['aws-cli v1 (pyenv)', () => pyenvBin('aws')],
] as const;

test('aws-cli v2 (Debian) and v1 (pyenv) are installed', () => {
  assert.ok(existsSync('/usr/bin/aws'), 'Debian awscli (v2) is installed by .ci/run');
  assert.ok(pyenvBin('aws'));
});

for (const [label, bin] of CLIS) {
  test(`${label}: reads back the provider and role, assumes the role with a token, and names the caller`, async () => {
    const cli = bin();
    const role = await aws(cli, ['iam', 'get-role', '--role-name', 'tfc-plan'], fx.admin);
    assert.equal(role.status, 0, role.stderr);
    assert.equal((role.json.Role as { Arn: string }).Arn, roleArn());
    const providers = await aws(cli, ['iam', 'list-open-id-connect-providers'], fx.admin);
    assert.deepEqual(providers.json.OpenIDConnectProviderList, [
      { Arn: `arn:aws:iam::${fx.accountId}:oidc-provider/${host}` },
    ]);

    const assumed = await aws(cli, webIdentityArgs('cli', await token('plan')));
    assert.equal(assumed.status, 0, assumed.stderr);
    const c = assumed.json.Credentials as {
      AccessKeyId: string;
      SecretAccessKey: string;
      SessionToken: string;
    };
    const who = await aws(cli, ['sts', 'get-caller-identity'], {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    });
    assert.equal(who.status, 0, who.stderr);
    assert.equal(who.json.Arn, `arn:aws:sts::${fx.accountId}:assumed-role/tfc-plan/cli`);
  });

  test(`${label}: errors come back with AWS codes (NoSuchEntity, EntityAlreadyExists, AccessDenied, ValidationError)`, async () => {
    const cli = bin();
    const missing = await aws(cli, ['iam', 'get-role', '--role-name', 'nope'], fx.admin);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /NoSuchEntity/);
    const dup = await aws(
      cli,
      [
        'iam',
        'create-open-id-connect-provider',
        '--url',
        fx.idp.issuer,
        '--client-id-list',
        'x',
        '--thumbprint-list',
        fx.pki.caThumbprint,
      ],
      fx.admin,
    );
    assert.match(dup.stderr, /EntityAlreadyExists/);
    const denied = await aws(cli, webIdentityArgs('cli', await token('apply')));
    assert.match(denied.stderr, /AccessDenied/);
    const invalid = await aws(cli, webIdentityArgs('has space', await token('plan')));
    assert.match(invalid.stderr, /ValidationError/);
  });

  test(`${label}: get-caller-identity with the bootstrap administrator`, async () => {
    const r = await aws(bin(), ['sts', 'get-caller-identity'], fx.admin);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.json.Arn, `arn:aws:iam::${fx.accountId}:user/gatepass-admin`);
  });
}

/** What each client's run flow (boto3_flow.py, go_flow) gets back on its refusals: AWS's codes and statuses. */
const FLOW_REFUSALS = {
  wrongPhase: ['AccessDenied', 403],
  badToken: ['InvalidIdentityToken', 400],
  badSessionName: ['ValidationError', 400],
  chainTooLong: ['ValidationError', 400],
  writeDenied: ['AccessDenied', 403],
  noSuchRole: ['NoSuchEntity', 404],
};

for (const [label, python] of [
  ['Debian python3-boto3', '/usr/bin/python3'],
  ['pyenv boto3', 'pyenv'],
] as const) {
  test(`${label}: web identity, caller identity, chaining into a member account, and refusals`, async () => {
    const bin = python === 'pyenv' ? pyenvBin('python3') : python;
    const job = {
      endpoint: fx.url,
      roleArn: roleArn(),
      roleName: 'tfc-plan',
      memberRoleArn: `arn:aws:iam::${memberId}:role/terraform-plan`,
      token: await token('plan'),
      applyToken: await token('apply'),
    };
    const out = await runChild(bin, ['test/cloud/clients/boto3_flow.py'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: fx.dataDir,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      },
      input: JSON.stringify(job),
    });
    assert.equal(out.status, 0, out.stderr);
    const r = JSON.parse(out.stdout) as Record<string, unknown>;
    assert.equal(r.accessKeyPrefix, 'ASIA');
    assert.equal(r.assumedRoleArn, `arn:aws:sts::${fx.accountId}:assumed-role/tfc-plan/boto3`);
    assert.equal(r.callerArn, r.assumedRoleArn);
    assert.equal(r.expirationType, 'datetime');
    assert.equal(r.chainedArn, `arn:aws:sts::${memberId}:assumed-role/terraform-plan/boto3-chain`);
    assert.equal(r.iamRoleName, 'tfc-plan');
    assert.deepEqual(r.errors, FLOW_REFUSALS);
  });
}

// Debian's Go and its packaged SDK (golang-go, golang-github-aws-aws-sdk-go-v2-dev), built in GOPATH
// mode: no module download, which this network does not allow.
const GOPATH = '/usr/share/gocode';

test('AWS SDK for Go v2 (Debian): web identity from the default chain, caller identity, chaining into a member account, and refusals', async () => {
  assert.ok(
    existsSync(`${GOPATH}/src/github.com/aws/aws-sdk-go-v2/service/sts`),
    'Debian golang-go and golang-github-aws-aws-sdk-go-v2-dev are installed by .ci/run',
  );
  const goEnv = {
    PATH: process.env.PATH ?? '',
    HOME: fx.dataDir,
    GO111MODULE: 'off',
    GOPATH,
    GOFLAGS: '',
    GOCACHE: join(tmpdir(), 'gatepass-test-gocache'),
  };
  const bin = join(fx.dataDir, 'go_flow');
  const built = await runChild('go', ['build', '-o', bin, '.'], {
    env: goEnv,
    cwd: 'test/cloud/clients/go_flow',
  });
  assert.equal(built.status, 0, built.stderr);
  const tokenFile = join(fx.dataDir, 'go-token');
  writeFileSync(tokenFile, await token('plan'), { mode: 0o600 });
  const out = await runChild(bin, [], {
    env: {
      HOME: fx.dataDir,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ROLE_ARN: roleArn(),
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_SESSION_NAME: 'go',
    },
    input: JSON.stringify({
      endpoint: fx.url,
      roleArn: roleArn(),
      roleName: 'tfc-plan',
      memberRoleArn: `arn:aws:iam::${memberId}:role/terraform-plan`,
      applyToken: await token('apply'),
    }),
  });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout) as Record<string, unknown>;
  assert.equal(r.accessKeyPrefix, 'ASIA');
  assert.equal(r.canExpire, true);
  assert.equal(r.sessionTokenSet, true);
  assert.equal(r.callerArn, `arn:aws:sts::${fx.accountId}:assumed-role/tfc-plan/go`);
  assert.equal(r.account, fx.accountId);
  assert.equal(r.chainedArn, `arn:aws:sts::${memberId}:assumed-role/terraform-plan/go-chain`);
  assert.equal(r.iamRoleName, 'tfc-plan');
  assert.deepEqual(r.errors, FLOW_REFUSALS);
});
