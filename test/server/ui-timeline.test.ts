// A run's timeline from its records (pure): tokens by configuration, sessions with the
// configuration of the token they came from (a chained one too), when a revocation covered each
// (the run's, its phase's only for that phase, a role's only for sessions issued before it), and
// refusals split into uses after revocation and other denials. Another run's revocation covers nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runTimeline } from '../../src/server/ui/timeline.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import type { MintRecord, RunRecord } from '../../src/store/records/platform.js';
import { type RevocationRecord, runRevocationRecord } from '../../src/store/records/sessions.js';

const ISS = 'https://gatepass.example';
const HUB = 'arn:aws:iam::111111111111:role/hub-plan';
const MEMBER = 'arn:aws:iam::222222222222:role/deploy';
const T = 1_800_000_000_000;

const run: RunRecord = {
  id: 'run-1',
  orgId: 'org-1',
  workspaceId: 'ws-1',
  status: 'open',
  phases: { plan: { status: 'running', startedAt: T }, apply: { status: 'pending' } },
  createdAt: T - 1000,
  openedBy: 'adm',
};

const mint = (id: string, phase: 'plan' | 'apply', tag: string, at: number): MintRecord => ({
  id,
  runId: 'run-1',
  orgId: 'org-1',
  workspaceId: 'ws-1',
  phase,
  tag,
  aud: 'aws.workload.identity',
  kid: 'k',
  iat: Math.floor(at / 1000),
  exp: Math.floor(at / 1000) + 3600,
  sub: `organization:acme:project:Infra:workspace:net:run_phase:${phase}`,
});

const issued = (
  requestId: string,
  time: number,
  jti: string,
  extra: Partial<AuditEvent> = {},
): AuditEvent => ({
  time,
  requestId,
  action: 'sts:AssumeRoleWithWebIdentity',
  decision: 'allow',
  roleArn: HUB,
  accountId: '111111111111',
  accessKeyId: `ASIA${requestId.toUpperCase()}`,
  jti,
  runId: 'run-1',
  ...extra,
});

const events: AuditEvent[] = [
  issued('a', T + 100, 'jti-default'),
  issued('b', T + 200, 'jti-prod'),
  issued('c', T + 300, 'jti-default', {
    action: 'sts:AssumeRole',
    roleArn: MEMBER,
    accountId: '222222222222',
    sessionId: 'sid-a',
    detail: { chainDepth: 2 },
  }),
  issued('d', T + 400, 'jti-apply', { sub: 'organization:acme:project:Infra:workspace:net:run_phase:apply' }),
  {
    time: T + 2000,
    requestId: 'after',
    action: 'sts:GetCallerIdentity',
    decision: 'deny',
    reasonCode: 'InvalidClientTokenId',
    accessKeyId: 'ASIAA',
    sessionId: 'sid-a',
    runId: 'run-1',
    phase: 'plan',
    detail: {
      refusal: {
        kind: 'revoked',
        scope: 'phase',
        subject: 'run-1',
        phase: 'plan',
        revokedAt: T + 1000,
        reason: 'plan phase ended',
      },
      explanation: 'the session was revoked with its run',
    },
  },
  {
    time: T + 150,
    requestId: 'wrong-role',
    action: 'sts:AssumeRoleWithWebIdentity',
    decision: 'deny',
    reasonCode: 'AccessDenied',
    runId: 'run-1',
    roleArn: MEMBER,
    detail: { message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity' },
  },
];

const revocations: RevocationRecord[] = [
  runRevocationRecord({ issuer: ISS, runId: 'run-1', phase: 'plan' }, T + 1000, 'plan phase ended'),
  runRevocationRecord({ issuer: ISS, runId: 'run-other' }, T + 50, 'run ended'),
  {
    id: `role:${MEMBER}`,
    scope: 'role',
    subject: MEMBER,
    issuedBefore: T + 350,
    createdAt: T + 1500,
    expiresAt: T + 99_000_000,
    reason: 'incident',
  },
];

test('a run’s timeline: configurations, chained sessions, the revocation that covered each session, and uses after revocation apart from other denials', () => {
  const t = runTimeline({
    run,
    organization: 'acme',
    workspace: 'net',
    mints: [
      mint('jti-prod', 'plan', 'prod', T + 5000),
      mint('jti-default', 'plan', '', T),
      mint('jti-apply', 'apply', '', T + 6000),
    ],
    events,
    revocations,
  });
  assert.deepEqual(
    t.tokens.map((k) => [k.jti, k.configuration, k.phase]),
    [
      ['jti-default', '', 'plan'],
      ['jti-prod', 'prod', 'plan'],
      ['jti-apply', '', 'apply'],
    ],
  );
  assert.deepEqual(
    t.sessions.map((s) => [s.requestId, s.call, s.configuration, s.phase, s.revokedAt, s.revokedBy]),
    [
      ['a', 'AssumeRoleWithWebIdentity', '', 'plan', T + 1000, 'phase plan: plan phase ended'],
      ['b', 'AssumeRoleWithWebIdentity', 'prod', 'plan', T + 1000, 'phase plan: plan phase ended'],
      ['c', 'AssumeRole', '', 'plan', T + 1000, 'phase plan: plan phase ended'],
      // The apply session: not covered by the plan phase's revocation, nor by another run's.
      ['d', 'AssumeRoleWithWebIdentity', '', 'apply', undefined, undefined],
    ],
  );
  assert.equal(t.sessions[2]?.fromSessionId, 'sid-a');
  assert.equal(t.sessions[2]?.chainDepth, 2);
  assert.deepEqual(t.revocations, [
    { time: T + 1000, scope: 'phase', phase: 'plan', reason: 'plan phase ended' },
  ]);
  assert.deepEqual(
    t.afterRevocation.map((r) => [r.requestId, r.accessKeyId, r.revokedAt, r.explanation]),
    [['after', 'ASIAA', T + 1000, 'the session was revoked with its run']],
  );
  assert.deepEqual(
    t.denials.map((r) => [r.requestId, r.reasonCode, r.roleArn]),
    [['wrong-role', 'AccessDenied', MEMBER]],
  );
  assert.deepEqual(
    t.run.phases.map((p) => [p.phase, p.status]),
    [
      ['plan', 'running'],
      ['apply', 'pending'],
    ],
  );
});

test('a role revocation covers only the sessions of that role issued before its cut-off', () => {
  const t = runTimeline({
    run,
    organization: 'acme',
    workspace: 'net',
    mints: [mint('jti-default', 'plan', '', T)],
    events: [
      issued('early', T + 100, 'jti-default', { roleArn: MEMBER }),
      issued('late', T + 400, 'jti-default', { roleArn: MEMBER }),
      issued('other-role', T + 100, 'jti-default'),
    ],
    revocations: revocations.filter((r) => r.scope === 'role'),
  });
  assert.deepEqual(
    t.sessions.map((s) => [s.requestId, s.revokedBy]),
    [
      ['early', 'role: incident'],
      ['other-role', undefined],
      ['late', undefined],
    ],
  );
});
