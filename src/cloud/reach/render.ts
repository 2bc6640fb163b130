// `gatepass reach` as tables: one row per subject × reached role (with the hop and the statement
// that allows it), then what each role may do, then the findings, worst first.
import type { ReachResult } from './types.js';
import { severityRank } from './types.js';

export interface ReachTables {
  edges: Record<string, string>[];
  roles: Record<string, string>[];
  findings: Record<string, string>[];
}

export function reachTables(r: ReachResult): ReachTables {
  const edges: Record<string, string>[] = [];
  for (const s of r.subjects) {
    if (s.subject.startsWith('probe ')) continue;
    if (s.edges.length === 0) edges.push({ subject: s.subject, role: '(none)' });
    for (const e of s.edges)
      edges.push({
        subject: s.subject,
        role: e.to,
        via: e.depth === 1 ? 'web identity' : e.from,
        depth: String(e.depth),
        session: `${e.maxSessionSeconds}s${e.chainCapped ? ' (chain cap)' : ''}`,
        'allowed by': e.allowedBy.map((a) => `${a.policy} ${a.sid ?? `#${a.index}`}`).join(' + '),
      });
  }
  const roles = r.roles.map((role) => ({
    role: role.arn,
    account: role.accountName ?? role.account,
    'may do':
      role.actions
        .map((a) => (a.allowed ? a.action : `${a.action} (denied by ${a.deniedByPolicy ?? a.deniedBy})`))
        .join(', ') || '(nothing)',
  }));
  const findings = [...r.findings]
    .sort((a, b) => severityRank(b.severity) - severityRank(a.severity))
    .map((f) => ({ severity: f.severity.toUpperCase(), rule: f.rule, role: f.role, finding: f.message }));
  return { edges, roles, findings };
}
