// Platform model kept by the issuer: organizations, projects, workspaces, variables, runs,
// agent tokens and the record of every mint. Times are epoch milliseconds.

export type RunPhase = 'plan' | 'apply';
export type PhaseStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type RunStatus = 'open' | 'succeeded' | 'failed' | 'cancelled';

/** Opt-in token features beyond HCP Terraform, settable on an organization or a workspace. */
export interface TokenOptions {
  /** e.g. `organization:{org_id}:workspace:{workspace_id}:run_phase:{run_phase}`; absent = HCP's format. */
  subTemplate?: string;
  /** Emit the `https://aws.amazon.com/tags` claim. */
  sessionTags?: boolean;
  /** Emit the `https://aws.amazon.com/source_identity` claim (the run id). */
  sourceIdentity?: boolean;
}

export interface OrganizationRecord {
  id: string; // org-…
  name: string;
  createdAt: number;
  /** Upper bound on any phase timeout in this organization, seconds. */
  maxPhaseTimeoutSeconds: number;
  tokenOptions: TokenOptions;
}

export interface ProjectRecord {
  id: string; // prj-…
  orgId: string;
  name: string;
  createdAt: number;
}

export interface WorkspaceRecord {
  id: string; // ws-…
  orgId: string;
  projectId: string;
  name: string;
  planTimeoutSeconds: number; // default 7200
  applyTimeoutSeconds: number; // default 86400
  tokenOptions: TokenOptions;
  createdAt: number;
}

export interface VariableRecord {
  id: string; // var-…
  /** The workspace (`ws-…`) or variable set (`varset-…`) that owns it. */
  ownerId: string;
  orgId: string;
  key: string;
  value: string;
  category: 'env' | 'terraform';
  sensitive: boolean;
  description?: string;
  createdAt: number;
}

export interface VariableSetRecord {
  id: string; // varset-…
  orgId: string;
  name: string;
  /** Applies to every workspace of the organization. */
  global: boolean;
  workspaceIds: string[];
  createdAt: number;
}

export interface PhaseState {
  status: PhaseStatus;
  startedAt?: number;
  /** Token `exp` for this phase: start + the workspace's timeout, capped by the organization maximum. */
  deadline?: number;
  finishedAt?: number;
  /** While running under `gatepass run`: the agent's lease on the phase lasts until this instant (ms). */
  leaseExpiresAt?: number;
  /** The phase failed because its agent's lease lapsed (the agent died or lost the issuer). */
  lapsed?: boolean;
}

export interface RunRecord {
  id: string; // run-…
  orgId: string;
  workspaceId: string;
  status: RunStatus;
  phases: { plan: PhaseState; apply: PhaseState };
  createdAt: number;
  closedAt?: number;
  /** The agent token that opened it (id, never the secret). */
  openedBy: string;
}

export interface AgentTokenRecord {
  id: string; // at-…
  orgId: string;
  description: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
  /** Empty = every workspace of the organization. */
  workspaceIds: string[];
  createdAt: number;
  lastUsedAt?: number;
  revokedAt?: number;
}

export interface AdminTokenRecord {
  id: string; // adm-…
  hash: string;
  createdAt: number;
  revokedAt?: number;
}

/** One minted token. Never the token itself. */
export interface MintRecord {
  id: string; // the jti
  runId: string;
  orgId: string;
  workspaceId: string;
  phase: RunPhase;
  /** Configuration tag; empty string for the default configuration. */
  tag: string;
  aud: string;
  kid: string;
  iat: number; // seconds
  exp: number; // seconds
  sub: string;
}
