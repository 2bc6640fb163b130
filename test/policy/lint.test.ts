import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type IssuerInfo,
  lintPolicyDocument,
  lintTrustPolicy,
  oidcTrustIsPinned,
  parsePolicy,
} from '../../src/core/policy/index.js';

const TF: IssuerInfo = { prefix: 'app.terraform.io' };
const PROVIDER = 'arn:aws:iam::111111111111:oidc-provider/app.terraform.io';

const trust = (...statements: object[]) =>
  parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'trust');
const web = (condition?: object, extra: object = {}) => ({
  Effect: 'Allow',
  Action: 'sts:AssumeRoleWithWebIdentity',
  Principal: { Federated: PROVIDER },
  ...(condition ? { Condition: condition } : {}),
  ...extra,
});
const sub = (op: string, value: string | string[]) => ({
  StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' },
  ...{ [op]: { 'app.terraform.io:sub': value } },
});

test('a sub anchored on organization:<org>: is pinned', () => {
  assert.deepEqual(oidcTrustIsPinned(trust(web(sub('StringLike', 'organization:acme:project:*'))), [TF]), {
    ok: true,
  });
  const both = {
    StringEquals: {
      'app.terraform.io:aud': 'aws.workload.identity',
      'app.terraform.io:sub': 'organization:acme:project:p:workspace:w:run_phase:plan',
    },
  };
  assert.equal(oidcTrustIsPinned(trust(web(both)), [TF]).ok, true);
});

