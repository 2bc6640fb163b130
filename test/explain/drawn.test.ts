// Decisions drawn for the operator UI, from real engine decisions (evaluate, then storedTrace and
// drawDecision): the layers in the order a request meets them as pass/fail steps, the deciding
// statement with each condition's expected and presented values; and a trace a client sends back
// is checked field by field (a malformed one names its field, a real one comes back unchanged).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawDecision } from '../../src/cloud/explain/drawn.js';
import { parseTrace, TraceInputError } from '../../src/cloud/explain/trace-input.js';
import { evaluate, parsePolicy } from '../../src/core/policy/index.js';
import { storedTrace } from '../../src/core/policy/stored-trace.js';

const ACCOUNT = '111111111111';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/net-apply`;
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/gatepass.example`;
const SUB = 'organization:acme:project:Infra:workspace:net:run_phase:';

const policy = (kind: 'trust' | 'identity' | 'scp', statements: unknown[]) =>
  parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), kind);

function webIdentity(phase: string) {
  const trust = policy('trust', [
    {
      Sid: 'ApplyOnly',
      Effect: 'Allow',
      Principal: { Federated: PROVIDER },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'gatepass.example:aud': 'aws.workload.identity',
          'gatepass.example:sub': `${SUB}apply`,
        },
      },
    },
  ]);
  return storedTrace(
    evaluate(
      {
        action: 'sts:AssumeRoleWithWebIdentity',
        resource: ROLE,
        principal: { type: 'Federated', ids: [PROVIDER] },
        context: {
          'gatepass.example:sub': `${SUB}${phase}`,
          'gatepass.example:aud': 'aws.workload.identity',
        },
      },
      { resource: trust, resourceAccount: ACCOUNT },
    ),
  );
}

function chainedDeniedBySCP() {
  const caller = `arn:aws:sts::${ACCOUNT}:assumed-role/hub/run`;
  const target = 'arn:aws:iam::222222222222:role/break-glass';
  return storedTrace(
    evaluate(
      {
        action: 'sts:AssumeRole',
        resource: target,
        principal: { type: 'AWS', ids: [caller], account: ACCOUNT },
        context: {},
      },
      {
        identity: [policy('identity', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }])],
        scp: [
          [
            policy('scp', [
              { Sid: 'NoBreakGlass', Effect: 'Deny', Action: 'sts:AssumeRole', Resource: target },
              { Effect: 'Allow', Action: '*', Resource: '*' },
            ]),
          ],
        ],
        resource: policy('trust', [
          { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
        ]),
        resourceAccount: '222222222222',
        principalIsSession: true,
      },
    ),
  );
}

test('a wrong-phase token: the trust policy step fails and decides; its statement shows the sub expected and presented side by side', () => {
  const d = drawDecision(webIdentity('plan'));
  assert.equal(d.effect, 'ImplicitDeny');
  assert.equal(d.decidingLayer, 'trust policy');
  assert.deepEqual(
    d.steps.map((s) => s.layer),
    ['scp', 'rcp', 'identity', 'boundary', 'session', 'resource'],
    'guard rails, the caller’s policies, then the target’s',
  );
  const trust = d.steps.find((s) => s.layer === 'resource');
  assert.deepEqual([trust?.name, trust?.outcome, trust?.deciding], ['trust policy', 'fail', true]);
  assert.equal(d.steps.filter((s) => s.deciding).length, 1);
  assert.equal(d.steps.find((s) => s.layer === 'identity')?.outcome, 'skipped');
  assert.equal(d.statement?.sid, 'ApplyOnly');
  assert.equal(d.statement?.reason, 'condition');
  const sub = d.statement?.conditions.find((c) => c.key.endsWith(':sub'));
  assert.deepEqual([sub?.matched, sub?.expected, sub?.presented], [false, [`${SUB}apply`], [`${SUB}plan`]]);
  assert.equal(d.statement?.conditions.find((c) => c.key.endsWith(':aud'))?.matched, true);
  assert.match(d.why, /trust policy/);
});

test('an allowed token: every evaluated step passes, none decides, and the allowing trust statement is the one shown', () => {
  const d = drawDecision(webIdentity('apply'));
  assert.equal(d.effect, 'Allow');
  assert.equal(d.decidingLayer, null);
  assert.ok(
    d.steps.every((s) => !s.deciding && s.outcome !== 'fail'),
    JSON.stringify(d.steps),
  );
  assert.equal(d.steps.find((s) => s.layer === 'resource')?.outcome, 'pass');
  assert.deepEqual([d.statement?.sid, d.statement?.matched], ['ApplyOnly', true]);
});

test('a chained hop denied by an SCP: the SCP step fails and decides, shown with its Deny statement; the caller’s identity policy passes', () => {
  const d = drawDecision(chainedDeniedBySCP());
  assert.equal(d.effect, 'ExplicitDeny');
  const scp = d.steps.find((s) => s.layer === 'scp');
  assert.deepEqual([scp?.outcome, scp?.deciding], ['fail', true]);
  assert.equal(d.steps.find((s) => s.layer === 'identity')?.outcome, 'pass');
  assert.deepEqual(
    [d.statement?.layer, d.statement?.sid, d.statement?.effect],
    ['scp', 'NoBreakGlass', 'Deny'],
  );
});

test('a trace sent back by a client is read field by field: a real one round-trips unchanged, a malformed one names the field', () => {
  for (const t of [webIdentity('plan'), webIdentity('apply'), chainedDeniedBySCP()])
    assert.deepEqual(parseTrace(JSON.parse(JSON.stringify(t))), t);
  const good = JSON.parse(JSON.stringify(webIdentity('plan'))) as Record<string, unknown>;
  const layers = good.layers as Record<string, unknown>[];
  const cases: [unknown, string][] = [
    [undefined, 'trace'],
    ['text', 'trace'],
    [{ ...good, effect: 'Maybe' }, 'trace.effect'],
    [{ ...good, layer: 'kernel' }, 'trace.layer'],
    [{ ...good, action: 7 }, 'trace.action'],
    [{ ...good, resource: 'x'.repeat(5000) }, 'trace.resource'],
    [{ ...good, principal: { type: 1 } }, 'trace.principal'],
    [{ ...good, layers: {} }, 'trace.layers'],
    [{ ...good, layers: [{ ...layers[0], outcome: 'perhaps' }] }, 'trace.layers[0].outcome'],
    [
      {
        ...good,
        layers: [
          {
            layer: 'resource',
            outcome: 'deny',
            statements: [{ policy: 'p', index: -1, effect: 'Allow', matched: true, conditions: [] }],
          },
        ],
      },
      'trace.layers[0].statements[0].index',
    ],
    [
      {
        ...good,
        layers: [
          {
            layer: 'resource',
            outcome: 'deny',
            statements: [
              {
                policy: 'p',
                index: 0,
                effect: 'Allow',
                matched: true,
                conditions: [
                  { operator: 'StringEquals', key: 'k', expected: [1], presented: null, matched: false },
                ],
              },
            ],
          },
        ],
      },
      'trace.layers[0].statements[0].conditions[0].expected',
    ],
    [{ ...good, layers: Array.from({ length: 501 }, () => layers[0]) }, 'trace.layers'],
  ];
  for (const [input, field] of cases) {
    assert.throws(
      () => parseTrace(input),
      (e: unknown) => e instanceof TraceInputError && e.field === field,
      field,
    );
  }
});
