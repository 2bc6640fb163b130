// A few AWS-managed policies (account 'aws') that setups and Terraform configurations commonly
// attach. Their documents follow AWS's published intent; gatepass has only IAM and STS to govern.
import type { ManagedPolicyRecord } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';

const doc = (statement: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statement });

const DEFINITIONS: { name: string; id: string; description: string; document: string }[] = [
  {
    name: 'AdministratorAccess',
    id: 'ANPAIWMBCKSKIEE64ZLYK',
    description: 'Provides full access to AWS services and resources.',
    document: doc([{ Effect: 'Allow', Action: '*', Resource: '*' }]),
  },
  {
    name: 'ReadOnlyAccess',
    id: 'ANPAILL3HVNFSB6DCOWYQ',
    description: 'Provides read-only access to AWS services and resources.',
    document: doc([
      {
        Effect: 'Allow',
        Action: [
          'iam:Get*',
          'iam:List*',
          'iam:Simulate*',
          'sts:GetCallerIdentity',
          'organizations:Describe*',
          'organizations:List*',
        ],
        Resource: '*',
      },
    ]),
  },
  {
    name: 'IAMFullAccess',
    id: 'ANPAI7XKCFMBPM3QQRRVQ',
    description: 'Provides full access to IAM via the AWS Management Console.',
    document: doc([
      {
        Effect: 'Allow',
        Action: [
          'iam:*',
          'organizations:DescribeAccount',
          'organizations:DescribeOrganization',
          'organizations:DescribeOrganizationalUnit',
          'organizations:DescribePolicy',
          'organizations:ListChildren',
          'organizations:ListParents',
          'organizations:ListPoliciesForTarget',
          'organizations:ListRoots',
          'organizations:ListPolicies',
          'organizations:ListTargetsForPolicy',
        ],
        Resource: '*',
      },
    ]),
  },
  {
    name: 'IAMReadOnlyAccess',
    id: 'ANPAJKSO7NDY4T57MWDSQ',
    description: 'Provides read only access to IAM via the AWS Management Console.',
    document: doc([
      {
        Effect: 'Allow',
        Action: [
          'iam:GenerateCredentialReport',
          'iam:GenerateServiceLastAccessedDetails',
          'iam:Get*',
          'iam:List*',
          'iam:SimulateCustomPolicy',
          'iam:SimulatePrincipalPolicy',
        ],
        Resource: '*',
      },
    ]),
  },
];

export function awsManagedPolicies(createdAt: number): ManagedPolicyRecord[] {
  return DEFINITIONS.map((d) => ({
    id: d.id,
    accountId: 'aws',
    name: d.name,
    path: '/',
    arn: `arn:aws:iam::aws:policy/${d.name}`,
    description: d.description,
    defaultVersionId: 'v1',
    versions: [{ versionId: 'v1', document: d.document, createdAt }],
    nextVersion: 2,
    tags: [],
    createdAt,
    updatedAt: createdAt,
  }));
}

/** Every account sees AWS's managed policies: written once, by whichever of setup or startup runs first. */
export async function ensureAwsManagedPolicies(tx: StoreOps, now: number): Promise<void> {
  for (const policy of awsManagedPolicies(now)) {
    if (!(await tx.get('managedPolicy', policy.id))) await tx.put('managedPolicy', policy);
  }
}