test('aud-only, prefix without colon, any-org and IfExists/set-operator subs are not pinned', () => {
  const cases: object[] = [
    { StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' } },
    sub('StringLike', 'organization:acme*'),
    sub('StringLike', 'organization:*:project:p'),
    sub('StringLike', '*'),
    sub('StringEqualsIfExists', 'organization:acme:project:p:workspace:w:run_phase:plan'),
    sub('ForAnyValue:StringEquals', 'organization:acme:project:p:workspace:w:run_phase:plan'),
    sub('StringNotEquals', 'organization:evil:'),
    sub('StringEquals', 'organization:acme'),
  ];
  for (const c of cases) {
    const verdict = oidcTrustIsPinned(trust(web(c)), [TF]);
    assert.equal(verdict.ok, false, JSON.stringify(c));
    assert.match(verdict.reason ?? '', /statement #0: /);
  }
});

test('every value of the pinning clause must name an organization, and a known one when listed', () => {
  const mixed = sub('StringLike', ['organization:acme:project:*', 'organization:*']);
  assert.equal(oidcTrustIsPinned(trust(web(mixed)), [TF]).ok, false);
  const other = sub('StringEquals', 'organization:globex:project:p:workspace:w:run_phase:plan');
  assert.equal(oidcTrustIsPinned(trust(web(other)), [{ ...TF, organizations: ['acme'] }]).ok, false);
  assert.equal(oidcTrustIsPinned(trust(web(other)), [{ ...TF, organizations: ['globex'] }]).ok, true);
});

test('one unpinned Allow statement among pinned ones fails the guard rail, naming it', () => {
  const pinned = web(sub('StringLike', 'organization:acme:*'), { Sid: 'Good' });
  const loose = web(undefined, { Sid: 'Loose' });
  const verdict = oidcTrustIsPinned(trust(pinned, loose), [TF]);
  assert.equal(verdict.ok, false);
  assert.match(verdict.reason ?? '', /statement Loose: no condition pins app\.terraform\.io:sub/);
});

test('trust policies without an OIDC provider, or with Deny only, are not subject to the guard rail', () => {
  const aws = {
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { AWS: 'arn:aws:iam::111111111111:role/x' },
  };
  assert.deepEqual(oidcTrustIsPinned(trust(aws), [TF]), { ok: true });
  assert.deepEqual(oidcTrustIsPinned(trust({ ...web(), Effect: 'Deny' }), [TF]), { ok: true });
  const otherIssuer = {
    ...web(),
    Principal: { Federated: 'arn:aws:iam::111111111111:oidc-provider/other.example' },
  };
  assert.deepEqual(oidcTrustIsPinned(trust(otherIssuer), [TF]), { ok: true });
});

test('a private (unshared) issuer is exempt from the org-pin guard rail', () => {
  const audOnly = { StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' } };
  assert.deepEqual(oidcTrustIsPinned(trust(web(audOnly)), [{ ...TF, shared: false }]), { ok: true });
  assert.equal(oidcTrustIsPinned(trust(web(audOnly)), [TF]).ok, false);
});

test('Principal "*" on AssumeRoleWithWebIdentity counts as trusting every issuer', () => {
  const star = { ...web(), Principal: '*' };
  assert.equal(oidcTrustIsPinned(trust(star), [TF]).ok, false);
  const starPinned = { ...web(sub('StringLike', 'organization:acme:*')), Principal: '*' };
  assert.equal(oidcTrustIsPinned(trust(starPinned), [TF]).ok, true);
});

test('findings carry severity, statement, Sid and a JSON pointer to the condition', () => {
  const findings = lintTrustPolicy(trust(web(sub('StringLike', 'organization:acme*'), { Sid: 'Plan' })), [
    TF,
  ]);
  assert.deepEqual(findings, [
    {
      rule: 'org-prefix-without-colon',
      severity: 'error',
      statement: 0,
      sid: 'Plan',
      path: '/Statement/0/Condition/StringLike/app.terraform.io:sub',
      message:
        '"organization:acme*" does not close the organization name with ":", so it also matches other organizations that share the prefix.',
    },
  ]);
});

test('keys with a slash are escaped in the JSON pointer', () => {
  const c = {
    StringLike: { 'app.terraform.io:sub': 'organization:acme:*' },
    'ForAnyValue:StringEquals': { 'aws:PrincipalTag/team': 'x' },
  };
  const f = lintTrustPolicy(trust(web(c)), [TF]).find((x) => x.rule === 'set-operator-on-single-valued-key');
  assert.equal(f?.path, '/Statement/0/Condition/ForAnyValue:StringEquals/aws:PrincipalTag~1team');
});

test('set operators on multi-valued keys (amr, aws:TagKeys) are not flagged', () => {
  const c = {
    StringLike: { 'app.terraform.io:sub': 'organization:acme:*' },
    'ForAnyValue:StringEquals': { 'app.terraform.io:amr': 'authenticated' },
    'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] },
  };
  assert.deepEqual(lintTrustPolicy(trust(web(c)), [TF]), []);
});

test('document lint: each trap is found on its element, and what is meant is not flagged', () => {
  const doc = (...statements: object[]) => ({ Version: '2012-10-17', Statement: statements });
  const rules = (d: unknown) => lintPolicyDocument(d).map((f) => `${f.rule} ${f.path}`);
  assert.deepEqual(
    rules(doc({ Effect: 'Allow', Action: ['s3:GetObject', 'ec2:Describe*,ec2:Get*'], Resource: '*' })),
    ['action-with-comma /Statement/0/Action/1'],
  );
  assert.deepEqual(rules(doc({ Effect: 'Deny', NotAction: ' iam:*', Resource: '*' })), [
    'action-with-whitespace /Statement/0/NotAction',
  ]);
  assert.deepEqual(
    rules(doc({ Effect: 'Allow', NotPrincipal: { AWS: '111111111111' }, Action: 's3:*', Resource: '*' })),
    ['allow-with-not-principal /Statement/0/NotPrincipal'],
  );
  // A Deny with NotPrincipal is what NotPrincipal is for.
  assert.deepEqual(
    rules(doc({ Effect: 'Deny', NotPrincipal: { AWS: '111111111111' }, Action: 's3:*', Resource: '*' })),
    [],
  );
  assert.deepEqual(
    rules(doc({ Effect: 'Deny', Action: ['IAM:listroles'], Resource: ['arn:aws:iam::111111111111:role/*'] })),
    ['wildcard-only-action-on-arn /Statement/0/Action/0'],
  );
  // Covered by "*", written as a pattern, or in a resource policy: nothing to say.
  assert.deepEqual(
    rules(doc({ Effect: 'Allow', Action: 'iam:ListRoles', Resource: ['arn:aws:iam::1:role/x', '*'] })),
    [],
  );
  assert.deepEqual(
    rules(doc({ Effect: 'Allow', Action: 'iam:List*', Resource: 'arn:aws:iam::1:role/*' })),
    [],
  );
  assert.deepEqual(
    rules(
      doc({ Effect: 'Allow', Principal: '*', Action: 's3:ListAllMyBuckets', Resource: 'arn:aws:s3:::b' }),
    ),
    [],
  );
  assert.deepEqual(lintPolicyDocument('not a document'), []);
  assert.deepEqual(
    lintPolicyDocument(doc({ Sid: 'S1', Effect: 'Allow', Action: 'a:b,c', Resource: '*' })).map((f) => [
      f.statement,
      f.sid,
      f.severity,
    ]),
    [[0, 'S1', 'error']],
  );
});
