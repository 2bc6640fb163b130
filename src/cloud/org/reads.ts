// The Organizations reads aws-cli and Terraform make: the organization, roots, accounts, OUs,
// parents and children, policies and their targets, tags, service access and delegated
// administrators, create-account requests. Paginated as AWS does.
import {
  defineOperation,
  JsonError,
  type JsonObject,
  type JsonOperation,
  type JsonReader,
} from '../../core/json/index.js';
import type { CreateAccountRequestRecord, OrgPolicyRecord, Tag } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import { type CallSpec, type OrgCtx, type OrgDeps, orgCall, type Page, paginate, readPage } from './call.js';
import {
  ALL_POLICY_TYPES,
  accountShape,
  childrenOf,
  container,
  findOu,
  findPolicy,
  findTarget,
  ID,
  memberAccount,
  organizationAccounts,
  organizationShape,
  ouShape,
  policiesOn,
  policyArn,
  policySummary,
  rootShape,
  seconds,
  tagsShape,
  targetArn,
} from './model.js';

export const operation = <I>(
  name: string,
  input: (r: JsonReader) => I,
  handler: (input: I, ctx: OrgCtx) => Promise<JsonObject>,
): JsonOperation<Caller> => defineOperation<Caller, I>({ service: 'organizations', name, input, handler });

export const id = (r: JsonReader, name: string, pattern: RegExp, max = 130): string =>
  r.str(name, { required: true, max, pattern });

/** The ARN a policy id is authorized against (its own when it exists). */
export async function policyResource(tx: StoreOps, org: Parameters<typeof policyArn>[0], policyId: string) {
  const p = await tx.get('orgPolicy', policyId);
  return policyArn(org, p ?? { id: policyId, type: 'SERVICE_CONTROL_POLICY', awsManaged: false });
}

const byId = <T extends { id: string }>(t: T): string => t.id;

/** One page of `all` under `field`, shaped, with AWS's NextToken when more follow. */
function listed<T>(
  field: string,
  all: readonly T[],
  page: Page,
  keyOf: (item: T) => string,
  shape: (item: T) => JsonObject,
): JsonObject {
  const { items, NextToken } = paginate(all, page, keyOf);
  return { [field]: items.map(shape), ...(NextToken ? { NextToken } : {}) };
}

/** A read a delegated administrator may make, authorized on a root, OU or account. */
const onTarget = (targetId: string): CallSpec => ({
  access: 'delegated',
  resources: (org) => [targetArn(org, targetId)],
});

/** A read a delegated administrator may make, authorized on a policy. */
const onPolicy = (policyId: string): CallSpec => ({
  access: 'delegated',
  resources: async (org, tx) => [await policyResource(tx, org, policyId)],
});

