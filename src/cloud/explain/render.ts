// Text for the explain and simulate results (the JSON forms are the result objects themselves).

import type { StoredTrace } from '../../core/policy/stored-trace.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { MessageExplanation, RequestExplanation } from './request.js';
import type { SimResult, SimStep } from './simulate.js';
import { decisionStory } from './story.js';

const FACTS: readonly (keyof AuditEvent)[] = [
  'caller',
  'resource',
  'roleArn',
  'sub',
  'aud',
  'jti',
  'runId',
  'phase',
  'workspaceId',
  'sessionId',
  'accessKeyId',
  'sourceIp',
];

const VERDICTS: Readonly<Record<string, string>> = {
  allow: 'ALLOWED',
  deny: 'DENIED',
  error: 'FAILED',
  info: 'RECORDED',
};

const warningLine = (w: string): string => `  warning: allowed, but the trust policy is too open: ${w}`;

const indent = (lines: readonly string[], by = '  '): string[] => lines.map((l) => `${by}${l}`);

function traceBlock(trace: StoredTrace | undefined, hints: readonly string[]): string[] {
  const lines = trace ? indent(decisionStory(trace)) : [];
  for (const h of hints) lines.push(`  fix: ${h}`);
  return lines;
}

export function renderRequest(r: RequestExplanation): string[] {
  const lines: string[] = [];
  for (const { event: e, trace, hints, recomputed, warnings } of r.events) {
    const code = e.reasonCode ? ` (${e.reasonCode})` : '';
    lines.push(
      `request ${e.requestId}: ${e.action} ${VERDICTS[e.decision] ?? e.decision}${code} at ${new Date(e.time).toISOString()}`,
    );
    for (const k of FACTS) {
      const v = e[k];
      if (v !== undefined) lines.push(`  ${k}: ${String(v)}`);
    }
    // The decision summary is the story below; the denied action only when it is not the event's.
    const { trace: _t, explanation, decision: _d, deniedAction, ...rest } = e.detail ?? {};
    if (deniedAction !== undefined && deniedAction !== e.action)
      lines.push(`  deniedAction: ${String(deniedAction)}`);
    for (const [k, v] of Object.entries(rest))
      lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    if (recomputed) lines.push(`  (${recomputed})`);
    for (const w of warnings ?? []) lines.push(warningLine(w));
    if (trace) lines.push(...traceBlock(trace, hints));
    else if (hints.length > 0) for (const h of hints) lines.push(`  fix: ${h}`);
    else if (typeof explanation === 'string') lines.push(`  why: ${explanation}`);
    else if (e.decision === 'allow' && !recomputed)
      lines.push('  (allowed requests keep no trace; `gatepass simulate` shows the granting statements)');
  }
  return lines;
}

export function renderMessage(m: MessageExplanation): string[] {
  const lines: string[] = [];
  if (typeof m.message.requestId === 'string') lines.push(`request ${m.message.requestId}`);
  if (m.trace) lines.push(...traceBlock(m.trace, m.hints));
  else {
    for (const [k, v] of Object.entries(m.message))
      lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return lines;
}

function stepLines(s: SimStep): string[] {
  const verdict = s.allowed ? 'ALLOWED' : `DENIED${s.error ? ` (${s.error.code})` : ''}`;
  const what = s.call === 'Authorize' ? `${s.action} on ${s.resource}` : `${s.call} into ${s.resource}`;
  const lines = [`step ${s.step}: ${what}: ${verdict}`, `  caller: ${s.caller}`];
  if (s.assumedRoleArn) lines.push(`  session: ${s.assumedRoleArn}`);
  if (s.error) lines.push(`  error: ${s.error.message}`);
  for (const d of s.decisions) {
    // The caller is on the step line already.
    lines.push(...indent(decisionStory(d).filter((l) => !l.startsWith('  caller: '))));
  }
  for (const h of s.hints) lines.push(`  fix: ${h}`);
  for (const w of s.warnings ?? []) lines.push(warningLine(w));
  return lines;
}

export function renderSimulation(r: SimResult): string[] {
  const lines = r.steps.flatMap((s) => [...stepLines(s), '']);
  lines.push(r.allowed ? 'result: every step is allowed' : 'result: DENIED');
  return lines;
}
