// The not-evaluated-on-aws lint rule against test/vectors/lint/aws-condition-keys.json: each case
// lists exactly the condition keys AWS would not evaluate, and what each finding must say (how the
// condition comes out on AWS, what would work instead).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lintAwsConditionKeys, parsePolicy } from '../../src/core/policy/index.js';
import { cli } from '../explain/helpers.js';

interface Case {
  name: string;
  provider: string;
  statements: object[];
  expect: { key: string; says: string[] }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/lint/aws-condition-keys.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

for (const c of vectors.cases) {
  test(`not-evaluated-on-aws: ${c.name}`, () => {
    const policy = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: c.statements }), 'trust');
    const findings = lintAwsConditionKeys(policy, [{ prefix: c.provider }]);
    assert.deepEqual(
      findings.map((f) => f.path?.split('/').at(-1)?.replaceAll('~1', '/')),
      c.expect.map((e) => e.key),
    );
    for (const [i, e] of c.expect.entries()) {
      const f = findings[i];
      assert.equal(f?.rule, 'not-evaluated-on-aws');
      assert.equal(f?.severity, 'warning');
      for (const text of e.says) assert.ok(f?.message.includes(text), `"${text}" not in: ${f?.message}`);
    }
  });
}

test('a claim the issuer never emits is left to unknown-claim-key, not reported twice', () => {
  const policy = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: 'app.terraform.io' },
        Condition: { StringEquals: { 'app.terraform.io:made_up': 'x' } },
      },
    }),
    'trust',
  );
  assert.deepEqual(
    lintAwsConditionKeys(policy, [{ prefix: 'app.terraform.io', claims: ['sub', 'aud'] }]),
    [],
  );
  assert.equal(lintAwsConditionKeys(policy, [{ prefix: 'app.terraform.io' }]).length, 1);
});

test('gatepass lint warns on a file by default (--target aws) and says nothing with --target gatepass', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gatepass-lint-aws-'));
  try {
    const file = join(dir, 'trust.json');
    await writeFile(
      file,
      JSON.stringify(
        {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRoleWithWebIdentity',
              Principal: { Federated: 'arn:aws:iam::111111111111:oidc-provider/app.terraform.io' },
              Condition: {
                StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' },
                StringLike: {
                  'app.terraform.io:sub': 'organization:acme:project:Infra:workspace:net:run_phase:*',
                  'app.terraform.io:terraform_run_phase': 'plan',
                },
              },
            },
          ],
        },
        null,
        2,
      ),
    );
    const aws = await cli(['lint', file, '--fail-on', 'warning']);
    assert.equal(aws.code, 1, aws.stdout);
    assert.match(
      aws.stdout,
      /trust\.json:\d+: warning not-evaluated-on-aws: AWS does not evaluate app\.terraform\.io:terraform_run_phase/,
    );
    const explicit = await cli(['lint', file, '--target', 'aws', '--json']);
    assert.ok(explicit.stdout.includes('"rule":"not-evaluated-on-aws"'));
    const gatepass = await cli(['lint', file, '--target', 'gatepass', '--json']);
    assert.ok(!gatepass.stdout.includes('not-evaluated-on-aws'), gatepass.stdout);
    const wrong = await cli(['lint', file, '--target', 'azure']);
    assert.equal(wrong.code, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
