// Findings on a reachability result: plan phases reaching roles an apply phase uses, roles shared
// between workspaces, trusts that admit made-up neighbours of known subjects (any phase, any
// workspace, another organization), trusts that admit a whole account, and roles nobody reaches.
import { accountRootArn, assumedRoleArn } from '../../core/arn.js';
import { evaluate } from '../../core/policy/index.js';
import type { StsDeps } from '../sts/deps.js';
import type { ReachFinding, ReachResult, ReachSubject, Severity } from './types.js';

const PROBE_ROLE = 'gatepass-reach-probe';
const ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}';

const workspaceKey = (s: ReachSubject): string =>
  s.workspace ? `${s.workspace.organization}/${s.workspace.project}/${s.workspace.workspace}` : s.label;

const PROBE_RULE = {
  phase: ['trust-admits-any-phase', 'medium'],
  workspace: ['trust-admits-any-workspace', 'high'],
  project: ['trust-admits-any-workspace', 'high'],
  organization: ['trust-admits-other-organization', 'critical'],
} as const satisfies Record<NonNullable<ReachSubject['probe']>, readonly [ReachFinding['rule'], Severity]>;

const PROBE_TEXT = {
  phase: (s: ReachSubject) => `any run phase of ${workspaceKey(s)}`,
  workspace: (s: ReachSubject) =>
    `any workspace of project ${s.workspace?.project} of organization ${s.workspace?.organization}`,
  project: (s: ReachSubject) => `any workspace of organization ${s.workspace?.organization}`,
  organization: (s: ReachSubject) => `organizations other than the one it names (${s.sub})`,
} as const;

export async function findingsOf(
  deps: StsDeps,
  subjects: readonly ReachSubject[],
  result: ReachResult,
): Promise<ReachFinding[]> {
  const byLabel = new Map(subjects.map((s) => [s.label, s]));
  const out: ReachFinding[] = [];
  const real = result.subjects.filter((r) => !byLabel.get(r.subject)?.probe);

  for (const role of result.roles) {
    const reachers = real.filter((r) => r.roles.includes(role.arn)).map((r) => byLabel.get(r.subject));
    const plans = reachers.filter((s) => s?.phase === 'plan').map((s) => s?.label ?? '');
    const applies = reachers.filter((s) => s?.phase === 'apply').map((s) => s?.label ?? '');
    if (plans.length > 0 && applies.length > 0)
      out.push({
        rule: 'plan-reaches-apply-role',
        severity: 'high',
        role: role.arn,
        message: `plan phase ${plans.join(', ')} reaches a role the apply phase ${applies.join(', ')} uses`,
        subjects: [...new Set([...plans, ...applies])],
      });
    const workspaces = [...new Set(reachers.map((s) => (s ? workspaceKey(s) : '')))];
    if (workspaces.length > 1)
      out.push({
        rule: 'cross-workspace',
        severity: 'high',
        role: role.arn,
        message: `reached by ${workspaces.length} workspaces or subjects: ${workspaces.join(', ')}`,
        subjects: reachers.map((s) => s?.label ?? ''),
      });
  }

  // Probes: only what a trust admits directly (web identity edges) counts.
  const probeHits = new Map<string, ReachFinding>();
  for (const r of result.subjects) {
    const s = byLabel.get(r.subject);
    if (!s?.probe) continue;
    for (const e of r.edges) {
      if (e.depth !== 1) continue;
      const [rule, severity] = PROBE_RULE[s.probe];
      const key = `${rule}\u0000${e.to}`;
      const found = probeHits.get(key);
      if (found) {
        found.subjects?.push(s.sub);
        continue;
      }
      const by = e.allowedBy[0];
      probeHits.set(key, {
        rule,
        severity,
        role: e.to,
        message: `its trust admits ${PROBE_TEXT[s.probe](s)}${by ? ` (statement ${by.sid ?? `#${by.index}`}: ${by.conditions.join('; ') || 'no conditions'})` : ''}`,
        subjects: [s.sub],
      });
    }
  }
  out.push(...probeHits.values());

  out.push(...(await wholeAccountTrusts(deps, result)));

  for (const role of result.roles)
    if (role.reachedBy.length === 0)
      out.push({
        rule: 'unreachable-role',
        severity: 'info',
        role: role.arn,
        message: 'no subject considered reaches it',
      });
  return out;
}

/**
 * Trusts that let any principal of an account in (the account root, `*`): a made-up role there with
 * every permission would be admitted, so whoever may create or edit roles there can reach it.
 */
async function wholeAccountTrusts(deps: StsDeps, result: ReachResult): Promise<ReachFinding[]> {
  const accounts = await deps.store.list('account');
  const hubs = new Set((await deps.store.list('oidcProvider')).map((p) => p.accountId));
  const allowAll = deps.authorizer.policy(ALLOW_ALL, 'identity', 'every permission (reach probe)');
  const out: ReachFinding[] = [];
  for (const summary of result.roles) {
    const role = await deps.store.getBy('role', 'arn', summary.arn);
    if (!role) continue;
    const trust = deps.authorizer.policy(
      role.trustPolicy,
      'trust',
      `trust policy of role${role.path}${role.name}`,
    );
    for (const account of accounts) {
      const probeRole = `arn:aws:iam::${account.id}:role/${PROBE_ROLE}`;
      const probeSession = assumedRoleArn(account.id, PROBE_ROLE, 'gatepass-reach');
      const d = evaluate(
        {
          action: 'sts:AssumeRole',
          resource: role.arn,
          principal: {
            type: 'AWS',
            ids: [probeSession, probeRole, account.id, accountRootArn(account.id)],
            account: account.id,
          },
          context: {
            'aws:PrincipalAccount': account.id,
            'aws:PrincipalArn': probeRole,
            'aws:PrincipalType': 'AssumedRole',
          },
        },
        { identity: [allowAll], resource: trust, resourceAccount: role.accountId, principalIsSession: true },
      );
      if (d.effect !== 'Allow') continue;
      const hub = hubs.has(account.id);
      out.push({
        rule: 'trust-admits-whole-account',
        severity: hub ? 'high' : 'medium',
        role: role.arn,
        message: `its trust admits any role of account ${account.name} (${account.id})${hub ? ', which holds an OIDC provider: any web identity role there can be given a way in' : ''}`,
      });
    }
  }
  return out;
}
