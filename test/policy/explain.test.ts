import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AuthzRequest, evaluate, explain, parsePolicy } from '../../src/core/policy/index.js';

const PROVIDER = 'arn:aws:iam::111111111111:oidc-provider/app.example.com';
const PLAN = 'organization:acme:project:Infra:workspace:net:run_phase:plan';
const APPLY = 'organization:acme:project:Infra:workspace:net:run_phase:apply';

const trust = parsePolicy(
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'PlanOnly',
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: PROVIDER },
        Condition: { StringEquals: { 'app.example.com:sub': PLAN } },
      },
    ],
  }),
  'trust',
  {},
  'trust policy of role/net-plan',
);

const request = (sub: string): AuthzRequest => ({
  action: 'sts:AssumeRoleWithWebIdentity',
  resource: 'arn:aws:iam::111111111111:role/net-plan',
  principal: { type: 'Federated', ids: [PROVIDER] },
  context: { 'app.example.com:sub': sub, 'aws:CurrentTime': '2026-01-01T00:00:00Z' },
});

test('a denial names the policy, the statement and the condition with expected and presented values', () => {
  const d = evaluate(request(APPLY), { resource: trust, resourceAccount: '111111111111' });
  assert.equal(d.effect, 'ImplicitDeny');
  assert.equal(d.reason, 'trust-policy-does-not-allow');
  assert.equal(
    explain(d),
    'Denied sts:AssumeRoleWithWebIdentity on arn:aws:iam::111111111111:role/net-plan: the trust policy does not allow this caller. ' +
      `Nearest: trust policy of role/net-plan, statement PlanOnly: StringEquals on app.example.com:sub expected ${PLAN}, the token has ${APPLY}.`,
  );
});

test('the trace records presented and expected values per condition', () => {
  const d = evaluate(request(APPLY), { resource: trust });
  const st = d.layers.find((l) => l.layer === 'resource')?.statements[0];
  assert.deepEqual(st, {
    policy: 'trust policy of role/net-plan',
    index: 0,
    sid: 'PlanOnly',
    effect: 'Allow',
    matched: false,
    reason: 'condition',
    conditions: [
      {
        operator: 'StringEquals',
        key: 'app.example.com:sub',
        expected: [PLAN],
        presented: [APPLY],
        matched: false,
      },
    ],
  });
  assert.deepEqual(
    d.layers.map((l) => [l.layer, l.outcome]),
    [
      ['rcp', 'not-applicable'],
      ['scp', 'not-applicable'],
      ['resource', 'implicit'],
      ['identity', 'not-applicable'],
      ['boundary', 'not-applicable'],
      ['session', 'not-applicable'],
    ],
  );
});

test('an allow names the statement that granted it', () => {
  const d = evaluate(request(PLAN), { resource: trust });
  assert.equal(d.effect, 'Allow');
  assert.match(
    explain(d),
    /^Allowed sts:AssumeRoleWithWebIdentity on .*: trust policy of role\/net-plan, statement PlanOnly \(Allow\)/,
  );
});

test('an explicit deny names the denying statement', () => {
  const identity = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Sid: 'NoIam', Effect: 'Deny', Action: 'iam:*', Resource: '*' },
      ],
    }),
    'identity',
    {},
    'inline policy Admin of role/x',
  );
  const d = evaluate(
    {
      action: 'iam:CreateUser',
      resource: '*',
      principal: { type: 'AWS', ids: ['111111111111'], account: '111111111111' },
      context: {},
    },
    { identity: [identity] },
  );
  assert.equal(
    explain(d),
    'Denied iam:CreateUser on *: an explicit Deny applies: inline policy Admin of role/x, statement NoIam (Deny).',
  );
});

test('a missing key is reported as absent', () => {
  const d = evaluate({ ...request(APPLY), context: {} }, { resource: trust });
  assert.match(explain(d), /the token has no app\.example\.com:sub/);
});
