// Property tests: explicit deny always wins, adding an Allow never takes an Allow away, evaluation is
// deterministic, and the parser throws nothing but PolicyValidationError on arbitrary input.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type AuthzRequest,
  evaluate,
  type Policy,
  type PolicyKind,
  type PolicySet,
  PolicyValidationError,
  parsePolicy,
} from '../../src/core/policy/index.js';
import { parseDocument } from '../../src/core/policy/parse.js';

const A = '111111111111';
const B = '222222222222';

const actions = ['s3:GetObject', 's3:PutObject', 'sts:AssumeRole', 'iam:CreateUser'];
const actionPatterns = ['*', 's3:*', 's3:Get*', 'sts:AssumeRole', 'iam:*', 's3:?utObject'];
const resources = [`arn:aws:s3:::bucket/key`, `arn:aws:iam::${A}:role/target`, `arn:aws:s3:::other/x`];
const resourcePatterns = [
  '*',
  'arn:aws:s3:::bucket/*',
  `arn:aws:iam::${A}:role/*`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
  'arn:aws:s3:::${aws:PrincipalTag/team}/*',
];
const principals = [
  '*',
  { AWS: A },
  { AWS: `arn:aws:iam::${B}:role/app` },
  { AWS: `arn:aws:iam::${A}:user/alice` },
];

const conditionArb = fc.constantFrom<Record<string, Record<string, string | string[]>> | undefined>(
  undefined,
  undefined,
  undefined,
  undefined,
  { StringEquals: { 'aws:PrincipalTag/team': 'infra' } },
  { StringNotEquals: { 'aws:PrincipalTag/team': 'ops' } },
  { StringLikeIfExists: { 'aws:PrincipalTag/env': 'prod*' } },
  { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
  { 'ForAnyValue:StringLike': { 'aws:TagKeys': 'te*' } },
  { Bool: { 'aws:SecureTransport': 'true' } },
  { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
  { DateLessThan: { 'aws:CurrentTime': '2026-06-01T00:00:00Z' } },
  { Null: { 'aws:TokenIssueTime': 'false' } },
);

const statementArb = (kind: PolicyKind) =>
  fc
    .record({
      // Mostly Allow, so that a good share of random sets allow the request at all.
      effect: fc.constantFrom('Allow', 'Allow', 'Allow', 'Allow', 'Allow', 'Deny'),
      action: fc.constantFrom(...actionPatterns),
      not: fc.constantFrom(false, false, false, true),
      resource: fc.constantFrom(...resourcePatterns),
      principal: fc.constantFrom(...principals),
      condition: conditionArb,
    })
    .map((s) => {
      const out: Record<string, unknown> = { Effect: s.effect, [s.not ? 'NotAction' : 'Action']: s.action };
      if (kind !== 'trust') out.Resource = s.resource;
      if (kind === 'trust' || kind === 'resource') out.Principal = s.principal;
      if (kind === 'rcp') out.Principal = '*';
      if (s.condition) out.Condition = s.condition;
      return out;
    });

/** A random valid policy; `permissive` usually starts it with a catch-all Allow so sets often allow. */
const policyArb = (kind: PolicyKind, permissive = false) =>
  fc
    .tuple(
      fc.array(statementArb(kind), { minLength: 0, maxLength: 4 }),
      permissive ? fc.constantFrom(true, true, true, false) : fc.constant(false),
    )
    .map(([statements, open]) => {
      const all: Record<string, unknown> = { Effect: 'Allow', Action: '*' };
      if (kind !== 'trust') all.Resource = '*';
      if (kind === 'trust' || kind === 'resource' || kind === 'rcp') all.Principal = '*';
      const list = open ? [all, ...statements] : statements;
      return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: list }), kind);
    });

const levelsArb = (kind: 'scp' | 'rcp', permissive: boolean) =>
  fc.option(
    fc.array(fc.array(policyArb(kind, permissive), { minLength: permissive ? 1 : 0, maxLength: 2 }), {
      minLength: 1,
      maxLength: 3,
    }),
    {
      nil: undefined,
    },
  );

const setArbOf = (permissive: boolean): fc.Arbitrary<PolicySet> =>
  fc
    .record({
      identity: fc.option(
        fc.array(policyArb('identity', permissive), { minLength: permissive ? 1 : 0, maxLength: 3 }),
        {
          nil: undefined,
        },
      ),
      boundary: fc.option(policyArb('boundary', permissive), { nil: undefined }),
      session: fc.option(
        fc.array(policyArb('session', permissive), { minLength: permissive ? 1 : 0, maxLength: 2 }),
        {
          nil: undefined,
        },
      ),
      scp: levelsArb('scp', permissive),
      rcp: levelsArb('rcp', permissive),
      resource: fc.option(fc.oneof(policyArb('trust', permissive), policyArb('resource', permissive)), {
        nil: undefined,
      }),
      resourceAccount: fc.constantFrom(A, B),
      principalIsSession: fc.boolean(),
    })
    .map((r) => {
      const set: { -readonly [K in keyof PolicySet]: PolicySet[K] } = {};
      for (const [k, v] of Object.entries(r)) if (v !== undefined) (set as Record<string, unknown>)[k] = v;
      return set;
    });

