import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isAwsEndpoint,
  type Phase,
  type RunConfig,
  resolveRunConfig,
  roleArnProblem,
  sessionNameFor,
  tagProblem,
} from '../../src/agent/config.js';
import { AgentError } from '../../src/agent/errors.js';

const RUN = 'arn:aws:iam::111122223333:role/run';
const PLAN = 'arn:aws:iam::111122223333:role/plan';
const APPLY = 'arn:aws:iam::111122223333:role/apply';
const MEMBER = 'arn:aws:iam::444455556666:role/member';

function resolve(
  vars: Record<string, string | null>,
  phase: Phase = 'plan',
  extra: { region?: string; stsEndpoint?: string; iamEndpoint?: string } = {},
): RunConfig {
  return resolveRunConfig({ variables: new Map(Object.entries(vars)), phase, runId: 'run-abc123', ...extra });
}

function problems(vars: Record<string, string | null>, phase: Phase = 'plan', extra = {}): readonly string[] {
  try {
    resolve(vars, phase, extra);
  } catch (err) {
    assert.ok(err instanceof AgentError);
    assert.equal(err.code, 'invalid_configuration');
    return err.problems;
  }
  assert.fail('expected an invalid configuration');
}

test('the default configuration uses TFC_AWS_RUN_ROLE_ARN and the default audience', () => {
  const c = resolve({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN });
  assert.deepEqual(c.aws, [
    { tag: '', roleArn: RUN, audience: 'aws.workload.identity', chain: [], allowedAccountIds: [] },
  ]);
  assert.equal(c.region, 'us-east-1');
  assert.equal(c.sessionName, 'gatepass-run-abc123-plan');
  assert.equal(c.stsEndpoint, undefined);
  assert.deepEqual(c.generic, []);
});

test('plan and apply roles beat the run role for their phase, the run role covers the other phase', () => {
  const vars = { TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN, TFC_AWS_PLAN_ROLE_ARN: PLAN };
  assert.equal(resolve(vars, 'plan').aws[0]?.roleArn, PLAN);
  assert.equal(resolve(vars, 'apply').aws[0]?.roleArn, RUN);
  const both = { TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_PLAN_ROLE_ARN: PLAN, TFC_AWS_APPLY_ROLE_ARN: APPLY };
  assert.equal(resolve(both, 'plan').aws[0]?.roleArn, PLAN);
  assert.equal(resolve(both, 'apply').aws[0]?.roleArn, APPLY);
});

test('TFC_DEFAULT_ forms fill in for every configuration, own values win', () => {
  const c = resolve({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_PROVIDER_AUTH_member: 'true',
    TFC_DEFAULT_AWS_RUN_ROLE_ARN: RUN,
    TFC_DEFAULT_AWS_WORKLOAD_IDENTITY_AUDIENCE: 'sts.gatepass',
    TFC_AWS_RUN_ROLE_ARN_member: MEMBER,
    TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE_member: 'member.aud',
  });
  assert.deepEqual(
    c.aws.map((a) => [a.tag, a.roleArn, a.audience]),
    [
      ['', RUN, 'sts.gatepass'],
      ['member', MEMBER, 'member.aud'],
    ],
  );
});

test('a phase role resolves own → TFC_DEFAULT_ before falling back to the run role', () => {
  const c = resolve(
    {
      TFC_AWS_PROVIDER_AUTH_x: 'true',
      TFC_AWS_RUN_ROLE_ARN_x: MEMBER,
      TFC_DEFAULT_AWS_APPLY_ROLE_ARN: APPLY,
    },
    'apply',
  );
  assert.equal(c.aws[0]?.roleArn, APPLY);
  assert.equal(
    resolve({ TFC_AWS_PROVIDER_AUTH_x: 'true', TFC_AWS_RUN_ROLE_ARN_x: MEMBER }, 'apply').aws[0]?.roleArn,
    MEMBER,
  );
});

