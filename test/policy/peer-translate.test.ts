// The translator behind scripts/peer-iam-simulate.ts, on scenarios written here in the peer's
// format: what becomes a SimulatePrincipalPolicy call, what is skipped and why, and which
// disagreements carry a recorded reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalized, type PeerScenario, recordedReason, translate } from '../../scripts/peer-translate.js';

const THEIRS = '210987654321';
const LOCAL = '123123123123';

function scenario(over: Partial<PeerScenario> & { principal?: PeerScenario['request']['principal'] }) {
  const { principal, ...rest } = over;
  const s: PeerScenario = {
    name: 'written for this test',
    request: {
      action: 's3:GetObject',
      resource: { resource: 'arn:aws:s3:::reports/q1.csv', accountId: THEIRS },
      principal: principal ?? `arn:aws:iam::${THEIRS}:user/ana`,
      context: {},
    },
    identityPolicies: [
      {
        Version: '2012-10-17',
        Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::reports/*` },
      },
    ],
    expected: { response: 'Allowed' },
    ...rest,
  };
  return s;
}

test("a user scenario becomes a call on a user of the node's account, the caller's account renamed everywhere", () => {
  const t = translate(
    scenario({
      resourcePolicy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${THEIRS}:root` }, Action: '*', Resource: '*' },
        ],
      },
      permissionBoundaries: [{ Version: '2012-10-17', Statement: [] }],
      expected: { response: 'ExplicitlyDenied' },
    }),
    LOCAL,
  );
  assert.ok('run' in t);
  assert.deepEqual(t.run.entity, {
    kind: 'user',
    name: 'ana',
    path: '/',
    arn: `arn:aws:iam::${LOCAL}:user/ana`,
  });
  assert.equal(t.run.callerArn, undefined);
  assert.equal(t.run.resourceOwner, `arn:aws:iam::${LOCAL}:root`);
  assert.equal(t.run.expected, 'explicitDeny');
  assert.match(t.run.resourcePolicy ?? '', new RegExp(`arn:aws:iam::${LOCAL}:root`));
  assert.doesNotMatch(JSON.stringify(t.run), new RegExp(THEIRS));
  assert.equal(t.run.boundary, '{"Version":"2012-10-17","Statement":[]}');
});

test('another account in the scenario stays another account', () => {
  const other = '555566667777';
  const t = translate(
    scenario({
      request: {
        action: 's3:GetObject',
        resource: { resource: 'arn:aws:s3:::theirs/x', accountId: other },
        principal: `arn:aws:iam::${THEIRS}:role/ops/deployer`,
      },
    }),
    LOCAL,
  );
  assert.ok('run' in t);
  assert.equal(t.run.resourceOwner, `arn:aws:iam::${other}:root`);
  assert.deepEqual(t.run.entity, {
    kind: 'role',
    name: 'deployer',
    path: '/ops/',
    arn: `arn:aws:iam::${LOCAL}:role/ops/deployer`,
  });
});

test('a role session caller becomes its role as the source and the session ARN as CallerArn', () => {
  const t = translate(
    scenario({
      request: {
        action: 's3:GetObject',
        resource: { resource: 'arn:aws:s3:::reports/q1.csv', accountId: THEIRS },
        principal: `arn:aws:sts::${THEIRS}:assumed-role/deployer/run-7`,
        context: { 'aws:SourceIp': '10.0.0.1', 'aws:TagKeys': ['team', 'env'] },
      },
    }),
    LOCAL,
  );
  assert.ok('run' in t);
  assert.equal(t.run.entity.arn, `arn:aws:iam::${LOCAL}:role/deployer`);
  assert.equal(t.run.callerArn, `arn:aws:sts::${LOCAL}:assumed-role/deployer/run-7`);
  assert.deepEqual(t.run.context, [
    { ContextKeyName: 'aws:SourceIp', ContextKeyValues: ['10.0.0.1'], ContextKeyType: 'string' },
    { ContextKeyName: 'aws:TagKeys', ContextKeyValues: ['team', 'env'], ContextKeyType: 'stringList' },
  ]);
});

test('what the simulator API cannot carry is skipped with its reason', () => {
  const skip = (s: PeerScenario) => {
    const t = translate(s, LOCAL);
    return 'skip' in t ? t.skip : 'ran';
  };
  const policy = { Version: '2012-10-17', Statement: [] };
  assert.match(skip(scenario({ serviceControlPolicies: [policy] })), /SCPs/);
  assert.match(skip(scenario({ resourceControlPolicies: [policy] })), /RCPs/);
  assert.match(skip(scenario({ sessionPolicy: policy })), /session policies/);
  assert.match(skip(scenario({ simulation: { mode: 'Discovery' } })), /Discovery/);
  assert.match(skip(scenario({ principal: { type: 'Anonymous' } })), /Anonymous/);
  assert.match(skip(scenario({ principal: 'lambda.amazonaws.com' })), /service principal/);
  assert.match(skip(scenario({ permissionBoundaries: [policy, policy] })), /several permissions boundaries/);
  assert.equal(skip(scenario({ serviceControlPolicies: [], simulation: { mode: 'Strict' } })), 'ran');
});

test('a disagreement has a recorded reason only where gatepass decided it on purpose', () => {
  const comma = scenario({
    identityPolicies: [
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Action: 'sqs:SendMessage, sqs:Purge', Resource: '*' }],
      },
    ],
  });
  const refused = 'error MalformedPolicyDocumentException: Invalid action';
  assert.match(recordedReason(comma, refused) ?? '', /comma/);
  // The same scenario decided (not refused) is not explained by the comma rule.
  assert.equal(recordedReason(comma, 'implicitDeny'), undefined);

  const allowNot = scenario({
    resourcePolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', NotPrincipal: { AWS: '999999999999' }, Action: '*', Resource: '*' }],
    },
  });
  assert.match(recordedReason(allowNot, 'implicitDeny') ?? '', /NotPrincipal/);
  assert.equal(recordedReason(allowNot, 'explicitDeny'), undefined);

  const star = scenario({
    request: {
      action: 's3:GetObject',
      resource: { resource: '*', accountId: THEIRS },
      principal: `arn:aws:iam::${THEIRS}:user/ana`,
    },
  });
  assert.match(recordedReason(star, 'implicitDeny') ?? '', /literal/);
  assert.equal(recordedReason(scenario({}), 'implicitDeny'), undefined);
});

test('a scenario refused for a grammar point IAM enforces is rewritten as IAM accepts it, and only then', () => {
  const bare = scenario({
    identityPolicies: [
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }],
      },
    ],
    resourcePolicy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Principal: `arn:aws:iam::${THEIRS}:user/ana`, Action: 's3:*', Resource: '*' },
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' },
      ],
    },
  });
  const fixed = normalized(bare);
  assert.ok(fixed);
  assert.deepEqual(fixed.identityPolicies, [
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] },
  ]);
  assert.deepEqual(
    (fixed.resourcePolicy as { Statement: { Principal: unknown }[] }).Statement.map((s) => s.Principal),
    [{ AWS: `arn:aws:iam::${THEIRS}:user/ana` }, '*'],
  );
  // The input is left as it was, and a scenario with nothing to rewrite gives nothing.
  assert.equal(JSON.stringify(bare).includes('"Principal":"*","Action":"s3:*"'), true);
  assert.equal(normalized(scenario({})), undefined);
});
