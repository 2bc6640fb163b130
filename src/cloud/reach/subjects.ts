// Whom to try: workspaces named by the user or found in trust policies' `sub` conditions, each in
// both run phases, raw subjects of a foreign issuer, and made-up neighbours (probes) of each
// workspace that tell a trust pinning one workspace and phase from one admitting many.
import type { Store } from '../../store/types.js';
import type { ReachSubject, WorkspaceRef } from './types.js';

export const PHASES = ['plan', 'apply'] as const;
const PROBE = 'gatepass-reach-probe';
const HCP_SUB = /^organization:([^:]+):project:([^:]+):workspace:([^:]+):run_phase:([^:]+)$/;
const WILD = /[*?$]/;

/** Claims of a token for a workspace's phase, as the issuer would mint them (its sub template). */
export type MintClaims = (
  ws: WorkspaceRef,
  phase: string,
) => { sub: string; claims: Record<string, unknown> };

export const workspaceLabel = (w: WorkspaceRef): string => `${w.organization}/${w.project}/${w.workspace}`;

/** `org:x:project:y:workspace:z:run_phase:p` (HCP's default form) as a workspace and phase. */
export function parseHcpSub(sub: string): { workspace: WorkspaceRef; phase: string } | undefined {
  const m = HCP_SUB.exec(sub);
  if (!m?.[1] || !m[2] || !m[3] || !m[4]) return undefined;
  return { workspace: { organization: m[1], project: m[2], workspace: m[3] }, phase: m[4] };
}

/** Literal workspaces named by `…:sub` conditions of trust policies (wildcard parts are skipped). */
export async function workspacesFromTrusts(store: Store): Promise<WorkspaceRef[]> {
  const found = new Map<string, WorkspaceRef>();
  for (const role of await store.list('role')) {
    let doc: unknown;
    try {
      doc = JSON.parse(role.trustPolicy);
    } catch {
      continue;
    }
    for (const value of subValues(doc)) {
      const m = /^organization:([^:]+):project:([^:]+):workspace:([^:]+)(:|$)/.exec(value);
      if (!m?.[1] || !m[2] || !m[3] || [m[1], m[2], m[3]].some((p) => WILD.test(p))) continue;
      const ws = { organization: m[1], project: m[2], workspace: m[3] };
      found.set(workspaceLabel(ws), ws);
    }
  }
  return [...found.values()].sort((a, b) => workspaceLabel(a).localeCompare(workspaceLabel(b)));
}

function subValues(doc: unknown): string[] {
  const out: string[] = [];
  const statements = (doc as { Statement?: unknown })?.Statement;
  for (const st of Array.isArray(statements) ? statements : [statements]) {
    const cond = (st as { Condition?: unknown })?.Condition;
    if (!cond || typeof cond !== 'object') continue;
    for (const block of Object.values(cond as Record<string, unknown>)) {
      if (!block || typeof block !== 'object') continue;
      for (const [key, v] of Object.entries(block as Record<string, unknown>)) {
        if (!key.toLowerCase().endsWith(':sub')) continue;
        for (const x of Array.isArray(v) ? v : [v]) if (typeof x === 'string') out.push(x);
      }
    }
  }
  return out;
}

/** Both phases of each workspace, then the raw subjects, then (optionally) the probes. */
export function subjectsFor(
  workspaces: readonly WorkspaceRef[],
  subs: readonly string[],
  mint: MintClaims,
  probes: boolean,
): ReachSubject[] {
  const out: ReachSubject[] = [];
  const seen = new Set<string>();
  const add = (s: ReachSubject) => {
    if (seen.has(s.label)) return;
    seen.add(s.label);
    out.push(s);
  };
  const phaseOf = (ws: WorkspaceRef, phase: string, probe?: ReachSubject['probe']): ReachSubject => {
    const { sub, claims } = mint(ws, phase);
    return {
      label: `${probe ? 'probe ' : ''}${workspaceLabel(ws)}:${phase}`,
      sub,
      claims,
      workspace: ws,
      phase,
      ...(probe ? { probe } : {}),
    };
  };
  const all = [...workspaces];
  for (const sub of subs) {
    const hcp = parseHcpSub(sub);
    if (hcp) {
      add(phaseOf(hcp.workspace, hcp.phase));
      if (!all.some((w) => workspaceLabel(w) === workspaceLabel(hcp.workspace))) all.push(hcp.workspace);
    } else add({ label: sub, sub, claims: {} });
  }
  for (const ws of workspaces) for (const phase of PHASES) add(phaseOf(ws, phase));
  if (!probes) return out;
  for (const ws of all) {
    add(phaseOf(ws, PROBE, 'phase'));
    for (const phase of PHASES) {
      add(phaseOf({ ...ws, workspace: PROBE }, phase, 'workspace'));
      add(phaseOf({ ...ws, project: PROBE, workspace: PROBE }, phase, 'project'));
      add(
        phaseOf(
          { organization: `${ws.organization}${PROBE}`, project: ws.project, workspace: ws.workspace },
          phase,
          'organization',
        ),
      );
    }
  }
  return out;
}