test('TFC_AWS_PROVIDER_AUTH must be "true"; other values switch the configuration off with a warning', () => {
  const c = resolve({ TFC_AWS_PROVIDER_AUTH: 'false', TFC_AWS_RUN_ROLE_ARN: RUN });
  assert.deepEqual(c.aws, []);
  assert.ok(c.warnings.some((w) => w.includes('TFC_AWS_PROVIDER_AUTH')));
  assert.equal(resolve({ TFC_AWS_PROVIDER_AUTH: 'TRUE', TFC_AWS_RUN_ROLE_ARN: RUN }).aws.length, 1);
});

test('there is no TFC_DEFAULT_ form of TFC_AWS_PROVIDER_AUTH', () => {
  const c = resolve({ TFC_DEFAULT_AWS_PROVIDER_AUTH: 'true', TFC_DEFAULT_AWS_RUN_ROLE_ARN: RUN });
  assert.deepEqual(c.aws, []);
});

test('tagged configurations come after the default one, sorted, each with its own settings', () => {
  const c = resolve({
    TFC_AWS_PROVIDER_AUTH_zeta: 'true',
    TFC_AWS_PROVIDER_AUTH_alpha: 'true',
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: RUN,
    TFC_AWS_RUN_ROLE_ARN_alpha: PLAN,
    TFC_AWS_RUN_ROLE_ARN_zeta: MEMBER,
  });
  assert.deepEqual(
    c.aws.map((a) => a.tag),
    ['', 'alpha', 'zeta'],
  );
});

test('a tagged setting without its TFC_AWS_PROVIDER_AUTH_<TAG> is ignored with a warning', () => {
  const c = resolve({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: RUN,
    TFC_AWS_RUN_ROLE_ARN_membr: MEMBER,
  });
  assert.equal(c.aws.length, 1);
  assert.ok(c.warnings.some((w) => w.includes('TFC_AWS_RUN_ROLE_ARN_membr')));
});

test('every problem is reported together: missing role, bad tag, reserved TYPE, malformed ARNs', () => {
  const p = problems({
    TFC_AWS_PROVIDER_AUTH: 'true',
    'TFC_AWS_PROVIDER_AUTH_bad-tag': 'true',
    TFC_AWS_PROVIDER_AUTH_TYPE: 'true',
    TFC_AWS_PROVIDER_AUTH_ok: 'true',
    TFC_AWS_RUN_ROLE_ARN_ok: 'arn:aws:iam::1234:role/short-account',
    TFC_AWS_PROVIDER_AUTH_u: 'true',
    TFC_AWS_RUN_ROLE_ARN_u: 'arn:aws:iam::111122223333:user/alice',
  });
  assert.equal(p.length, 5, p.join('\n'));
  assert.ok(p.some((x) => x.startsWith('default configuration: no role for the plan phase')));
  assert.ok(p.some((x) => x.includes('TFC_AWS_PROVIDER_AUTH_bad-tag') && x.includes('letters, digits')));
  assert.ok(p.some((x) => x.includes('TFC_AWS_PROVIDER_AUTH_TYPE') && x.includes('TYPE')));
  assert.ok(p.some((x) => x === 'TFC_AWS_RUN_ROLE_ARN_ok does not name a 12-digit account'));
  assert.ok(p.some((x) => x === 'TFC_AWS_RUN_ROLE_ARN_u is not a role ARN'));
});

test('a role for only the other phase is a missing role for this phase', () => {
  const p = problems({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_APPLY_ROLE_ARN: APPLY }, 'plan');
  assert.deepEqual(p, [
    'default configuration: no role for the plan phase (set TFC_AWS_RUN_ROLE_ARN or TFC_AWS_PLAN_ROLE_ARN)',
  ]);
});

test('a sensitive variable the agent cannot read is a problem, not silently unset', () => {
  const p = problems({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: null });
  assert.ok(p.some((x) => x.startsWith('TFC_AWS_RUN_ROLE_ARN is sensitive')));
});

