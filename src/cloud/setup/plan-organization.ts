// Planning the organization of a setup file: its management account, root and OUs, the full-access
// policies AWS attaches everywhere, and the file's SCPs and RCPs.
import { orgId, orgPolicyId, ouId, rootId } from '../../core/ids.js';
import type { OrgPolicyRecord, OrgPolicyType } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import { validateDocument } from '../iam/policy-document.js';
import type { PlanContext } from './plan-context.js';
import type { AccountSpec, OrganizationSpec, UnitSpec } from './schema.js';

const FULL_ACCESS: Record<OrgPolicyType, { name: string; description: string }> = {
  SERVICE_CONTROL_POLICY: { name: 'FullAWSAccess', description: 'Allows access to every operation' },
  RESOURCE_CONTROL_POLICY: { name: 'RCPFullAWSAccess', description: 'Allows access to every operation' },
};
const ALLOW_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});
const ALLOW_ALL_RCP = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

export interface OrganizationInput {
  org: OrganizationSpec;
  accounts: readonly AccountSpec[];
  /** Account ids by name, for every account of the file that can be applied. */
  ids: ReadonlyMap<string, string>;
  /** `${account:name}` placeholders replaced, a problem noted at `path` for an unknown one. */
  resolve: (doc: string, path: string) => string;
}

/** Plans the organization; returns where each account of the file sits (its OU or the root). */
export function planOrganization(ctx: PlanContext, input: OrganizationInput): Map<string, string> {
  const { org, accounts, ids, resolve } = input;
  const { view, random, now } = ctx;
  const parents = new Map<string, string>();
  const managementId = ids.get(org.management) ?? '';
  const [existingOrg] = view.list('awsOrganization');
  const orgRecord = existingOrg ?? {
    id: orgId(random),
    managementAccountId: managementId,
    rootId: rootId(random),
    createdAt: now,
  };
  // A setup file enforces both policy types (an organization built through the API may have fewer).
  const enabled = orgRecord.enabledPolicyTypes;
  ctx.upsert('awsOrganization', 'organization', existingOrg, {
    ...orgRecord,
    managementAccountId: managementId,
    ...(enabled
      ? {
          enabledPolicyTypes: [
            ...enabled,
            ...(['SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY'] as const).filter(
              (t) => !enabled.includes(t),
            ),
          ],
        }
      : {}),
  });
  const root = view.get('organizationalUnit', orgRecord.rootId);
  ctx.upsert(
    'organizationalUnit',
    'root',
    root,
    root ?? { id: orgRecord.rootId, name: 'Root', createdAt: now },
  );
  const units = new Map<string, string>();
  const existingUnits = view.list('organizationalUnit');
  const walk = (list: UnitSpec[], parentId: string): void => {
    for (const u of list) {
      const found = existingUnits.find((x) => x.name === u.name && x.parentId === parentId);
      const record = found ?? { id: ouId(random, orgRecord.rootId), parentId, name: u.name, createdAt: now };
      ctx.upsert('organizationalUnit', `ou/${u.name}`, found, record);
      units.set(u.name, record.id);
      for (const a of u.accounts) parents.set(a, record.id);
      walk(u.units, record.id);
    }
  };
  walk(org.units, orgRecord.rootId);
  for (const a of accounts) if (!parents.has(a.name)) parents.set(a.name, orgRecord.rootId);

  // AWS attaches the full-access policies to every root, OU and account of a new organization;
  // FullAWSAccess stays off the targets the file detaches it from (the allow-list strategy).
  const targetId = (t: string): string =>
    t === 'root' ? orgRecord.rootId : t.startsWith('ou:') ? (units.get(t.slice(3)) ?? t) : (ids.get(t) ?? t);
  const everything = [orgRecord.rootId, ...units.values(), ...accounts.flatMap((a) => ids.get(a.name) ?? [])];
  const detached = new Set(org.detachFullAwsAccess.map(targetId));
  const policies = view.list('orgPolicy');
  for (const type of ['SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY'] as const) {
    const def = FULL_ACCESS[type];
    const found = policies.find((p) => p.type === type && p.awsManaged);
    const off = type === 'SERVICE_CONTROL_POLICY' ? detached : new Set<string>();
    const wanted = everything.filter((t) => !off.has(t));
    const record: OrgPolicyRecord = found
      ? { ...found, targets: [...new Set([...found.targets.filter((t) => !off.has(t)), ...wanted])] }
      : {
          id: `p-${type === 'SERVICE_CONTROL_POLICY' ? 'FullAWSAccess' : 'RCPFullAWSAccess'}`,
          type,
          name: def.name,
          description: def.description,
          content: type === 'SERVICE_CONTROL_POLICY' ? ALLOW_ALL : ALLOW_ALL_RCP,
          awsManaged: true,
          targets: wanted,
          createdAt: now,
        };
    ctx.upsert('orgPolicy', def.name, found, record);
  }
  for (const [i, p] of org.policies.entries()) {
    const path = `organization.policies[${i}]`;
    const content = resolve(p.document, `${path}.document`);
    try {
      validateDocument(content, p.type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp');
    } catch (err) {
      ctx.problem(`${path}.document`, err instanceof Error ? err.message : String(err));
      continue;
    }
    const found = view.getBy('orgPolicy', 'typeName', indexKey(p.type, p.name));
    const record: OrgPolicyRecord = {
      id: found?.id ?? orgPolicyId(random),
      type: p.type,
      name: p.name,
      description: p.description,
      content,
      awsManaged: false,
      targets: p.targets.map(targetId),
      createdAt: found?.createdAt ?? now,
      ...(found?.tags ? { tags: found.tags } : {}),
    };
    ctx.upsert(
      'orgPolicy',
      `${p.type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp'}/${p.name}`,
      found,
      record,
    );
  }
  return parents;
}
