// Suggested fixes from real engine decisions (pure: evaluate, then storedTrace and hintsFor), and
// what the stored trace keeps out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hintsFor } from '../../src/cloud/explain/hints.js';
import { type ContextValue, evaluate, parsePolicy } from '../../src/core/policy/index.js';
import { MASK, storedTrace } from '../../src/core/policy/stored-trace.js';

const ROLE = 'arn:aws:iam::111111111111:role/net';
const PROVIDER = 'arn:aws:iam::111111111111:oidc-provider/app.terraform.io';

function webIdentity(condition: Record<string, unknown>, sub: string, aud = 'aws.workload.identity') {
  const trust = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: condition,
        },
      ],
    }),
    'trust',
  );
  const context: Record<string, ContextValue> = { 'app.terraform.io:sub': sub, 'app.terraform.io:aud': aud };
  return storedTrace(
    evaluate(
      {
        action: 'sts:AssumeRoleWithWebIdentity',
        resource: ROLE,
        principal: { type: 'Federated', ids: [PROVIDER] },
        context,
      },
      { resource: trust, resourceAccount: '111111111111' },
    ),
  );
}

const SUB = 'organization:acme:project:Default Project:workspace:net:run_phase:apply';

test('a sub that differs only in letter case is named as such', () => {
  const t = webIdentity({ StringEquals: { 'app.terraform.io:sub': SUB } }, SUB.replace('acme', 'ACME'));
  assert.match(
    hintsFor(t)[0] ?? '',
    /differs from the trust policy only in letter case; StringEquals is case-sensitive/,
  );
});

test('a trust written for the sub format without projects says so', () => {
  const t = webIdentity(
    { StringEquals: { 'app.terraform.io:sub': 'organization:acme:workspace:net:run_phase:apply' } },
    SUB,
  );
  assert.match(
    hintsFor(t)[0] ?? '',
    /sub has the segments organization:project:workspace:run_phase, the trust policy expects organization:workspace:run_phase/,
  );
});

test('a different workspace is named with the value the trust expects', () => {
  const t = webIdentity(
    { StringLike: { 'app.terraform.io:sub': 'organization:acme:project:*:workspace:net:run_phase:*' } },
    SUB.replace(':net:', ':dns:'),
  );
  assert.deepEqual(hintsFor(t), ['the token\'s workspace is "dns"; the trust policy expects workspace:net']);
});

test('a different audience names both values', () => {
  const t = webIdentity(
    { StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' } },
    SUB,
    'sts.amazonaws.com',
  );
  assert.match(
    hintsFor(t)[0] ?? '',
    /the token's aud is "sts.amazonaws.com"; the trust policy expects aws.workload.identity/,
  );
});

test('an allowed decision has nothing to fix', () => {
  assert.deepEqual(hintsFor(webIdentity({ StringEquals: { 'app.terraform.io:sub': SUB } }, SUB)), []);
});

test('a trust that names another principal, and an explicit Deny in an identity policy, get their own fixes', () => {
  const caller = 'arn:aws:sts::111111111111:assumed-role/ci/s';
  const principal = {
    type: 'AWS' as const,
    ids: [caller, 'arn:aws:iam::111111111111:role/ci'],
    account: '111111111111',
  };
  const trust = parsePolicy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/other"},"Action":"sts:AssumeRole"}]}',
    'trust',
  );
  const notNamed = storedTrace(
    evaluate(
      { action: 'sts:AssumeRole', resource: ROLE, principal, context: {} },
      { resource: trust, identity: [] },
    ),
  );
  assert.match(
    hintsFor(notNamed)[0] ?? '',
    /the trust policy does not name the caller arn:aws:sts::111111111111:assumed-role\/ci\/s/,
  );
  const deny = parsePolicy(
    '{"Version":"2012-10-17","Statement":[{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}]}',
    'identity',
    {},
    'inline policy guard of role/ci',
  );
  const denied = storedTrace(
    evaluate({ action: 'iam:CreateRole', resource: '*', principal, context: {} }, { identity: [deny] }),
  );
  assert.deepEqual(hintsFor(denied), [
    'inline policy guard of role/ci, statement NoIam denies iam:CreateRole: remove or narrow that Deny statement',
  ]);
});

test('the stored trace masks sts:ExternalId values and keeps the rest of the story', () => {
  const trust = parsePolicy(
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"expected-id"}}}]}',
    'trust',
  );
  const t = storedTrace(
    evaluate(
      {
        action: 'sts:AssumeRole',
        resource: ROLE,
        principal: {
          type: 'AWS',
          ids: ['arn:aws:iam::111111111111:role/ci', '111111111111'],
          account: '111111111111',
        },
        context: { 'sts:ExternalId': 'what-the-caller-sent' },
      },
      { resource: trust, identity: [] },
    ),
  );
  const text = JSON.stringify(t);
  assert.ok(!text.includes('what-the-caller-sent'));
  assert.ok(text.includes(MASK));
  assert.equal(t.layer, 'resource');
});
