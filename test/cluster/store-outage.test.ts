// PostgreSQL going away under a `gatepass serve` node: every write and every issuance is answered
// with a retryable 503 ServiceUnavailable in the AWS error shape (never a 500, never a hang), and
// credentials issued before keep verifying (a signed call reads nothing from the database).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateRoleCommand } from '@aws-sdk/client-iam';
import { startPostgres } from '../../scripts/pg-sandbox.js';
import {
  assumeWithWebIdentity,
  callerIdentity,
  dataDir,
  findAdmin,
  iamClient,
  makeWorld,
  type NodeProcess,
  postWebIdentity,
  setupRole,
  spawnNode,
} from './helpers.js';

let node: NodeProcess | undefined;
after(async () => {
  await node?.kill9();
});

test('PostgreSQL stopped under a node: writes and issuance answer 503 ServiceUnavailable, issued credentials still verify', async () => {
  // A server of its own, even where the suite shares one: this test stops it.
  const sandbox = await startPostgres({ own: true });
  const base = await makeWorld();
  try {
    node = await spawnNode({
      dataDir: dataDir(base, 'node'),
      masterKey: base.masterKey,
      caFile: base.caFile,
      databaseUrl: await sandbox.createDatabase('outage'),
    });
    const world = await setupRole(base, node.url, findAdmin([node]));
    const issued = await assumeWithWebIdentity(node.url, world.roleArn, await world.token());
    assert.ok(issued);

    await sandbox.stop();

    const iam = iamClient(node.url, world.admin);
    const write = await iam
      .send(
        new CreateRoleCommand({
          RoleName: 'during-outage',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: world.accountId }, Action: 'sts:AssumeRole' }],
          }),
        }),
      )
      .then(
        () => 'ok',
        (err: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
          `${err.$metadata?.httpStatusCode} ${err.name}`,
      );
    assert.equal(write, '503 ServiceUnavailable');
    const { status, xml: body } = await postWebIdentity(node.url, world.roleArn, await world.token());
    assert.equal(status, 503);
    assert.match(body, /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/);
    assert.match(body, /<Type>Receiver<\/Type>\s*<Code>ServiceUnavailable<\/Code>/);
    assert.doesNotMatch(body, /<AccessKeyId>/);
    assert.equal(await callerIdentity(node.url, issued), 'ok');
  } finally {
    await node?.kill9();
    await sandbox.stop();
    await base.close();
  }
});