export function readActions(deps: OrgDeps): JsonOperation<Caller>[] {
  const read = (access: 'member' | 'delegated' = 'delegated'): CallSpec => ({
    access,
    resources: () => ['*'],
  });
  return [
    operation(
      'DescribeOrganization',
      () => ({}),
      (_i, ctx) =>
        orgCall(deps, ctx, read('member'), async (tx, org) => ({
          Organization: organizationShape(org, await tx.get('account', org.managementAccountId)),
        })),
    ),
    operation('ListRoots', readPage, (_page, ctx) =>
      orgCall(deps, ctx, read(), async (tx, org) => ({
        Roots: [rootShape(org, await tx.get('organizationalUnit', org.rootId))],
      })),
    ),
    operation('ListAccounts', readPage, (page, ctx) =>
      orgCall(deps, ctx, read(), async (tx, org) =>
        listed('Accounts', await organizationAccounts(tx, org), page, byId, (a) => accountShape(org, a)),
      ),
    ),
    operation(
      'ListAccountsForParent',
      (r) => ({ parentId: id(r, 'ParentId', ID.parent, 100), page: readPage(r) }),
      (i, ctx) =>
        orgCall(deps, ctx, onTarget(i.parentId), async (tx, org) => {
          await container(tx, org, i.parentId);
          const { accounts } = await childrenOf(tx, i.parentId);
          return listed('Accounts', accounts, i.page, byId, (a) => accountShape(org, a));
        }),
    ),
    operation(
      'DescribeAccount',
      (r) => id(r, 'AccountId', ID.account, 12),
      (accountId, ctx) =>
        orgCall(deps, ctx, onTarget(accountId), async (tx, org) => ({
          Account: accountShape(org, await memberAccount(tx, org, accountId)),
        })),
    ),
    operation(
      'ListParents',
      (r) => ({ childId: id(r, 'ChildId', ID.child, 100), page: readPage(r) }),
      (i, ctx) =>
        orgCall(deps, ctx, onTarget(i.childId), async (tx, org) => {
          const parentId = i.childId.startsWith('ou-')
            ? (await findOu(tx, i.childId).catch(() => undefined))?.parentId
            : (await memberAccount(tx, org, i.childId, 'ChildNotFoundException')).parentId;
          if (parentId === undefined) throw new JsonError('ChildNotFoundException');
          return {
            Parents: [{ Id: parentId, Type: parentId === org.rootId ? 'ROOT' : 'ORGANIZATIONAL_UNIT' }],
          };
        }),
    ),
    operation(
      'ListChildren',
      (r) => ({
        parentId: id(r, 'ParentId', ID.parent, 100),
        type: r.enumeration('ChildType', ['ACCOUNT', 'ORGANIZATIONAL_UNIT'] as const, true),
        page: readPage(r),
      }),
      (i, ctx) =>
        orgCall(deps, ctx, onTarget(i.parentId), async (tx, org) => {
          await container(tx, org, i.parentId);
          const { accounts, units } = await childrenOf(tx, i.parentId);
          const all: { id: string }[] = i.type === 'ACCOUNT' ? accounts : units;
          return listed('Children', all, i.page, byId, (c) => ({ Id: c.id, Type: i.type }));
        }),
    ),
    operation(
      'ListOrganizationalUnitsForParent',
      (r) => ({ parentId: id(r, 'ParentId', ID.parent, 100), page: readPage(r) }),
      (i, ctx) =>
        orgCall(deps, ctx, onTarget(i.parentId), async (tx, org) => {
          await container(tx, org, i.parentId);
          const { units } = await childrenOf(tx, i.parentId);
          return listed('OrganizationalUnits', units, i.page, byId, (u) => ouShape(org, u));
        }),
    ),
    operation(
      'DescribeOrganizationalUnit',
      (r) => id(r, 'OrganizationalUnitId', ID.ou, 68),
      (ouId, ctx) =>
        orgCall(deps, ctx, onTarget(ouId), async (tx, org) => ({
          OrganizationalUnit: ouShape(org, await findOu(tx, ouId)),
        })),
    ),
    operation(
      'ListPolicies',
      (r) => ({ filter: r.enumeration('Filter', ALL_POLICY_TYPES, true), page: readPage(r) }),
      (i, ctx) =>
        orgCall(deps, ctx, read(), async (tx, org) => {
          const all = await tx.list('orgPolicy', { index: { name: 'type', value: i.filter } });
          return listed('Policies', all, i.page, byId, (p) => policySummary(org, p));
        }),
    ),
    operation(
      'DescribePolicy',
      (r) => id(r, 'PolicyId', ID.policy),
      (policyId, ctx) =>
        // A delegated policy administrator (the organization's delegation policy) may read a policy.
        orgCall(deps, ctx, { ...onPolicy(policyId), delegable: true }, async (tx, org) => {
          const p = await findPolicy(tx, policyId);
          return { Policy: { PolicySummary: policySummary(org, p), Content: p.content } };
        }),
    ),
    operation(
      'ListPoliciesForTarget',
      (r) => ({
        targetId: id(r, 'TargetId', ID.target, 100),
        filter: r.enumeration('Filter', ALL_POLICY_TYPES, true),
        page: readPage(r),
      }),
      (i, ctx) =>
        orgCall(deps, ctx, onTarget(i.targetId), async (tx, org) => {
          await findTarget(tx, org, i.targetId);
          const all = await policiesOn(tx, i.filter, i.targetId);
          return listed('Policies', all, i.page, byId, (p) => policySummary(org, p));
        }),
    ),
    operation(
      'ListTargetsForPolicy',
      (r) => ({ policyId: id(r, 'PolicyId', ID.policy), page: readPage(r) }),
      (i, ctx) =>
        orgCall(deps, ctx, onPolicy(i.policyId), async (tx, org) => {
          const p = await findPolicy(tx, i.policyId);
          const { items, NextToken } = paginate(p.targets, i.page, (t) => t);
          const Targets: JsonObject[] = [];
          for (const t of items) Targets.push(await targetSummary(tx, org, t));
          return { Targets, ...(NextToken ? { NextToken } : {}) };
        }),
    ),
    operation(
      'ListTagsForResource',
      (r) => ({ resourceId: id(r, 'ResourceId', ID.taggable), page: readPage(r) }),
      (i, ctx) =>
        orgCall(
          deps,
          ctx,
          i.resourceId.startsWith('p-') ? onPolicy(i.resourceId) : onTarget(i.resourceId),
          async (tx, org) => {
            const tags = await taggable(tx, org, i.resourceId);
            const { items, NextToken } = paginate(tags.current, i.page, (t) => t.Key);
            return { Tags: tagsShape(items), ...(NextToken ? { NextToken } : {}) };
          },
        ),
    ),
    operation('ListAWSServiceAccessForOrganization', readPage, (page, ctx) =>
      orgCall(deps, ctx, read(), async (_tx, org) =>
        listed(
          'EnabledServicePrincipals',
          org.serviceAccess ?? [],
          page,
          (s) => s.principal,
          (s) => ({ ServicePrincipal: s.principal, DateEnabled: seconds(s.enabledAt) }),
        ),
      ),
    ),
    operation(
      'ListDelegatedAdministrators',
      (r) => ({
        principal: r.str('ServicePrincipal', { min: 1, max: 128, pattern: /^[\w+=,.@-]*$/ }),
        page: readPage(r),
      }),
      (i, ctx) =>
        orgCall(deps, ctx, read(), async (tx, org) => {
          const byAccount = new Map<string, number>();
          for (const d of org.delegatedAdministrators ?? [])
            if (i.principal === undefined || d.servicePrincipal === i.principal)
              byAccount.set(d.accountId, Math.min(byAccount.get(d.accountId) ?? d.enabledAt, d.enabledAt));
          const { items, NextToken } = paginate([...byAccount], i.page, ([a]) => a);
          const out: JsonObject[] = [];
          for (const [accountId, enabledAt] of items) {
            const a = await tx.get('account', accountId);
            if (a) out.push({ ...accountShape(org, a), DelegationEnabledDate: seconds(enabledAt) });
          }
          return { DelegatedAdministrators: out, ...(NextToken ? { NextToken } : {}) };
        }),
    ),
    operation(
      'DescribeCreateAccountStatus',
      (r) => id(r, 'CreateAccountRequestId', ID.createAccountRequest, 36),
      (requestId, ctx) =>
        orgCall(deps, ctx, read(), async (_tx, org) => {
          const found = org.createAccountRequests?.find((c) => c.id === requestId);
          if (!found) throw new JsonError('CreateAccountStatusNotFoundException');
          return { CreateAccountStatus: createAccountStatus(found) };
        }),
    ),
    operation(
      'ListCreateAccountStatus',
      (r) => ({
        states: r.strings('States', { pattern: /^(IN_PROGRESS|SUCCEEDED|FAILED)$/ }),
        page: readPage(r),
      }),
      (i, ctx) =>
        orgCall(deps, ctx, read(), async (_tx, org) => {
          const all = (org.createAccountRequests ?? []).filter(
            (c) => !i.states || i.states.includes(c.state),
          );
          return listed('CreateAccountStatuses', all, i.page, byId, createAccountStatus);
        }),
    ),
  ];
}

