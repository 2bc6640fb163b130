// Workspace variables and organization variable sets, resolved the way HCP Terraform does for the
// dynamic-credentials contract: a workspace variable beats a variable set's, and a configuration
// value comes from `TFC_<NAME>_<TAG>` (or `TFC_<NAME>`), then the set-wide `TFC_DEFAULT_<NAME>`.
import type { VariableRecord, VariableSetRecord } from '../store/records/platform.js';

export interface PublicVariable {
  id: string;
  ownerId: string;
  key: string;
  /** null for sensitive variables: their values are write-only. */
  value: string | null;
  category: VariableRecord['category'];
  sensitive: boolean;
  description?: string;
  createdAt: number;
}

export function publicVariable(v: VariableRecord): PublicVariable {
  const out: PublicVariable = {
    id: v.id,
    ownerId: v.ownerId,
    key: v.key,
    value: v.sensitive ? null : v.value,
    category: v.category,
    sensitive: v.sensitive,
    createdAt: v.createdAt,
  };
  if (v.description !== undefined) out.description = v.description;
  return out;
}

export const setAppliesTo = (set: VariableSetRecord, workspaceId: string): boolean =>
  set.global || set.workspaceIds.includes(workspaceId);

/**
 * The environment variables in effect for a workspace: sets first (in id order), then the
 * workspace's own, later ones overriding earlier ones with the same key.
 */
export function effectiveVariables(
  setVariables: readonly VariableRecord[],
  workspaceVariables: readonly VariableRecord[],
): Map<string, VariableRecord> {
  const out = new Map<string, VariableRecord>();
  for (const v of [...setVariables, ...workspaceVariables]) if (v.category === 'env') out.set(v.key, v);
  return out;
}

/** One dynamic-credentials setting for a configuration (tag '' = the default configuration). */
export function resolveConfigVar(
  vars: ReadonlyMap<string, { value: string }>,
  name: string,
  tag: string,
): string | undefined {
  const own = vars.get(tag === '' ? `TFC_${name}` : `TFC_${name}_${tag}`)?.value;
  if (own !== undefined && own !== '') return own;
  const fallback = vars.get(`TFC_DEFAULT_${name}`)?.value;
  return fallback === '' ? undefined : fallback;
}
