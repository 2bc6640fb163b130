// `gatepass reach` as text: one line per subject × reached role (with the hop and the statement that
// allows it), then what each role may do, then the findings, worst first.
import type { ReachResult } from './types.js';
import { severityRank } from './types.js';

export function renderReach(r: ReachResult): string[] {
  const lines: string[] = ['SUBJECT  ROLE  VIA  DEPTH  MAX-SESSION  ALLOWED BY'];
  for (const s of r.subjects) {
    if (s.subject.startsWith('probe ')) continue;
    if (s.edges.length === 0) lines.push(`${s.subject}  (nothing)`);
    for (const e of s.edges) {
      const by = e.allowedBy.map((a) => `${a.policy}${a.sid ? ` ${a.sid}` : ` #${a.index}`}`).join(' + ');
      const via = e.depth === 1 ? 'web identity' : `from ${e.from}`;
      lines.push(
        `${s.subject}  ${e.to}  ${via}  ${e.depth}  ${e.maxSessionSeconds}s${e.chainCapped ? ' (chain cap)' : ''}  ${by}`,
      );
    }
  }
  lines.push('', 'ROLE  ACCOUNT  MAY DO');
  for (const role of r.roles) {
    const may = role.actions.map((a) =>
      a.allowed ? a.action : `${a.action} (denied by ${a.deniedByPolicy ?? a.deniedBy})`,
    );
    lines.push(`${role.arn}  ${role.accountName ?? role.account}  ${may.join(', ') || '(nothing)'}`);
  }
  const findings = [...r.findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  lines.push('', findings.length === 0 ? 'No findings.' : 'FINDINGS');
  for (const f of findings) lines.push(`${f.severity.toUpperCase()}  ${f.rule}  ${f.role}: ${f.message}`);
  return lines;
}
