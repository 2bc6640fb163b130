// The Organizations API's view of the records `gatepass apply` also writes: ARNs, AWS's response
// shapes, id patterns and lookups that answer with AWS's not-found exceptions.
import { JsonError, type JsonErrorCode, type JsonObject } from '../../core/json/index.js';
import type {
  AccountRecord,
  AwsOrganizationRecord,
  OrganizationalUnitRecord,
  OrgPolicyRecord,
  OrgPolicyType,
  Tag,
} from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';

export const POLICY_TYPES: readonly OrgPolicyType[] = ['SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY'];
/** Every type AWS's model knows: the rest are answered as not available to this organization. */
export const ALL_POLICY_TYPES = [
  'SERVICE_CONTROL_POLICY',
  'RESOURCE_CONTROL_POLICY',
  'TAG_POLICY',
  'BACKUP_POLICY',
  'AISERVICES_OPT_OUT_POLICY',
  'CHATBOT_POLICY',
  'DECLARATIVE_POLICY_EC2',
  'SECURITYHUB_POLICY',
  'INSPECTOR_POLICY',
  'UPGRADE_ROLLOUT_POLICY',
  'BEDROCK_POLICY',
  'S3_POLICY',
  'NETWORK_SECURITY_DIRECTOR_POLICY',
] as const;

export const ID = {
  account: /^\d{12}$/,
  root: /^r-[0-9a-z]{4,32}$/,
  ou: /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/,
  parent: /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
  child: /^(\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
  target: /^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/,
  policy: /^p-[0-9a-zA-Z_]{8,128}$/,
  taggable: /^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128})$/,
  createAccountRequest: /^car-[a-z0-9]{8,32}$/,
} as const;

/** The full-access policies AWS manages, attached wherever their type is enabled. */
export const FULL_ACCESS: Record<OrgPolicyType, { id: string; name: string; content: string }> = {
  SERVICE_CONTROL_POLICY: {
    id: 'p-FullAWSAccess',
    name: 'FullAWSAccess',
    content: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    }),
  },
  RESOURCE_CONTROL_POLICY: {
    id: 'p-RCPFullAWSAccess',
    name: 'RCPFullAWSAccess',
    content: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
    }),
  },
};
export const FULL_ACCESS_DESCRIPTION = 'Allows access to every operation';

const base = (org: AwsOrganizationRecord): string => `arn:aws:organizations::${org.managementAccountId}`;
export const organizationArn = (org: AwsOrganizationRecord): string => `${base(org)}:organization/${org.id}`;
export const accountArn = (org: AwsOrganizationRecord, id: string): string =>
  `${base(org)}:account/${org.id}/${id}`;
export const rootArn = (org: AwsOrganizationRecord): string => `${base(org)}:root/${org.id}/${org.rootId}`;
export const ouArn = (org: AwsOrganizationRecord, id: string): string => `${base(org)}:ou/${org.id}/${id}`;
export const policyArn = (
  org: AwsOrganizationRecord,
  p: Pick<OrgPolicyRecord, 'id' | 'type' | 'awsManaged'>,
) =>
  p.awsManaged
    ? `arn:aws:organizations::aws:policy/${p.type.toLowerCase()}/${p.id}`
    : `${base(org)}:policy/${org.id}/${p.type.toLowerCase()}/${p.id}`;
/** The ARN of a root, OU or account id. */
export const targetArn = (org: AwsOrganizationRecord, id: string): string =>
  id === org.rootId ? rootArn(org) : id.startsWith('ou-') ? ouArn(org, id) : accountArn(org, id);

export const seconds = (ms: number): number => ms / 1000;

export const enabledTypes = (org: AwsOrganizationRecord): readonly OrgPolicyType[] =>
  org.enabledPolicyTypes ?? POLICY_TYPES;

export function organizationShape(org: AwsOrganizationRecord, management?: AccountRecord): JsonObject {
  return {
    Id: org.id,
    Arn: organizationArn(org),
    FeatureSet: 'ALL',
    MasterAccountArn: accountArn(org, org.managementAccountId),
    MasterAccountId: org.managementAccountId,
    ...(management?.email ? { MasterAccountEmail: management.email } : {}),
    // Deprecated by AWS and always this answer there.
    AvailablePolicyTypes: [{ Type: 'SERVICE_CONTROL_POLICY', Status: 'ENABLED' }],
  };
}

export function rootShape(org: AwsOrganizationRecord, root?: OrganizationalUnitRecord): JsonObject {
  return {
    Id: org.rootId,
    Arn: rootArn(org),
    Name: root?.name ?? 'Root',
    PolicyTypes: enabledTypes(org).map((t) => ({ Type: t, Status: 'ENABLED' })),
  };
}