test('audiences must be printable ASCII without spaces', () => {
  const p = problems({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: RUN,
    TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE: 'two words',
  });
  assert.deepEqual(p, [
    'TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE must be 1-255 printable ASCII characters without spaces',
  ]);
});

test('generic tokens: default and tagged, a reserved tag is a problem', () => {
  const c = resolve({
    TFC_WORKLOAD_IDENTITY_AUDIENCE: 'vault.workload.identity',
    TFC_WORKLOAD_IDENTITY_AUDIENCE_teleport: 'teleport.example',
  });
  assert.deepEqual(c.generic, [
    { tag: '', audience: 'vault.workload.identity', envName: 'TFC_WORKLOAD_IDENTITY_TOKEN' },
    { tag: 'teleport', audience: 'teleport.example', envName: 'TFC_WORKLOAD_IDENTITY_TOKEN_teleport' },
  ]);
  assert.deepEqual(c.aws, []);
  const p = problems({ TFC_WORKLOAD_IDENTITY_AUDIENCE_TYPE: 'x' });
  assert.deepEqual(p, ['TFC_WORKLOAD_IDENTITY_AUDIENCE_TYPE: tag is the reserved word TYPE']);
});

test('chain targets: run-level list, phase-specific override, tag and default forms, each ARN checked', () => {
  const base = { TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN };
  assert.deepEqual(resolve({ ...base, GATEPASS_AWS_CHAIN_ROLE_ARN: ` ${PLAN} , ${MEMBER} ` }).aws[0]?.chain, [
    PLAN,
    MEMBER,
  ]);
  const phased = { ...base, GATEPASS_AWS_CHAIN_ROLE_ARN: MEMBER, GATEPASS_AWS_APPLY_CHAIN_ROLE_ARN: APPLY };
  assert.deepEqual(resolve(phased, 'plan').aws[0]?.chain, [MEMBER]);
  assert.deepEqual(resolve(phased, 'apply').aws[0]?.chain, [APPLY]);
  const tagged = resolve({
    ...base,
    TFC_AWS_PROVIDER_AUTH_m: 'true',
    TFC_AWS_RUN_ROLE_ARN_m: MEMBER,
    GATEPASS_DEFAULT_AWS_CHAIN_ROLE_ARN: MEMBER,
    GATEPASS_AWS_CHAIN_ROLE_ARN_m: APPLY,
  });
  assert.deepEqual(
    tagged.aws.map((a) => a.chain),
    [[MEMBER], [APPLY]],
  );
  const p = problems({ ...base, GATEPASS_AWS_CHAIN_ROLE_ARN: `${MEMBER},nope` });
  assert.deepEqual(p, ['GATEPASS_AWS_CHAIN_ROLE_ARN role 2 is not an ARN']);
});

test('allowed account ids are a comma-separated list of 12-digit ids', () => {
  const base = { TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN };
  assert.deepEqual(
    resolve({ ...base, GATEPASS_AWS_ALLOWED_ACCOUNT_IDS: '111122223333, 444455556666' }).aws[0]
      ?.allowedAccountIds,
    ['111122223333', '444455556666'],
  );
  assert.deepEqual(problems({ ...base, GATEPASS_AWS_ALLOWED_ACCOUNT_IDS: '1111' }), [
    'GATEPASS_AWS_ALLOWED_ACCOUNT_IDS contains "1111", not a 12-digit account id',
  ]);
});

