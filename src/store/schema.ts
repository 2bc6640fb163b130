// The kinds of record gatepass keeps and their secondary indexes. Both store engines are generic
// over this table: a kind is a JSON document keyed by `id`, plus extracted index values, so adding
// a kind needs no new SQL. Index values are strings; composite ones join parts with '\u001f'.
import type { AuditEvent } from './records/audit.js';
import type {
  AccessKeyRecord,
  AccountRecord,
  AwsOrganizationRecord,
  ManagedPolicyRecord,
  OidcProviderRecord,
  OrganizationalUnitRecord,
  OrgPolicyRecord,
  RoleRecord,
  UserRecord,
} from './records/iam.js';
import type { SealingKeyRecord, SigningKeyRecord } from './records/keyring.js';
import type {
  AdminTokenRecord,
  AgentTokenRecord,
  MintRecord,
  OrganizationRecord,
  ProjectRecord,
  RunRecord,
  VariableRecord,
  VariableSetRecord,
  WorkspaceRecord,
} from './records/platform.js';
import type { RevocationRecord, StsRunRecord } from './records/sessions.js';

export interface Records {
  organization: OrganizationRecord;
  project: ProjectRecord;
  workspace: WorkspaceRecord;
  variable: VariableRecord;
  variableSet: VariableSetRecord;
  run: RunRecord;
  agentToken: AgentTokenRecord;
  adminToken: AdminTokenRecord;
  mint: MintRecord;
  signingKey: SigningKeyRecord;
  sealingKey: SealingKeyRecord;
  account: AccountRecord;
  awsOrganization: AwsOrganizationRecord;
  organizationalUnit: OrganizationalUnitRecord;
  orgPolicy: OrgPolicyRecord;
  oidcProvider: OidcProviderRecord;
  role: RoleRecord;
  managedPolicy: ManagedPolicyRecord;
  user: UserRecord;
  accessKey: AccessKeyRecord;
  revocation: RevocationRecord;
  stsRun: StsRunRecord;
}

export type Kind = keyof Records;

export interface IndexDef<T> {
  /** A unique index rejects a second record with the same value (EntityExists). */
  unique: boolean;
  /** The indexed value; undefined leaves the record out of this index. */
  of: (record: T) => string | undefined;
}

type IndexTable = { [K in Kind]: Record<string, IndexDef<Records[K]>> };

export const SEP = '\u001f';
const key = (...parts: string[]): string => parts.join(SEP);

export const INDEXES = {
  organization: { name: { unique: true, of: (r) => r.name.toLowerCase() } },
  project: {
    orgName: { unique: true, of: (r) => key(r.orgId, r.name.toLowerCase()) },
    org: { unique: false, of: (r) => r.orgId },
  },
  workspace: {
    orgName: { unique: true, of: (r) => key(r.orgId, r.name.toLowerCase()) },
    org: { unique: false, of: (r) => r.orgId },
    project: { unique: false, of: (r) => r.projectId },
  },
  variable: {
    ownerKey: { unique: true, of: (r) => key(r.ownerId, r.key) },
    owner: { unique: false, of: (r) => r.ownerId },
  },
  variableSet: {
    orgName: { unique: true, of: (r) => key(r.orgId, r.name.toLowerCase()) },
    org: { unique: false, of: (r) => r.orgId },
  },
  run: {
    workspace: { unique: false, of: (r) => r.workspaceId },
    org: { unique: false, of: (r) => r.orgId },
    // Open runs with a leased running phase: what the lease reaper scans (a bounded, live set).
    leased: {
      unique: false,
      of: (r) =>
        r.status === 'open' &&
        (r.phases.plan.leaseExpiresAt !== undefined || r.phases.apply.leaseExpiresAt !== undefined)
          ? 'leased'
          : undefined,
    },
  },
  agentToken: { hash: { unique: true, of: (r) => r.hash }, org: { unique: false, of: (r) => r.orgId } },
  adminToken: { hash: { unique: true, of: (r) => r.hash } },
  mint: { run: { unique: false, of: (r) => r.runId } },
  signingKey: { state: { unique: false, of: (r) => r.state } },
  sealingKey: {},
  account: { alias: { unique: true, of: (r) => r.alias }, parent: { unique: false, of: (r) => r.parentId } },
  awsOrganization: {},
  organizationalUnit: { parent: { unique: false, of: (r) => r.parentId } },
  orgPolicy: {
    typeName: { unique: true, of: (r) => key(r.type, r.name) },
    type: { unique: false, of: (r) => r.type },
  },
  oidcProvider: {
    accountUrl: { unique: true, of: (r) => key(r.accountId, r.url) },
    account: { unique: false, of: (r) => r.accountId },
  },
  role: {
    // IAM names are unique case-insensitively within an account.
    accountName: { unique: true, of: (r) => key(r.accountId, r.name.toLowerCase()) },
    arn: { unique: true, of: (r) => r.arn },
    account: { unique: false, of: (r) => r.accountId },
  },
  managedPolicy: {
    arn: { unique: true, of: (r) => r.arn },
    accountName: { unique: true, of: (r) => key(r.accountId, r.name.toLowerCase()) },
    account: { unique: false, of: (r) => r.accountId },
  },
  user: {
    accountName: { unique: true, of: (r) => key(r.accountId, r.name.toLowerCase()) },
    arn: { unique: true, of: (r) => r.arn },
    account: { unique: false, of: (r) => r.accountId },
  },
  accessKey: { user: { unique: false, of: (r) => r.userId } },
  revocation: { scope: { unique: false, of: (r) => r.scope } },
  stsRun: { run: { unique: false, of: (r) => r.runId } },
} as const satisfies IndexTable;

export type IndexName<K extends Kind> = keyof (typeof INDEXES)[K] & string;

export type { AuditEvent };
export { key as indexKey };
