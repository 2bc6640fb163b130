// Every STS error path a correct client can reach, through three unmodified clients: the AWS SDK
// for JavaScript v3, aws-cli v2 (Debian, /usr/bin/aws) and boto3 (Debian python3-boto3 through
// /usr/bin/python3). One table of cases; each client must report AWS's error code (and, where the
// client exposes it, the HTTP status). Errors only a broken signer can cause (IncompleteSignature,
// InvalidAction, tampering) are in sts-golden and sts-attacks.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  DecodeAuthorizationMessageCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { isolatedAwsEnv, tweak } from '../helpers/aws.js';
import { runChild } from '../helpers/child.js';
import type { Keys } from '../helpers/cloud.js';
import { pick, type StsWorld, startStsWorld } from './sts-world.js';

type Op = 'AssumeRoleWithWebIdentity' | 'AssumeRole' | 'GetCallerIdentity' | 'DecodeAuthorizationMessage';
interface Case {
  name: string;
  op: Op;
  params: Record<string, unknown>;
  creds: Keys | 'unsigned';
  code: string;
  status: number;
}

let w: StsWorld;
let cases: Case[];
const AWS_CLI = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';

before(async () => {
  w = await startStsWorld();
  const now = Math.floor(Date.now() / 1000);
  const web = async (claims: Record<string, unknown>, extra: Record<string, unknown> = {}, role = 'web') => ({
    RoleArn: w.roleArn(role),
    RoleSessionName: 'client',
    WebIdentityToken: await w.token(claims, role === 'web-untrusted' ? w.untrusted : w.idp),
    ...extra,
  });
  await w.post({
    Action: 'RevokeRun',
    Version: '2011-06-15',
    WebIdentityToken: await w.token({ terraform_run_id: 'run-client-ended' }),
  });
  const session = await w.session();
  const expired = await w.expiredSession();
  const denied = await w.webIdentity(
    {},
    { sub: 'organization:acme:project:Infra:workspace:networking:run_phase:apply' },
  );
  const encoded =
    /Encoded authorization failure message: (\S+)/.exec(pick(denied.body, 'Message'))?.[1] ?? '';
  const bigTags = Array.from({ length: 10 }, (_, i) => ({
    Key: `k${i}`.padEnd(128, 'k'),
    Value: 'v'.repeat(256),
  }));
  const admin = w.fx.admin;
  cases = [
    {
      name: 'wrong audience',
      op: 'AssumeRoleWithWebIdentity',
      params: await web({ aud: 'sts.amazonaws.com' }),
      creds: 'unsigned',
      code: 'InvalidIdentityToken',
      status: 400,
    },
    {
      name: 'expired token',
      op: 'AssumeRoleWithWebIdentity',
      params: await web({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
      creds: 'unsigned',
      code: 'ExpiredTokenException',
      status: 400,
    },
    {
      name: 'ended run',
      op: 'AssumeRoleWithWebIdentity',
      params: await web({ terraform_run_id: 'run-client-ended' }),
      creds: 'unsigned',
      code: 'IDPRejectedClaim',
      status: 403,
    },
    {
      name: 'untrusted IdP certificate',
      op: 'AssumeRoleWithWebIdentity',
      params: await web({}, {}, 'web-untrusted'),
      creds: 'unsigned',
      code: 'IDPCommunicationError',
      status: 400,
    },
    {
      name: 'trust denies the subject',
      op: 'AssumeRoleWithWebIdentity',
      params: await web({ sub: 'organization:acme:project:Infra:workspace:networking:run_phase:apply' }),
      creds: 'unsigned',
      code: 'AccessDenied',
      status: 403,
    },
    {
      name: 'bad session name',
      op: 'AssumeRoleWithWebIdentity',
      params: await web({}, { RoleSessionName: 'has space' }),
      creds: 'unsigned',
      code: 'ValidationError',
      status: 400,
    },
    {
      name: 'malformed session policy',
      op: 'AssumeRoleWithWebIdentity',
      params: await web({}, { Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}' }),
      creds: 'unsigned',
      code: 'MalformedPolicyDocument',
      status: 400,
    },
    {
      name: 'session tags too large',
      op: 'AssumeRole',
      params: { RoleArn: w.roleArn('tagged'), RoleSessionName: 'big', Tags: bigTags },
      creds: admin,
      code: 'PackedPolicyTooLarge',
      status: 400,
    },
    {
      name: 'chaining beyond one hour',
      op: 'AssumeRole',
      params: { RoleArn: w.roleArn('target', w.memberId), RoleSessionName: 'long', DurationSeconds: 7200 },
      creds: session,
      code: 'ValidationError',
      status: 400,
    },
    {
      name: 'unknown access key',
      op: 'GetCallerIdentity',
      params: {},
      creds: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) },
      code: 'InvalidClientTokenId',
      status: 403,
    },
    {
      name: 'wrong secret',
      op: 'GetCallerIdentity',
      params: {},
      creds: { ...admin, secretAccessKey: tweak(admin.secretAccessKey) },
      code: 'SignatureDoesNotMatch',
      status: 403,
    },
    {
      name: 'expired session',
      op: 'GetCallerIdentity',
      params: {},
      creds: expired,
      code: 'ExpiredToken',
      status: 400,
    },
    {
      name: 'unsigned signed action',
      op: 'GetCallerIdentity',
      params: {},
      creds: 'unsigned',
      code: 'MissingAuthenticationToken',
      status: 403,
    },
    {
      name: 'decode without permission',
      op: 'DecodeAuthorizationMessage',
      params: { EncodedMessage: encoded },
      creds: session,
      code: 'AccessDenied',
      status: 403,
    },
    {
      name: 'decode a forged message',
      op: 'DecodeAuthorizationMessage',
      params: { EncodedMessage: `${encoded}x` },
      creds: admin,
      code: 'InvalidAuthorizationMessageException',
      status: 400,
    },
  ];
});
after(() => w?.stop());

function sdkCommand(c: Case) {
  const p = c.params as never;
  switch (c.op) {
    case 'AssumeRoleWithWebIdentity':
      return new AssumeRoleWithWebIdentityCommand(p);
    case 'AssumeRole':
      return new AssumeRoleCommand(p);
    case 'GetCallerIdentity':
      return new GetCallerIdentityCommand(p);
    case 'DecodeAuthorizationMessage':
      return new DecodeAuthorizationMessageCommand(p);
  }
}

test('JS SDK v3: every reachable STS error path reports AWS code and status', async () => {
  const seen: Record<string, [string, number | undefined]> = {};
  for (const c of cases) {
    const client = new STSClient({
      endpoint: w.fx.url,
      region: 'us-east-1',
      maxAttempts: 1,
      ...(c.creds === 'unsigned'
        ? {
            credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
            signer: { sign: async (r: unknown) => r } as never,
          }
        : { credentials: c.creds }),
    });
    try {
      await client.send(sdkCommand(c) as never);
      seen[c.name] = ['ok', 200];
    } catch (err) {
      const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
      // Modelled errors surface as their class (`<Code>Exception`), others by code.
      const code = (e.name ?? '').replace(/Exception$/, '');
      seen[c.name] = [c.code.endsWith('Exception') ? (e.name ?? '') : code, e.$metadata?.httpStatusCode];
    }
  }
  assert.deepEqual(seen, Object.fromEntries(cases.map((c) => [c.name, [c.code, c.status]])));
});

const cliName: Record<Op, string> = {
  AssumeRoleWithWebIdentity: 'assume-role-with-web-identity',
  AssumeRole: 'assume-role',
  GetCallerIdentity: 'get-caller-identity',
  DecodeAuthorizationMessage: 'decode-authorization-message',
};

test('aws-cli v2 (Debian): every reachable STS error path reports the AWS code', async () => {
  assert.ok(existsSync(AWS_CLI), 'Debian awscli (v2) is installed by .ci/run');
  const seen: Record<string, string> = {};
  for (const c of cases) {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: w.fx.dataDir,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_MAX_ATTEMPTS: '1',
    };
    const args = [
      'sts',
      cliName[c.op],
      '--endpoint-url',
      w.fx.url,
      '--cli-input-json',
      JSON.stringify(c.params),
    ];
    if (c.creds === 'unsigned') args.push('--no-sign-request');
    else {
      env.AWS_ACCESS_KEY_ID = c.creds.accessKeyId;
      env.AWS_SECRET_ACCESS_KEY = c.creds.secretAccessKey;
      if (c.creds.sessionToken) env.AWS_SESSION_TOKEN = c.creds.sessionToken;
    }
    const r = await runChild(AWS_CLI, args, { env });
    seen[c.name] =
      r.status === 0 ? 'ok' : (/An error occurred \((\w+)\)/.exec(r.stderr)?.[1] ?? r.stderr.slice(0, 200));
  }
  assert.deepEqual(seen, Object.fromEntries(cases.map((c) => [c.name, c.code])));
});

test('boto3 (Debian python3-boto3): every reachable STS error path reports AWS code and status', async () => {
  assert.ok(existsSync(PYTHON));
  const r = await runChild(PYTHON, ['test/cloud/clients/sts_errors.py'], {
    env: isolatedAwsEnv(w.fx.dataDir),
    input: JSON.stringify({ endpoint: w.fx.url, cases }),
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), Object.fromEntries(cases.map((c) => [c.name, [c.code, c.status]])));
});