test('region: --region beats AWS_REGION beats AWS_DEFAULT_REGION beats us-east-1; bad names are problems', () => {
  const base = { TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN };
  assert.equal(resolve({ ...base, AWS_DEFAULT_REGION: 'eu-west-1' }).region, 'eu-west-1');
  assert.equal(
    resolve({ ...base, AWS_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-central-1' }).region,
    'eu-central-1',
  );
  assert.equal(
    resolve({ ...base, AWS_REGION: 'eu-central-1' }, 'plan', { region: 'us-gov-west-1' }).region,
    'us-gov-west-1',
  );
  assert.deepEqual(problems(base, 'plan', { region: 'mars' }), ['region "mars" is not an AWS region name']);
});

test('endpoints: flag beats variable, IAM follows a non-AWS STS, URLs are validated', () => {
  const base = { TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN };
  const c = resolve({ ...base, GATEPASS_AWS_STS_ENDPOINT: 'https://gatepass.internal:8443/' });
  assert.equal(c.stsEndpoint, 'https://gatepass.internal:8443');
  assert.equal(c.iamEndpoint, 'https://gatepass.internal:8443');
  const f = resolve({ ...base, GATEPASS_AWS_STS_ENDPOINT: 'https://a.example' }, 'plan', {
    stsEndpoint: 'http://127.0.0.1:9000',
    iamEndpoint: 'http://127.0.0.1:9001',
  });
  assert.equal(f.stsEndpoint, 'http://127.0.0.1:9000');
  assert.equal(f.iamEndpoint, 'http://127.0.0.1:9001');
  const aws = resolve(base, 'plan', { stsEndpoint: 'https://sts.eu-west-1.amazonaws.com' });
  assert.equal(aws.iamEndpoint, undefined);
  assert.deepEqual(problems(base, 'plan', { stsEndpoint: 'ftp://x' }), [
    'the STS endpoint must be an http or https URL',
  ]);
  assert.deepEqual(problems(base, 'plan', { stsEndpoint: 'https://u:p@x' }), [
    'the STS endpoint must not carry credentials, a query or a fragment',
  ]);
});

test('no configuration at all is allowed but warned about', () => {
  const c = resolve({ TF_LOG: 'debug' });
  assert.deepEqual(c.aws, []);
  assert.ok(c.warnings.some((w) => w.startsWith('no credential configuration')));
});

test('tag rules: letters, digits and "_", not TYPE (any case), at most 64', () => {
  assert.equal(tagProblem('member_1'), undefined);
  assert.equal(tagProblem(''), 'is empty');
  assert.equal(tagProblem('type'), 'is the reserved word TYPE');
  assert.equal(tagProblem('a-b'), 'may contain only letters, digits and "_"');
  assert.equal(tagProblem('x'.repeat(65)), 'is longer than 64 characters');
});

test('role ARNs: partitions, paths and names', () => {
  assert.equal(roleArnProblem('arn:aws:iam::111122223333:role/a/b/c'), undefined);
  assert.equal(roleArnProblem('arn:aws-us-gov:iam::111122223333:role/x'), undefined);
  assert.equal(roleArnProblem('arn:aws:sts::111122223333:role/x'), 'is not an IAM ARN');
  assert.equal(roleArnProblem('arn:aws:iam:us-east-1:111122223333:role/x'), 'is not an IAM ARN');
  assert.equal(roleArnProblem('arn:aws:iam::111122223333:role/'), 'is not a role ARN');
  assert.equal(roleArnProblem('role/x'), 'is not an ARN');
});

test('session names fit RoleSessionName: [\\w+=,.@-]{2,64}', () => {
  assert.equal(sessionNameFor('run-AbC123', 'apply'), 'gatepass-run-AbC123-apply');
  const long = sessionNameFor(`run-${'x'.repeat(80)}/y`, 'plan');
  assert.equal(long.length, 64);
  assert.match(sessionNameFor('run id/with:odd', 'plan'), /^[\w+=,.@-]{2,64}$/);
});

test('AWS endpoints are recognised by host', () => {
  assert.equal(isAwsEndpoint(undefined), true);
  assert.equal(isAwsEndpoint('https://sts.us-east-1.amazonaws.com'), true);
  assert.equal(isAwsEndpoint('https://sts.cn-north-1.amazonaws.com.cn'), true);
  assert.equal(isAwsEndpoint('http://127.0.0.1:8080'), false);
});
