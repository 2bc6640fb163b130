// STS and IAM against a running gatepass node with the AWS SDK for JavaScript v3: an administrator
// sets up a provider and roles, a run's token becomes credentials (AssumeRoleWithWebIdentity, also
// through fromTokenFile), the session chains into a second account, and every refusal carries AWS's
// error code. Real HTTP on loopback, real SigV4, a real HTTPS identity provider.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { fromTemporaryCredentials, fromTokenFile } from '@aws-sdk/credential-providers';
import { runRevocationRecord } from '../../src/cloud/sessions/revocations.js';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { rejectsCode, tweak } from '../helpers/aws.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;
let tmp: string;
let host: string;
const ORG_SUB = 'organization:acme:project:Infra:workspace:networking:run_phase';

const sts = (credentials?: Keys) =>
  new STSClient({
    endpoint: fx.url,
    region: 'us-east-1',
    ...(credentials ? { credentials } : {}),
    maxAttempts: 1,
  });
const iam = (credentials: Keys) =>
  new IAMClient({ endpoint: fx.url, region: 'us-east-1', credentials, maxAttempts: 1 });

function trust(phase: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: `Run${phase}`,
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${fx.accountId}:oidc-provider/${host}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${host}:aud`]: 'aws.workload.identity', [`${host}:sub`]: `${ORG_SUB}:${phase}` },
        },
      },
    ],
  });
}

async function token(phase = 'plan', overrides: Record<string, unknown> = {}): Promise<string> {
  return fx.idp.sign(
    fx.idp.claims({
      sub: `${ORG_SUB}:${phase}`,
      terraform_run_id: 'run-test',
      terraform_run_phase: phase,
      ...overrides,
    }),
  );
}

async function webIdentity(
  phase = 'plan',
  role = 'tfc-plan',
  overrides: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) {
  return sts().send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: `arn:aws:iam::${fx.accountId}:role/${role}`,
      RoleSessionName: 'run-test',
      WebIdentityToken: await token(phase, overrides),
      ...extra,
    }),
  );
}

function keysOf(r: {
  Credentials?:
    | {
        AccessKeyId?: string | undefined;
        SecretAccessKey?: string | undefined;
        SessionToken?: string | undefined;
      }
    | undefined;
}): Keys {
  const c = r.Credentials;
  assert.ok(c?.AccessKeyId && c.SecretAccessKey && c.SessionToken);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

before(async () => {
  fx = await startCloud();
  tmp = mkdtempSync(join(tmpdir(), 'gatepass-sdk-'));
  host = fx.idp.issuer.replace(/^https:\/\//, '');
  const admin = iam(fx.admin);
  await admin.send(
    new CreateOpenIDConnectProviderCommand({
      Url: fx.idp.issuer,
      ClientIDList: ['aws.workload.identity'],
      ThumbprintList: [fx.pki.caThumbprint],
    }),
  );
  for (const phase of ['plan', 'apply']) {
    await admin.send(
      new CreateRoleCommand({
        RoleName: `tfc-${phase}`,
        AssumeRolePolicyDocument: trust(phase),
        MaxSessionDuration: 7200,
      }),
    );
  }
  await admin.send(
    new PutRolePolicyCommand({
      RoleName: 'tfc-plan',
      PolicyName: 'read-and-chain',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
          { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/terraform-plan' },
        ],
      }),
    }),
  );
  // A member account whose role trusts only the hub's plan role.
  const spec = parseSetup(
    [
      'accounts:',
      '  - name: hub',
      `    id: "${fx.accountId}"`,
      '  - name: member',
      '    roles:',
      '      - name: terraform-plan',
      '        attachedPolicies: [aws:IAMReadOnlyAccess]',
      '        trustPolicy:',
      '          Version: "2012-10-17"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file placeholder syntax, not a template.
      '          Statement: [{ Effect: Allow, Action: sts:AssumeRole, Principal: { AWS: "arn:aws:iam::${account:hub}:role/tfc-plan" } }]',
    ].join('\n'),
    'member.yaml',
  );
  await applySetup(fx.app.store, spec, { random: cryptoRandom, clock: systemClock }, { file: 'member.yaml' });
  await fx.cloud.sync();
});

after(async () => {
  await fx?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the happy path', () => {
  test('the administrator reads back the role it created, with its trust policy', async () => {
    const r = await iam(fx.admin).send(new GetRoleCommand({ RoleName: 'tfc-plan' }));
    assert.equal(r.Role?.Arn, `arn:aws:iam::${fx.accountId}:role/tfc-plan`);
    assert.match(r.Role?.RoleId ?? '', /^AROA[A-Z2-7]{17}$/);
    assert.deepEqual(
      JSON.parse(decodeURIComponent(r.Role?.AssumeRolePolicyDocument ?? '')),
      JSON.parse(trust('plan')),
    );
    assert.equal(r.Role?.MaxSessionDuration, 7200);
  });

  test('AssumeRoleWithWebIdentity turns a plan token into ASIA credentials for the plan role', async () => {
    const r = await webIdentity();
    assert.match(r.Credentials?.AccessKeyId ?? '', /^ASIA[A-Z2-7]{16}$/);
    assert.equal(r.SubjectFromWebIdentityToken, `${ORG_SUB}:plan`);
    assert.equal(r.Audience, 'aws.workload.identity');
    assert.equal(r.Provider, `arn:aws:iam::${fx.accountId}:oidc-provider/${host}`);
    assert.equal(r.AssumedRoleUser?.Arn, `arn:aws:sts::${fx.accountId}:assumed-role/tfc-plan/run-test`);
    const who = await sts(keysOf(r)).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, r.AssumedRoleUser?.Arn);
    assert.equal(who.Account, fx.accountId);
    assert.match(who.UserId ?? '', /^AROA[A-Z2-7]{17}:run-test$/);
  });

  test('fromTokenFile reads the token file and role ARN as an SDK-configured run would', async () => {
    const file = join(tmp, 'token');
    writeFileSync(file, await token(), { mode: 0o600 });
    const credentials = fromTokenFile({
      webIdentityTokenFile: file,
      roleArn: `arn:aws:iam::${fx.accountId}:role/tfc-plan`,
      roleSessionName: 'from-file',
      clientConfig: { endpoint: fx.url, region: 'us-east-1' },
    });
    const who = await new STSClient({ endpoint: fx.url, region: 'us-east-1', credentials }).send(
      new GetCallerIdentityCommand({}),
    );
    assert.equal(who.Arn, `arn:aws:sts::${fx.accountId}:assumed-role/tfc-plan/from-file`);
  });

  test('the plan session chains into the member account with AssumeRole (fromTemporaryCredentials too)', async () => {
    const [member] = (await fx.app.store.list('account')).filter((a) => a.name === 'member');
    assert.ok(member);
    const hub = keysOf(await webIdentity());
    const chained = await sts(hub).send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${member.id}:role/terraform-plan`,
        RoleSessionName: 'chain',
      }),
    );
    const who = await sts(keysOf(chained)).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:sts::${member.id}:assumed-role/terraform-plan/chain`);
    const viaProvider = fromTemporaryCredentials({
      masterCredentials: hub,
      params: { RoleArn: `arn:aws:iam::${member.id}:role/terraform-plan`, RoleSessionName: 'provider' },
      clientConfig: { endpoint: fx.url, region: 'us-east-1' },
    });
    const who2 = await new STSClient({
      endpoint: fx.url,
      region: 'us-east-1',
      credentials: viaProvider,
    }).send(new GetCallerIdentityCommand({}));
    assert.equal(who2.Account, member.id);
  });
});

describe('refusals carry AWS error codes and statuses', () => {
  test('a token for the apply phase cannot assume the plan role: AccessDenied 403', () =>
    rejectsCode(webIdentity('apply', 'tfc-plan'), 'AccessDenied', 403));
  test('a token with a foreign audience: InvalidIdentityToken 400', () =>
    rejectsCode(webIdentity('plan', 'tfc-plan', { aud: 'sts.amazonaws.com' }), 'InvalidIdentityToken', 400));
  test('an expired token: ExpiredTokenException 400', () =>
    rejectsCode(
      webIdentity('plan', 'tfc-plan', { exp: Math.floor(Date.now() / 1000) - 3600 }),
      'ExpiredTokenException',
      400,
    ));
  test('DurationSeconds above the role maximum: ValidationError 400', () =>
    rejectsCode(webIdentity('plan', 'tfc-plan', {}, { DurationSeconds: 7201 }), 'ValidationError', 400));
  test('a role that does not exist: AccessDenied 403', () =>
    rejectsCode(webIdentity('plan', 'nope'), 'AccessDenied', 403));
  test('chaining for more than one hour: ValidationError 400', async () => {
    const [member] = (await fx.app.store.list('account')).filter((a) => a.name === 'member');
    const hub = keysOf(await webIdentity());
    await rejectsCode(
      sts(hub).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${member?.id}:role/terraform-plan`,
          RoleSessionName: 'long',
          DurationSeconds: 7200,
        }),
      ),
      'ValidationError',
      400,
    );
  });
  test('a wrong secret: SignatureDoesNotMatch 403', async () => {
    const k = keysOf(await webIdentity());
    await rejectsCode(
      sts({ ...k, secretAccessKey: tweak(k.secretAccessKey) }).send(new GetCallerIdentityCommand({})),
      'SignatureDoesNotMatch',
      403,
    );
  });
  test('an unknown access key: InvalidClientTokenId 403', () =>
    rejectsCode(
      sts({ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) }).send(
        new GetCallerIdentityCommand({}),
      ),
      'InvalidClientTokenId',
      403,
    ));
  test('the read-only plan session may not create a role: AccessDenied 403', async () => {
    const k = keysOf(await webIdentity());
    await rejectsCode(
      iam(k).send(new CreateRoleCommand({ RoleName: 'sneaky', AssumeRolePolicyDocument: trust('plan') })),
      'AccessDenied',
      403,
    );
  });
  test('a guard-railed trust policy without a pinned sub is refused at CreateRole: MalformedPolicyDocument', async () => {
    const loose = JSON.parse(trust('plan'));
    loose.Statement[0].Condition = { StringEquals: { [`${host}:aud`]: 'aws.workload.identity' } };
    await rejectsCode(
      iam(fx.admin).send(
        new CreateRoleCommand({ RoleName: 'loose', AssumeRolePolicyDocument: JSON.stringify(loose) }),
      ),
      'MalformedPolicyDocument',
      400,
    );
  });
});

describe('revocation', () => {
  test('revoking a run ends its sessions at once and refuses new ones with IDPRejectedClaim', async () => {
    const k = keysOf(await webIdentity('plan', 'tfc-plan', { terraform_run_id: 'run-revoked' }));
    await sts(k).send(new GetCallerIdentityCommand({}));
    // A run is (issuer, run id): the revocation names the issuer of the run's tokens.
    await fx.cloud.revocations.revoke(
      runRevocationRecord({ issuer: fx.idp.issuer, runId: 'run-revoked' }, Date.now(), 'test'),
    );
    await rejectsCode(sts(k).send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', 403);
    await rejectsCode(
      webIdentity('plan', 'tfc-plan', { terraform_run_id: 'run-revoked' }),
      'IDPRejectedClaim',
      403,
    );
  });
});