const setArb = setArbOf(false);
/** Sets that allow often enough for "never turns an Allow into a deny" to be tested, not vacuous. */
const permissiveSetArb = setArbOf(true);

const requestArb: fc.Arbitrary<AuthzRequest> = fc
  .record({
    action: fc.constantFrom(...actions),
    resource: fc.constantFrom(...resources),
    account: fc.constantFrom(A, B),
    team: fc.option(fc.constantFrom('infra', 'ops', 'bucket'), { nil: undefined }),
    tagKeys: fc.option(fc.subarray(['team', 'env', 'cost']), { nil: undefined }),
    secure: fc.constantFrom('true', 'false'),
    ip: fc.constantFrom('10.1.2.3', '192.168.1.1'),
    time: fc.constantFrom('2026-01-01T00:00:00Z', '2026-12-01T00:00:00Z'),
  })
  .map((r) => {
    const context: Record<string, string | string[]> = {
      'aws:SecureTransport': r.secure,
      'aws:SourceIp': r.ip,
      'aws:CurrentTime': r.time,
    };
    if (r.team !== undefined) context['aws:PrincipalTag/team'] = r.team;
    if (r.tagKeys !== undefined) context['aws:TagKeys'] = r.tagKeys;
    return {
      action: r.action,
      resource: r.resource,
      principal: {
        type: 'AWS',
        ids: [
          `arn:aws:iam::${r.account}:role/app`,
          `arn:aws:sts::${r.account}:assumed-role/app/s`,
          r.account,
        ],
        account: r.account,
      },
      context,
    };
  });

const withStatement = (p: Policy, st: Policy['statements'][number]): Policy => ({
  ...p,
  statements: [...p.statements, { ...st, index: p.statements.length }],
});

const layerNames = ['identity', 'boundary', 'session', 'scp', 'rcp', 'resource'] as const;

/** Add a statement to one existing policy of the chosen layer (or a new identity policy). */
function addStatement(
  set: PolicySet,
  layer: (typeof layerNames)[number],
  make: (kind: PolicyKind) => Policy['statements'][number],
): PolicySet {
  switch (layer) {
    case 'boundary':
      if (set.boundary) return { ...set, boundary: withStatement(set.boundary, make('boundary')) };
      break;
    case 'session':
      if (set.session?.[0])
        return { ...set, session: [withStatement(set.session[0], make('session')), ...set.session.slice(1)] };
      break;
    case 'scp':
    case 'rcp': {
      const levels = set[layer];
      const first = levels?.[0]?.[0];
      if (levels && first)
        return {
          ...set,
          [layer]: [[withStatement(first, make(layer)), ...(levels[0] ?? []).slice(1)], ...levels.slice(1)],
        };
      break;
    }
    case 'resource':
      if (set.resource) return { ...set, resource: withStatement(set.resource, make(set.resource.kind)) };
      break;
    default:
      break;
  }
  const base = set.identity?.[0] ?? parsePolicy('{"Version":"2012-10-17","Statement":[]}', 'identity');
  return { ...set, identity: [withStatement(base, make('identity')), ...(set.identity ?? []).slice(1)] };
}

const catchAll =
  (effect: 'Allow' | 'Deny') =>
  (kind: PolicyKind): Policy['statements'][number] => ({
    index: 0,
    effect,
    action: ['*'],
    ...(kind === 'trust' ? {} : { resource: ['*'] }),
    ...(kind === 'trust' || kind === 'resource' || kind === 'rcp' ? { principal: '*' as const } : {}),
    condition: [],
  });

test('an explicit deny always wins: a matching Deny in any layer makes the decision ExplicitDeny', () => {
  fc.assert(
    fc.property(requestArb, setArb, fc.constantFrom(...layerNames), (request, set, layer) => {
      const d = evaluate(request, addStatement(set, layer, catchAll('Deny')));
      assert.equal(d.effect, 'ExplicitDeny');
      assert.ok(d.layer !== null && d.layers.some((l) => l.layer === d.layer && l.outcome === 'deny'));
    }),
    { numRuns: 500 },
  );
});

