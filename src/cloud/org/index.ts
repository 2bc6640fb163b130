// Where an account sits in the organization, and the SCPs/RCPs that apply to it level by level.
// AWS: an Allow is needed at every level from the root down to the account; the management account
// and accounts outside the organization are not subject to SCPs or RCPs (undefined here).
import type { OrgPolicyType } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import type { LevelPolicy, OrganizationModel } from '../authz/authorizer.js';

/** Root first, then each OU down, then the account itself. */
async function levelIds(
  tx: StoreOps,
  accountId: string,
): Promise<{ orgId: string; enabled: readonly OrgPolicyType[] | undefined; ids: string[] } | undefined> {
  const [org] = await tx.list('awsOrganization', { limit: 1 });
  if (!org || org.managementAccountId === accountId) return undefined;
  const account = await tx.get('account', accountId);
  if (!account?.parentId) return undefined;
  const chain: string[] = [accountId];
  let parent: string | undefined = account.parentId;
  // Bounded walk: OUs nest at most five deep in AWS; a cycle would be a store corruption.
  for (let depth = 0; parent !== undefined && depth < 10; depth++) {
    chain.push(parent);
    if (parent === org.rootId)
      return { orgId: org.id, enabled: org.enabledPolicyTypes, ids: chain.reverse() };
    parent = (await tx.get('organizationalUnit', parent))?.parentId;
  }
  return undefined;
}

async function levelsFor(
  tx: StoreOps,
  accountId: string,
  type: OrgPolicyType,
): Promise<LevelPolicy[][] | undefined> {
  const path = await levelIds(tx, accountId);
  // A policy type not enabled in the root is not enforced at all (AWS detaches its policies too).
  if (!path || (path.enabled && !path.enabled.includes(type))) return undefined;
  const policies = await tx.list('orgPolicy', { index: { name: 'type', value: type } });
  return path.ids.map((target) =>
    policies
      .filter((p) => p.targets.includes(target))
      .map((p) => ({ id: p.id, name: p.name, content: p.content, target })),
  );
}

export const scpLevelsFor = (tx: StoreOps, accountId: string): Promise<LevelPolicy[][] | undefined> =>
  levelsFor(tx, accountId, 'SERVICE_CONTROL_POLICY');

export const rcpLevelsFor = (tx: StoreOps, accountId: string): Promise<LevelPolicy[][] | undefined> =>
  levelsFor(tx, accountId, 'RESOURCE_CONTROL_POLICY');

/** `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` (`o-…/r-…/ou-…/`) for a member account. */
export async function orgPathsFor(
  tx: StoreOps,
  accountId: string,
): Promise<{ orgId: string; path: string } | undefined> {
  const [org] = await tx.list('awsOrganization', { limit: 1 });
  if (!org) return undefined;
  if (org.managementAccountId === accountId) return { orgId: org.id, path: `${org.id}/${org.rootId}/` };
  const path = await levelIds(tx, accountId);
  if (!path) return undefined;
  return { orgId: org.id, path: `${org.id}/${path.ids.slice(0, -1).join('/')}/` };
}

/** The organization model as the authorizer reads it (it is handed this; it does not import org). */
export const organizationModel: OrganizationModel = {
  orgPath: orgPathsFor,
  scpLevels: scpLevelsFor,
  rcpLevels: rcpLevelsFor,
};
