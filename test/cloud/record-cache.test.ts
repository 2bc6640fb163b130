// The roles and OIDC providers STS keeps between calls (sts/record-cache.ts) are dropped by every IAM
// write on the node: a trust policy narrowed or a provider deleted refuses the next web identity
// call, although the call before it loaded and kept both. Real HTTP, the JS SDK v3.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteOpenIDConnectProviderCommand,
  IAMClient,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type CloudFixture, startCloud } from '../helpers/cloud.js';

let fx: CloudFixture;
let iam: IAMClient;
let sts: STSClient;
let host = '';

/** Trusts the test provider's tokens for one workspace (the guard rail wants `sub` pinned). */
const trust = (workspace: string): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${fx.accountId}:oidc-provider/${host}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringLike: {
            [`${host}:sub`]: `organization:acme:project:Default Project:workspace:${workspace}:*`,
          },
        },
      },
    ],
  });

before(async () => {
  fx = await startCloud();
  host = fx.idp.issuer.replace(/^https:\/\//, '');
  iam = new IAMClient({ endpoint: fx.url, region: 'us-east-1', credentials: fx.admin, maxAttempts: 1 });
  sts = new STSClient({
    endpoint: fx.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
    maxAttempts: 1,
  });
});
after(async () => {
  await fx?.stop();
});

const assume = async (roleArn: string) =>
  sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: roleArn,
      RoleSessionName: 'cached',
      WebIdentityToken: await fx.idp.sign(fx.idp.claims()),
    }),
  );

const code = async (call: Promise<unknown>): Promise<string> => {
  try {
    await call;
  } catch (e) {
    return (e as { name?: string }).name ?? '';
  }
  return 'allowed';
};

test('an IAM write drops the kept role and provider: the next web identity call sees the change', async () => {
  const provider = await iam.send(
    new CreateOpenIDConnectProviderCommand({
      Url: fx.idp.issuer,
      ClientIDList: ['aws.workload.identity'],
      ThumbprintList: [fx.pki.caThumbprint],
    }),
  );
  const role = await iam.send(
    new CreateRoleCommand({ RoleName: 'kept', AssumeRolePolicyDocument: trust('net') }),
  );
  const roleArn = role.Role?.Arn ?? '';
  // Twice: the second call is answered from the kept records.
  assert.match((await assume(roleArn)).Credentials?.AccessKeyId ?? '', /^ASIA/);
  assert.match((await assume(roleArn)).Credentials?.AccessKeyId ?? '', /^ASIA/);

  await iam.send(
    new UpdateAssumeRolePolicyCommand({
      RoleName: 'kept',
      PolicyDocument: trust('other'),
    }),
  );
  assert.equal(await code(assume(roleArn)), 'AccessDenied');

  await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'kept', PolicyDocument: trust('net') }));
  assert.match((await assume(roleArn)).Credentials?.AccessKeyId ?? '', /^ASIA/);
  await iam.send(
    new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: provider.OpenIDConnectProviderArn }),
  );
  assert.equal(await code(assume(roleArn)), 'InvalidIdentityTokenException');
});