test('a decision is ExplicitDeny exactly when some Deny statement matched', () => {
  fc.assert(
    fc.property(requestArb, setArb, (request, set) => {
      const d = evaluate(request, set);
      const denied = d.layers.some((l) => l.statements.some((s) => s.matched && s.effect === 'Deny'));
      assert.equal(d.effect === 'ExplicitDeny', denied);
    }),
    { numRuns: 1000 },
  );
});

test('adding an Allow statement anywhere never turns an Allow into a deny', () => {
  let allowed = 0;
  const extra = fc.tuple(statementArb('identity'), fc.constantFrom(...layerNames));
  fc.assert(
    fc.property(requestArb, permissiveSetArb, extra, (request, set, [raw, layer]) => {
      if (evaluate(request, set).effect !== 'Allow') return;
      allowed++;
      const allow = (kind: PolicyKind) => {
        const doc = { ...raw, Effect: 'Allow' } as Record<string, unknown>;
        if (kind === 'trust') delete doc.Resource;
        else doc.Resource ??= '*';
        if (kind === 'trust' || kind === 'resource' || kind === 'rcp') doc.Principal = '*';
        const parsed = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [doc] }), kind)
          .statements[0];
        assert.ok(parsed);
        return parsed;
      };
      assert.equal(evaluate(request, addStatement(set, layer, allow)).effect, 'Allow');
    }),
    { numRuns: 2000 },
  );
  // The property is vacuous for denied sets: make sure enough generated sets allowed.
  assert.ok(allowed >= 50, `only ${allowed} generated sets allowed the request`);
});

test('adding a catch-all Allow to identity policies never turns an Allow into a deny', () => {
  let allowed = 0;
  fc.assert(
    fc.property(requestArb, permissiveSetArb, (request, set) => {
      if (evaluate(request, set).effect !== 'Allow') return;
      allowed++;
      assert.equal(evaluate(request, addStatement(set, 'identity', catchAll('Allow'))).effect, 'Allow');
    }),
    { numRuns: 2000 },
  );
  assert.ok(allowed >= 50, `only ${allowed} generated sets allowed the request`);
});

test('evaluation is deterministic and does not depend on object identity', () => {
  fc.assert(
    fc.property(requestArb, setArb, (request, set) => {
      const first = evaluate(request, set);
      const again = evaluate(request, set);
      const cloned = evaluate(structuredClone(request), structuredClone(set));
      assert.deepEqual(again, first);
      assert.deepEqual(cloned, first);
    }),
    { numRuns: 300 },
  );
});

const kinds: PolicyKind[] = ['identity', 'resource', 'trust', 'boundary', 'session', 'scp', 'rcp'];
const fields = [
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
];

/** Documents shaped like policies, with arbitrary values where the grammar expects specific ones. */
const policyish = fc.record(
  {
    Version: fc.oneof(fc.constantFrom('2012-10-17', '2008-10-17'), fc.jsonValue()),
    Id: fc.jsonValue(),
    Statement: fc.oneof(
      fc.jsonValue(),
      fc.array(
        fc.dictionary(
          fc.constantFrom(...fields),
          fc.oneof(
            fc.jsonValue(),
            fc.constantFrom(
              '*',
              'Allow',
              'Deny',
              's3:*',
              'arn:aws:s3:::b/*',
              { AWS: '*' },
              { Federated: 'x' },
            ),
            fc.dictionary(
              fc.constantFrom(
                'StringLike',
                'ForAnyValue:StringEquals',
                'Null',
                'IpAddress',
                'DateLessThan',
                'Bogus',
                'AWS',
              ),
              fc.oneof(
                fc.jsonValue(),
                fc.dictionary(fc.constantFrom('aws:SourceIp', 'x', 'a:b'), fc.jsonValue()),
              ),
            ),
          ),
        ),
        { maxLength: 3 },
      ),
    ),
  },
  { requiredKeys: [] },
);

test('the parser throws only PolicyValidationError on arbitrary input', () => {
  // parseDocument is the parser without parsePolicy's catch-all, so a crash would surface here.
  const check = (text: string, kind: PolicyKind): void => {
    try {
      parseDocument(text, kind, {});
    } catch (err) {
      assert.ok(err instanceof PolicyValidationError, `threw ${String(err)}`);
      assert.ok(err.code === 'MalformedPolicyDocument' || err.code === 'LimitExceeded');
    }
  };
  fc.assert(
    fc.property(
      fc.oneof(
        fc.json(),
        fc.string(),
        policyish.map((d) => JSON.stringify(d)),
      ),
      fc.constantFrom(...kinds),
      check,
    ),
    { numRuns: 3000 },
  );
});
