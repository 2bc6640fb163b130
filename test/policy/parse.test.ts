import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyValidationError, parsePolicy } from '../../src/core/policy/index.js';

const json = (x: unknown): string => JSON.stringify(x);

test('a single Statement object and string values are normalised to arrays', () => {
  const p = parsePolicy(
    json({
      Version: '2012-10-17',
      Id: 'p1',
      Statement: { Sid: 'S', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
    }),
    'identity',
    {},
    'inline policy X of role/r',
  );
  assert.deepEqual(p, {
    kind: 'identity',
    version: '2012-10-17',
    id: 'p1',
    source: 'inline policy X of role/r',
    statements: [
      { index: 0, sid: 'S', effect: 'Allow', action: ['s3:GetObject'], resource: ['*'], condition: [] },
    ],
  });
});

test('conditions become one clause per (operator, key) with string values', () => {
  const p = parsePolicy(
    json({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
          Condition: {
            Bool: { 'aws:SecureTransport': true },
            NumericLessThan: { 'aws:MultiFactorAuthAge': [300, '600'] },
          },
        },
      ],
    }),
    'identity',
  );
  assert.deepEqual(p.statements[0]?.condition, [
    { operator: 'Bool', key: 'aws:SecureTransport', values: ['true'] },
    { operator: 'NumericLessThan', key: 'aws:MultiFactorAuthAge', values: ['300', '600'] },
  ]);
});

test('a missing Version means the 2008 grammar', () => {
  const p = parsePolicy(json({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }), 'identity');
  assert.equal(p.version, '2008-10-17');
});

test('principals keep their type and values', () => {
  const p = parsePolicy(
    json({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: 'arn:aws:iam::111111111111:oidc-provider/app.terraform.io' },
        },
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { AWS: ['111111111111', 'arn:aws:iam::222222222222:role/x'] },
        },
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: '*' },
      ],
    }),
    'trust',
  );
  assert.deepEqual(
    p.statements.map((s) => s.principal),
    [
      { Federated: ['arn:aws:iam::111111111111:oidc-provider/app.terraform.io'] },
      { AWS: ['111111111111', 'arn:aws:iam::222222222222:role/x'] },
      '*',
    ],
  );
});

test('errors carry the MalformedPolicyDocument code and the statement Sid or index', () => {
  const doc = json({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: '111111111111' } },
      {
        Sid: 'Bad',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: '111111111111' },
        Resource: '*',
      },
    ],
  });
  assert.throws(
    () => parsePolicy(doc, 'trust'),
    (e: unknown) =>
      e instanceof PolicyValidationError &&
      e.code === 'MalformedPolicyDocument' &&
      e.statement === 'Bad' &&
      e.message === 'Has prohibited field Resource (statement Bad)',
  );
  const byIndex = json({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] });
  assert.throws(
    () => parsePolicy(byIndex, 'identity'),
    (e: unknown) => e instanceof PolicyValidationError && e.statement === 0,
  );
});

test('size limits count characters excluding whitespace and raise LimitExceeded', () => {
  const doc = json({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
  const size = doc.length;
  assert.doesNotThrow(() => parsePolicy(doc, 'identity', { maxSize: size }));
  const padded = doc.replace(/,/g, ' ,\n\t');
  assert.doesNotThrow(() => parsePolicy(padded, 'identity', { maxSize: size }));
  assert.throws(
    () => parsePolicy(doc, 'identity', { maxSize: size - 1 }),
    (e: unknown) => e instanceof PolicyValidationError && e.code === 'LimitExceeded',
  );
});

test('invalid JSON, non-objects and hostile nesting are syntax errors, not crashes', () => {
  for (const text of ['', '{', 'null', '[]', '"x"', '42', `${'['.repeat(100000)}${']'.repeat(100000)}`]) {
    assert.throws(
      () => parsePolicy(text, 'identity', { maxSize: Number.MAX_SAFE_INTEGER }),
      (e: unknown) => e instanceof PolicyValidationError && e.message.startsWith('Syntax errors in policy.'),
      text.slice(0, 20),
    );
  }
});

test('the empty statement list is a valid policy that allows nothing', () => {
  assert.equal(parsePolicy('{"Version":"2012-10-17","Statement":[]}', 'session').statements.length, 0);
});
