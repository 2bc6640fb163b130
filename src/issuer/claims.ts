// Token claims, HCP Terraform compatible: the same claim names and `sub` format, so existing trust
// policies carry over. Opt-in extras: a `sub` template, AWS session tags and source identity.
import type { RunPhase, TokenOptions } from '../store/records/platform.js';
import { invalidField } from './errors.js';

export const DEFAULT_AUDIENCE = 'aws.workload.identity';
export const TAGS_CLAIM = 'https://aws.amazon.com/tags';
export const SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';

/** AWS returns `sub` as SubjectFromWebIdentityToken, 6–255 characters. */
export const MAX_SUB_LENGTH = 255;

export interface Named {
  id: string;
  name: string;
}

export interface TokenSubject {
  organization: Named;
  project: Named;
  workspace: Named;
  runId: string;
  phase: RunPhase;
}

export interface ClaimInput extends TokenSubject {
  issuer: string;
  audience: string;
  jti: string;
  /** Seconds. */
  iat: number;
  /** Seconds: the phase deadline. */
  exp: number;
  options: TokenOptions;
}

const PLACEHOLDERS = {
  organization: (s: TokenSubject) => s.organization.name,
  organization_id: (s: TokenSubject) => s.organization.id,
  project: (s: TokenSubject) => s.project.name,
  project_id: (s: TokenSubject) => s.project.id,
  workspace: (s: TokenSubject) => s.workspace.name,
  workspace_id: (s: TokenSubject) => s.workspace.id,
  run_phase: (s: TokenSubject) => s.phase,
} as const;

type Placeholder = keyof typeof PLACEHOLDERS;
const isPlaceholder = (name: string): name is Placeholder => Object.hasOwn(PLACEHOLDERS, name);

/** HCP Terraform's format, by names. */
export const HCP_SUB_TEMPLATE =
  'organization:{organization}:project:{project}:workspace:{workspace}:run_phase:{run_phase}';

/** The ID-based form suggested for new trust policies: a rename can neither break nor widen trust. */
export const ID_SUB_TEMPLATE =
  'organization:{organization_id}:project:{project_id}:workspace:{workspace_id}:run_phase:{run_phase}';

/**
 * Validate a `sub` template: known placeholders only, plain characters around them, and anchored
 * on the organization (without it, any organization's runs could match the same trust policy).
 */
export function checkSubTemplate(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidField(field, 'must be a non-empty string');
  if (value.length > 200) throw invalidField(field, 'too long (max 200)');
  const used = new Set<string>();
  const literal = value.replace(/\{([a-z_]+)\}/g, (_m, name: string) => {
    used.add(name);
    return '';
  });
  for (const name of used) if (!isPlaceholder(name)) throw invalidField(field, 'unknown placeholder');
  if (!/^[A-Za-z0-9:_./-]*$/.test(literal))
    throw invalidField(field, 'may contain only placeholders, letters, digits and ":_./-"');
  if (!used.has('organization') && !used.has('organization_id')) {
    throw invalidField(field, 'must contain {organization} or {organization_id}');
  }
  return value;
}

export function renderSub(template: string | undefined, s: TokenSubject): string {
  return (template ?? HCP_SUB_TEMPLATE).replace(/\{([a-z_]+)\}/g, (m, name: string) =>
    isPlaceholder(name) ? PLACEHOLDERS[name](s) : m,
  );
}

/** `sub` for this subject, refusing what AWS would not return (over 255 characters). */
export function subjectFor(template: string | undefined, s: TokenSubject): string {
  const sub = renderSub(template, s);
  if (sub.length > MAX_SUB_LENGTH)
    throw invalidField('sub', `would be ${sub.length} characters (max ${MAX_SUB_LENGTH})`);
  return sub;
}

/** Workspace options override the organization's, field by field. */
export function effectiveTokenOptions(org: TokenOptions, workspace: TokenOptions): TokenOptions {
  return { ...org, ...workspace };
}

export const SESSION_TAG_KEYS = [
  'terraform_organization',
  'terraform_project',
  'terraform_workspace',
  'terraform_run_phase',
] as const;

export function buildClaims(input: ClaimInput): Record<string, unknown> & { exp: number; sub: string } {
  const sub = subjectFor(input.options.subTemplate, input);
  const claims: Record<string, unknown> & { exp: number; sub: string } = {
    jti: input.jti,
    iss: input.issuer,
    aud: input.audience,
    iat: input.iat,
    nbf: input.iat,
    exp: input.exp,
    sub,
    terraform_organization_id: input.organization.id,
    terraform_organization_name: input.organization.name,
    terraform_project_id: input.project.id,
    terraform_project_name: input.project.name,
    terraform_workspace_id: input.workspace.id,
    terraform_workspace_name: input.workspace.name,
    terraform_full_workspace: `organization:${input.organization.name}:project:${input.project.name}:workspace:${input.workspace.name}`,
    terraform_run_id: input.runId,
    terraform_run_phase: input.phase,
  };
  if (input.options.sessionTags) {
    // Values are single-element arrays: AWS session tags are not multi-valued.
    claims[TAGS_CLAIM] = {
      principal_tags: {
        terraform_organization: [input.organization.name],
        terraform_project: [input.project.name],
        terraform_workspace: [input.workspace.name],
        terraform_run_phase: [input.phase],
      },
      transitive_tag_keys: [...SESSION_TAG_KEYS],
    };
  }
  if (input.options.sourceIdentity) claims[SOURCE_IDENTITY_CLAIM] = input.runId;
  return claims;
}

/** Discovery's `claims_supported`. */
export const CLAIMS_SUPPORTED = [
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'iss',
  'jti',
  'terraform_organization_id',
  'terraform_organization_name',
  'terraform_project_id',
  'terraform_project_name',
  'terraform_workspace_id',
  'terraform_workspace_name',
  'terraform_full_workspace',
  'terraform_run_id',
  'terraform_run_phase',
  TAGS_CLAIM,
  SOURCE_IDENTITY_CLAIM,
] as const;

/**
 * The claims a token of this workspace phase would carry, without the per-token ones (iss, aud,
 * jti, times): what `gatepass reach` presents to trust policies.
 */
export function phaseClaims(
  s: Omit<TokenSubject, 'runId'>,
  options: TokenOptions,
): { sub: string; claims: Record<string, unknown> } {
  const all = buildClaims({
    ...s,
    runId: 'run-reach',
    issuer: '',
    audience: '',
    jti: '',
    iat: 0,
    exp: 0,
    options,
  });
  const { iss: _i, aud: _a, jti: _j, iat: _t, nbf: _n, exp: _e, sub, ...claims } = all;
  return { sub, claims };
}
