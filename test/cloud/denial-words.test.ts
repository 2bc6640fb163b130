// STS and IAM denials say what AWS's say and nothing more by default: AWS's STS and IAM never append
// an encoded authorization failure message (only services such as EC2 do). `--denial-messages
// encoded` appends one, which DecodeAuthorizationMessage opens. Real HTTP, the JS SDK v3.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateAccessKeyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  DecodeAuthorizationMessageCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';

interface World {
  fx: CloudFixture;
  nobody: Keys;
  roleArn: string;
}

const worlds: Partial<Record<'aws' | 'encoded', World>> = {};

const clients = (fx: CloudFixture, k: Keys) => {
  const common = { endpoint: fx.url, region: 'us-east-1', credentials: k, maxAttempts: 1 };
  return { iam: new IAMClient(common), sts: new STSClient(common) };
};

async function world(mode: 'aws' | 'encoded'): Promise<World> {
  const fx = await startCloud({ denialMessages: mode });
  const { iam } = clients(fx, fx.admin);
  await iam.send(new CreateUserCommand({ UserName: 'nobody' }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'nobody' }))).AccessKey;
  const host = fx.idp.issuer.replace(/^https:\/\//, '');
  await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: fx.idp.issuer,
      ClientIDList: ['aws.workload.identity'],
      ThumbprintList: [fx.pki.caThumbprint],
    }),
  );
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: 'target',
      // Trusts the provider for another workspace only, and no IAM principal at all.
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::${fx.accountId}:oidc-provider/${host}` },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: {
              StringEquals: { [`${host}:sub`]: 'organization:acme:project:p:workspace:other:run_phase:plan' },
            },
          },
        ],
      }),
    }),
  );
  return {
    fx,
    nobody: { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' },
    roleArn: role.Role?.Arn ?? '',
  };
}

before(async () => {
  worlds.aws = await world('aws');
  worlds.encoded = await world('encoded');
});
after(async () => {
  await worlds.aws?.fx.stop();
  await worlds.encoded?.fx.stop();
});

/** The AccessDenied message of a call that must be denied. */
async function denied(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (e) {
    const err = e as { name?: string; message?: string };
    assert.equal(err.name, 'AccessDenied', err.message);
    return err.message ?? '';
  }
  assert.fail('the call was allowed');
}

async function denials(w: World): Promise<{ iam: string; assumeRole: string; webIdentity: string }> {
  const { iam, sts } = clients(w.fx, w.nobody);
  const token = await w.fx.idp.sign(w.fx.idp.claims());
  const anonymous = new STSClient({
    endpoint: w.fx.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
    maxAttempts: 1,
  });
  return {
    iam: await denied(iam.send(new ListRolesCommand({}))),
    assumeRole: await denied(
      sts.send(new AssumeRoleCommand({ RoleArn: w.roleArn, RoleSessionName: 'denied' })),
    ),
    webIdentity: await denied(
      anonymous.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: w.roleArn,
          RoleSessionName: 'denied',
          WebIdentityToken: token,
        }),
      ),
    ),
  };
}

test("by default STS and IAM denials carry AWS's words only, no encoded authorization message", async () => {
  const w = worlds.aws;
  assert.ok(w);
  const user = `arn:aws:iam::${w.fx.accountId}:user/nobody`;
  const d = await denials(w);
  assert.match(
    d.iam,
    new RegExp(
      `^User: ${user} is not authorized to perform: iam:ListRoles on resource: \\* because no identity-based policy allows the iam:ListRoles action$`,
    ),
  );
  assert.equal(
    d.assumeRole,
    `User: ${user} is not authorized to perform: sts:AssumeRole on resource: ${w.roleArn}`,
  );
  assert.equal(d.webIdentity, 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
});

test('--denial-messages encoded appends an encoded authorization message that DecodeAuthorizationMessage opens', async () => {
  const w = worlds.encoded;
  assert.ok(w);
  const d = await denials(w);
  for (const message of [d.iam, d.assumeRole, d.webIdentity])
    assert.match(message, / Encoded authorization failure message: \d+\.[A-Za-z0-9_-]+$/);
  const encoded = / Encoded authorization failure message: (\S+)$/.exec(d.assumeRole)?.[1] ?? '';
  const { sts } = clients(w.fx, w.fx.admin);
  const decoded = await sts.send(new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded }));
  assert.match(decoded.DecodedMessage ?? '', /sts:AssumeRole/);
});
