// The shapes of a reachability result: who (a workspace's run phase, or a raw subject of a foreign
// issuer) reaches which role, through which edge, allowed by which statement; and the findings.
import type { StoredTrace } from '../../core/policy/stored-trace.js';
import type { Layer } from '../../core/policy/types.js';

export type Phase = 'plan' | 'apply';

export interface WorkspaceRef {
  organization: string;
  project: string;
  workspace: string;
}

/**
 * A web identity to try: a workspace's run phase (claims shaped as the issuer mints them, built by
 * the caller) or a bare `sub` of a foreign issuer. Probes are made-up neighbours of known
 * workspaces: a trust that admits one admits every phase / workspace / organization like it.
 */
export interface ReachSubject {
  label: string;
  sub: string;
  /** Token claims other than iss, aud and the times, which the analysis adds. */
  claims: Record<string, unknown>;
  workspace?: WorkspaceRef;
  phase?: string;
  probe?: 'phase' | 'workspace' | 'project' | 'organization';
}

/** The statement of the deciding layer that allowed an edge (the trust policy for role edges). */
export interface AllowingStatement {
  policy: string;
  index: number;
  sid?: string;
  /** `Operator key = expected` for each condition it checked. */
  conditions: string[];
}

export interface ReachEdge {
  /** Subject label (`acme/Infra/networking:plan`) or the role ARN of the calling session. */
  from: string;
  to: string;
  call: 'AssumeRoleWithWebIdentity' | 'AssumeRole';
  /** 1 for web identity, +1 per chained hop. */
  depth: number;
  /** The longest session this hop can give: chained sessions are capped at one hour. */
  maxSessionSeconds: number;
  chainCapped: boolean;
  /** Trust policy statement that allows it; for AssumeRole also the caller's identity statement. */
  allowedBy: AllowingStatement[];
  /** Every decision taken, so the edge can be explained like a recorded request. */
  decisions: StoredTrace[];
}

export interface SubjectReach {
  subject: string;
  /** The `sub` claim presented. */
  sub: string;
  issuer: string;
  /** Role ARNs reached (directly or by chaining), in reach order. */
  roles: string[];
  edges: ReachEdge[];
}

export interface ActionCheck {
  action: string;
  resource: string;
  allowed: boolean;
  /** The layer that denies it (an SCP limit shows as `scp`). */
  deniedBy?: Layer | null;
  deniedByPolicy?: string;
}

export interface RoleSummary {
  arn: string;
  account: string;
  accountName?: string;
  maxSessionDuration: number;
  /** Each Allow of the role's identity policies, checked for a session of the role by the authorizer. */
  actions: ActionCheck[];
  /** Action patterns the role's own policies deny. */
  denied: string[];
  /** SCPs that apply to the role's account (names). */
  scps: string[];
  reachedBy: string[];
}

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface ReachFinding {
  rule:
    | 'plan-reaches-apply-role'
    | 'cross-workspace'
    | 'trust-admits-any-phase'
    | 'trust-admits-any-workspace'
    | 'trust-admits-other-organization'
    | 'trust-admits-whole-account'
    | 'unreachable-role';
  severity: Severity;
  role: string;
  message: string;
  subjects?: string[];
}

export interface ReachResult {
  issuers: string[];
  maxDepth: number;
  subjects: SubjectReach[];
  roles: RoleSummary[];
  findings: ReachFinding[];
}

export const severityRank = (s: Severity): number => SEVERITIES.indexOf(s);
