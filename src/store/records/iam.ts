// The AWS-compatible cloud model: accounts, the organization (root, OUs, SCPs/RCPs), and per account
// OIDC providers, roles, managed policies, users and access keys.

export interface Tag {
  Key: string;
  Value: string;
}

export interface AccountRecord {
  id: string; // 12 digits
  name: string;
  alias?: string;
  email?: string;
  /** OU or root id this account sits under; absent when not in the organization. */
  parentId?: string;
  /** Guard rail beyond AWS: reject OIDC trust without a `sub` pinned to an organization. */
  oidcGuardRail: boolean;
  createdAt: number;
  /** Organizations' view (absent for accounts only a setup file made: ACTIVE, joined when created). */
  status?: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';
  joinedMethod?: 'INVITED' | 'CREATED';
  joinedAt?: number;
  tags?: Tag[];
}

export interface AwsOrganizationRecord {
  id: string; // o-…
  managementAccountId: string;
  rootId: string; // r-…
  createdAt: number;
  /** Policy types enabled in the root; absent means both (what a setup file has always built). */
  enabledPolicyTypes?: OrgPolicyType[];
  /** Trusted access for AWS services (EnableAWSServiceAccess). */
  serviceAccess?: { principal: string; enabledAt: number }[];
  delegatedAdministrators?: { accountId: string; servicePrincipal: string; enabledAt: number }[];
  /** The resource-based delegation policy (PutResourcePolicy): which member accounts manage policies. */
  resourcePolicy?: { id: string; content: string; tags?: Tag[] };
  /** CreateAccount requests, newest last (bounded), for DescribeCreateAccountStatus. */
  createAccountRequests?: CreateAccountRequestRecord[];
}

export interface CreateAccountRequestRecord {
  id: string; // car-…
  accountName: string;
  state: 'SUCCEEDED' | 'FAILED';
  requestedAt: number;
  completedAt: number;
  accountId?: string;
  failureReason?: 'EMAIL_ALREADY_EXISTS';
}

export interface OrganizationalUnitRecord {
  id: string; // ou-… or r-… for the root
  parentId?: string; // absent for the root
  name: string;
  createdAt: number;
  tags?: Tag[];
}

export type OrgPolicyType = 'SERVICE_CONTROL_POLICY' | 'RESOURCE_CONTROL_POLICY';

export interface OrgPolicyRecord {
  id: string; // p-…
  type: OrgPolicyType;
  name: string;
  description: string;
  content: string;
  awsManaged: boolean;
  /** Root, OU or account ids this policy is attached to. */
  targets: string[];
  createdAt: number;
  tags?: Tag[];
}

export interface OidcProviderRecord {
  id: string; // the ARN
  accountId: string;
  url: string; // https://host/path as registered
  clientIds: string[];
  thumbprints: string[];
  tags: Tag[];
  createdAt: number;
}

export interface RoleRecord {
  id: string; // AROA…
  accountId: string;
  name: string;
  path: string;
  arn: string;
  trustPolicy: string;
  description: string;
  maxSessionDuration: number;
  permissionsBoundary?: string; // policy ARN
  inlinePolicies: Record<string, string>;
  attachedPolicies: string[]; // policy ARNs
  tags: Tag[];
  createdAt: number;
  lastUsedAt?: number;
}

export interface PolicyVersion {
  versionId: string; // v1, v2, …
  document: string;
  createdAt: number;
}

export interface ManagedPolicyRecord {
  id: string; // ANPA…
  accountId: string; // 'aws' for AWS-managed policies
  name: string;
  path: string;
  arn: string;
  description: string;
  defaultVersionId: string;
  versions: PolicyVersion[];
  /** Next version number to assign (versions are never renumbered). */
  nextVersion: number;
  tags: Tag[];
  createdAt: number;
  updatedAt: number;
}

export interface UserRecord {
  id: string; // AIDA…
  accountId: string;
  name: string;
  path: string;
  arn: string;
  permissionsBoundary?: string;
  inlinePolicies: Record<string, string>;
  attachedPolicies: string[];
  tags: Tag[];
  createdAt: number;
}

export interface AccessKeyRecord {
  id: string; // AKIA…
  accountId: string;
  userId: string;
  userName: string;
  status: 'Active' | 'Inactive';
  /** Sealing-key version the secret is derived under; the secret itself is never stored. */
  keyVersion: number;
  createdAt: number;
  lastUsedAt?: number;
}
