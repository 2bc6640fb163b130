// Policy engine throughput on one core: statements evaluated per second for a realistic OIDC trust
// policy and a 20-statement identity policy. Run: npx tsx bench/policy/bench.ts [seconds-per-case]
// Each case runs for a fixed time after a warm-up, so the whole run is bounded (default 2 s a case).

import { performance } from 'node:perf_hooks';
import { type AuthzRequest, evaluate, type PolicySet, parsePolicy } from '../../src/core/policy/index.js';

const ACCOUNT = '111111111111';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/app.terraform.io`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/net-apply`;

const trust = parsePolicy(
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Plan',
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: PROVIDER },
        Condition: {
          StringEquals: { 'app.terraform.io:aud': 'aws.workload.identity' },
          StringLike: {
            'app.terraform.io:sub': 'organization:acme:project:Infra:workspace:net:run_phase:plan',
          },
        },
      },
      {
        Sid: 'Apply',
        Effect: 'Allow',
        Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'],
        Principal: { Federated: PROVIDER },
        Condition: {
          StringEquals: {
            'app.terraform.io:aud': 'aws.workload.identity',
            'app.terraform.io:sub': 'organization:acme:project:Infra:workspace:net:run_phase:apply',
          },
        },
      },
    ],
  }),
  'trust',
  {},
  'trust policy of role/net-apply',
);

const services = ['s3', 'ec2', 'dynamodb', 'sqs', 'sns', 'lambda', 'logs', 'kms', 'iam', 'rds'];
const identityStatements = [
  ...services.map((svc, i) => ({
    Sid: `Read${i}`,
    Effect: 'Allow',
    Action: [`${svc}:Get*`, `${svc}:List*`, `${svc}:Describe*`],
    Resource: `arn:aws:${svc}:eu-west-1:${ACCOUNT}:*`,
  })),
  ...services.slice(0, 8).map((svc, i) => ({
    Sid: `Write${i}`,
    Effect: 'Allow',
    Action: [`${svc}:Put*`, `${svc}:Create*`],
    Resource: `arn:aws:${svc}:eu-west-1:${ACCOUNT}:app-*`,
    Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
  })),
  { Sid: 'DenyIamWrite', Effect: 'Deny', Action: ['iam:Create*', 'iam:Delete*', 'iam:Put*'], Resource: '*' },
  {
    Sid: 'Bucket',
    Effect: 'Allow',
    Action: 's3:GetObject',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
    Resource: 'arn:aws:s3:::acme-artifacts/${aws:PrincipalTag/team}/*',
    Condition: { Bool: { 'aws:SecureTransport': 'true' } },
  },
];
const identity = parsePolicy(
  JSON.stringify({ Version: '2012-10-17', Statement: identityStatements }),
  'identity',
  { maxSize: 100_000 },
  'inline policy Deploy of role/app',
);

interface Case {
  name: string;
  request: AuthzRequest;
  set: PolicySet;
  statements: number;
}

const cases: Case[] = [
  {
    name: 'trust policy (2 statements, OIDC web identity)',
    request: {
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: ROLE,
      principal: { type: 'Federated', ids: [PROVIDER] },
      context: {
        'app.terraform.io:aud': 'aws.workload.identity',
        'app.terraform.io:sub': 'organization:acme:project:Infra:workspace:net:run_phase:apply',
        'aws:FederatedProvider': PROVIDER,
        'aws:CurrentTime': '2026-06-01T12:00:00Z',
        'aws:SecureTransport': 'true',
        'sts:RoleSessionName': 'run-abc',
      },
    },
    set: { resource: trust, resourceAccount: ACCOUNT },
    statements: trust.statements.length,
  },
  {
    name: `identity policy (${identity.statements.length} statements)`,
    request: {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::acme-artifacts/infra/build.zip',
      principal: {
        type: 'AWS',
        ids: [`arn:aws:sts::${ACCOUNT}:assumed-role/app/s`, `arn:aws:iam::${ACCOUNT}:role/app`, ACCOUNT],
        account: ACCOUNT,
      },
      context: {
        'aws:PrincipalTag/team': 'infra',
        'aws:SecureTransport': 'true',
        'aws:RequestedRegion': 'eu-west-1',
        'aws:CurrentTime': '2026-06-01T12:00:00Z',
        'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/app`,
      },
    },
    set: { identity: [identity], resourceAccount: ACCOUNT },
    statements: identity.statements.length,
  },
];

function run(c: Case, seconds: number): { decisions: number; perSecond: number } {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) evaluate(c.request, c.set);
  let decisions = 0;
  let effect = '';
  const start = performance.now();
  const until = start + seconds * 1000;
  // Check the clock every 1000 decisions so timing stays out of the measured loop.
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) effect = evaluate(c.request, c.set).effect;
    decisions += 1000;
  }
  const elapsed = (performance.now() - start) / 1000;
  if (effect !== 'Allow') throw new Error(`${c.name}: expected Allow, got ${effect}`);
  return { decisions, perSecond: decisions / elapsed };
}

const seconds = Number(process.argv[2] ?? '2');
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`node ${process.version}, one core, ${seconds} s per case`);
for (const c of cases) {
  const r = run(c, seconds);
  console.log(
    `${c.name}: ${fmt(r.perSecond)} decisions/s, ${fmt(r.perSecond * c.statements)} statements evaluated/s`,
  );
}