export function createAccountStatus(c: CreateAccountRequestRecord): JsonObject {
  return {
    Id: c.id,
    AccountName: c.accountName,
    State: c.state,
    RequestedTimestamp: seconds(c.requestedAt),
    CompletedTimestamp: seconds(c.completedAt),
    ...(c.accountId ? { AccountId: c.accountId } : {}),
    ...(c.failureReason ? { FailureReason: c.failureReason } : {}),
  };
}

async function targetSummary(
  tx: StoreOps,
  org: Parameters<typeof targetArn>[0],
  t: string,
): Promise<JsonObject> {
  const arn = targetArn(org, t);
  if (t === org.rootId) {
    const root = await tx.get('organizationalUnit', t);
    return { TargetId: t, Arn: arn, Name: root?.name ?? 'Root', Type: 'ROOT' };
  }
  if (t.startsWith('ou-')) {
    const ou = await tx.get('organizationalUnit', t);
    return { TargetId: t, Arn: arn, Name: ou?.name ?? t, Type: 'ORGANIZATIONAL_UNIT' };
  }
  const a = await tx.get('account', t);
  return { TargetId: t, Arn: arn, Name: a?.name ?? t, Type: 'ACCOUNT' };
}

/** The tags of a root, OU, account or policy, and how to write them back. */
export async function taggable(
  tx: StoreOps,
  org: Parameters<typeof targetArn>[0],
  resourceId: string,
): Promise<{
  current: Tag[];
  save(tags: Tag[]): Promise<unknown>;
}> {
  if (resourceId.startsWith('p-')) {
    const p: OrgPolicyRecord = await findPolicy(tx, resourceId).catch(() => {
      throw new JsonError('TargetNotFoundException');
    });
    return { current: p.tags ?? [], save: (tags) => tx.update('orgPolicy', { ...p, tags }) };
  }
  if (resourceId === org.rootId || resourceId.startsWith('ou-')) {
    const u = await tx.get('organizationalUnit', resourceId);
    if (!u || (resourceId.startsWith('r-') && resourceId !== org.rootId))
      throw new JsonError('TargetNotFoundException');
    return { current: u.tags ?? [], save: (tags) => tx.update('organizationalUnit', { ...u, tags }) };
  }
  if (resourceId.startsWith('r-')) throw new JsonError('TargetNotFoundException');
  const a = await memberAccount(tx, org, resourceId, 'TargetNotFoundException');
  return { current: a.tags ?? [], save: (tags) => tx.update('account', { ...a, tags }) };
}