export function accountShape(org: AwsOrganizationRecord, a: AccountRecord): JsonObject {
  const status = a.status ?? 'ACTIVE';
  return {
    Id: a.id,
    Arn: accountArn(org, a.id),
    ...(a.email ? { Email: a.email } : {}),
    Name: a.name,
    Status: status,
    State: status === 'SUSPENDED' ? 'SUSPENDED' : status,
    JoinedMethod: a.joinedMethod ?? 'CREATED',
    JoinedTimestamp: seconds(a.joinedAt ?? a.createdAt),
  };
}

export const ouShape = (org: AwsOrganizationRecord, ou: OrganizationalUnitRecord): JsonObject => ({
  Id: ou.id,
  Arn: ouArn(org, ou.id),
  Name: ou.name,
});

export const policySummary = (org: AwsOrganizationRecord, p: OrgPolicyRecord): JsonObject => ({
  Id: p.id,
  Arn: policyArn(org, p),
  Name: p.name,
  Description: p.description,
  Type: p.type,
  AwsManaged: p.awsManaged,
});

export const tagsShape = (tags: readonly Tag[] | undefined): JsonObject[] =>
  (tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value }));

export async function organizationOf(tx: StoreOps): Promise<AwsOrganizationRecord> {
  const [org] = await tx.list('awsOrganization', { limit: 1 });
  if (!org) throw new JsonError('AWSOrganizationsNotInUseException');
  return org;
}

/** An account of the organization (the management account included), or AccountNotFoundException. */
export async function memberAccount(
  tx: StoreOps,
  org: AwsOrganizationRecord,
  id: string,
  notFound: JsonErrorCode = 'AccountNotFoundException',
): Promise<AccountRecord> {
  const a = await tx.get('account', id);
  if (!a || !(await inOrganization(tx, org, a))) throw new JsonError(notFound);
  return a;
}

/** Whether the account sits under this organization's root (or is its management account). */
export async function inOrganization(
  tx: StoreOps,
  org: AwsOrganizationRecord,
  a: AccountRecord,
): Promise<boolean> {
  if (a.id === org.managementAccountId) return true;
  return a.parentId !== undefined && (await containerExists(tx, org, a.parentId));
}

export async function containerExists(
  tx: StoreOps,
  org: AwsOrganizationRecord,
  id: string,
): Promise<boolean> {
  if (id === org.rootId) return true;
  return id.startsWith('ou-') && (await tx.get('organizationalUnit', id)) !== undefined;
}

/** A root or OU to list under or create in, or ParentNotFoundException. */
export async function container(
  tx: StoreOps,
  org: AwsOrganizationRecord,
  id: string,
  notFound: JsonErrorCode = 'ParentNotFoundException',
): Promise<void> {
  if (!(await containerExists(tx, org, id))) throw new JsonError(notFound);
}

export async function findOu(tx: StoreOps, id: string): Promise<OrganizationalUnitRecord> {
  const ou = id.startsWith('ou-') ? await tx.get('organizationalUnit', id) : undefined;
  if (!ou) throw new JsonError('OrganizationalUnitNotFoundException');
  return ou;
}

/** The policies of a type attached directly to a root, OU or account. */
export async function policiesOn(tx: StoreOps, type: string, targetId: string): Promise<OrgPolicyRecord[]> {
  return (await tx.list('orgPolicy', { index: { name: 'type', value: type } })).filter((p) =>
    p.targets.includes(targetId),
  );
}

export async function findPolicy(tx: StoreOps, id: string): Promise<OrgPolicyRecord> {
  const p = await tx.get('orgPolicy', id);
  if (!p) throw new JsonError('PolicyNotFoundException');
  return p;
}

/** A root, OU or account of the organization that policies attach to, or TargetNotFoundException. */
export async function findTarget(tx: StoreOps, org: AwsOrganizationRecord, id: string): Promise<string> {
  if (id === org.rootId) return id;
  if (id.startsWith('ou-')) {
    if (!(await tx.get('organizationalUnit', id))) throw new JsonError('TargetNotFoundException');
    return id;
  }
  await memberAccount(tx, org, id, 'TargetNotFoundException');
  return id;
}

/** Accounts and OUs directly under a root or OU, by id. */
export async function childrenOf(
  tx: StoreOps,
  parentId: string,
): Promise<{ accounts: AccountRecord[]; units: OrganizationalUnitRecord[] }> {
  const accounts = await tx.list('account', { index: { name: 'parent', value: parentId } });
  const units = await tx.list('organizationalUnit', { index: { name: 'parent', value: parentId } });
  return { accounts, units };
}

/** Organization accounts (management first in id order with the rest), for ListAccounts. */
export async function organizationAccounts(
  tx: StoreOps,
  org: AwsOrganizationRecord,
): Promise<AccountRecord[]> {
  const all = await tx.list('account');
  const out: AccountRecord[] = [];
  for (const a of all) if (await inOrganization(tx, org, a)) out.push(a);
  return out;
}
