// The Organizations writes on the organization's structure: the organization itself, accounts
// (created at once, answered through the create-account status API as AWS does), OUs, tags,
// trusted service access and delegated administrators. Bad input changes nothing: every check runs
// before the first write of the transaction.
import { accountRootArn, roleArn } from '../../core/arn.js';
import {
  awsId,
  createAccountRequestId,
  accountId as newAccountId,
  orgId,
  ouId,
  rootId,
} from '../../core/ids.js';
import {
  JsonError,
  type JsonObject,
  type JsonOperation,
  type JsonReader,
  jsonError,
} from '../../core/json/index.js';
import type { AccountRecord, AwsOrganizationRecord, OrgPolicyType, Tag } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import {
  authorize,
  type OrgCtx,
  type OrgDeps,
  orgCall,
  orgTransaction,
  recordOrgWrite,
  requestMeta,
} from './call.js';
import {
  accountArn,
  childrenOf,
  container,
  enabledTypes,
  FULL_ACCESS,
  FULL_ACCESS_DESCRIPTION,
  findOu,
  ID,
  memberAccount,
  organizationAccounts,
  organizationShape,
  ouShape,
  targetArn,
} from './model.js';
import { createAccountStatus, id, operation, policyResource, taggable } from './reads.js';

const OU_MAX_DEPTH = 5;
const TAGS_MAX = 50;
const CREATE_REQUESTS_KEPT = 1000;
const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess';
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const SERVICE_PRINCIPAL = { required: true as const, min: 1, max: 128, pattern: /^[\w+=,.@-]*$/ };

export function readTags(r: JsonReader, name = 'Tags'): Tag[] | undefined {
  const tags = r.structs(name, (t) => ({
    Key: t.str('Key', { required: true, min: 1, max: 128, pattern: TAG_TEXT }),
    Value: t.str('Value', { required: true, min: 0, max: 256, pattern: TAG_TEXT }),
  }));
  if (tags === undefined) return undefined;
  if (tags.some((t) => t.Key.toLowerCase().startsWith('aws:')))
    throw new JsonError('InvalidInputException', undefined, 'INVALID_SYSTEM_TAGS_PARAMETER');
  if (new Set(tags.map((t) => t.Key)).size !== tags.length)
    throw new JsonError('InvalidInputException', undefined, 'DUPLICATE_TAG_KEY');
  return tags;
}

/** New tags over old ones (same key replaces); at most 50. */
export function mergeTags(current: readonly Tag[], added: readonly Tag[]): Tag[] {
  const keys = new Set(added.map((t) => t.Key));
  const merged = [...current.filter((t) => !keys.has(t.Key)), ...added];
  if (merged.length > TAGS_MAX)
    throw new JsonError('ConstraintViolationException', undefined, 'MAX_TAG_LIMIT_EXCEEDED');
  return merged;
}

/** The full-access policies AWS keeps in every organization (no targets until their type is enabled). */
export async function ensureFullAccessPolicies(tx: StoreOps, now: number): Promise<void> {
  for (const [type, def] of Object.entries(FULL_ACCESS) as [
    OrgPolicyType,
    (typeof FULL_ACCESS)[OrgPolicyType],
  ][]) {
    if (await tx.get('orgPolicy', def.id)) continue;
    await tx.insert('orgPolicy', {
      id: def.id,
      type,
      name: def.name,
      description: FULL_ACCESS_DESCRIPTION,
      content: def.content,
      awsManaged: true,
      targets: [],
      createdAt: now,
    });
  }
}

/** AWS attaches the full-access policy of every enabled type to each new OU and account. */
export async function attachFullAccess(
  tx: StoreOps,
  org: AwsOrganizationRecord,
  targetId: string,
): Promise<void> {
  for (const type of enabledTypes(org)) {
    const p = await tx.get('orgPolicy', FULL_ACCESS[type].id);
    if (p && !p.targets.includes(targetId))
      await tx.update('orgPolicy', { ...p, targets: [...p.targets, targetId] });
  }
}

/** Take a root, OU or account out of every policy's targets. */
export async function detachAll(tx: StoreOps, targetId: string): Promise<void> {
  for (const p of await tx.list('orgPolicy'))
    if (p.targets.includes(targetId))
      await tx.update('orgPolicy', { ...p, targets: p.targets.filter((t) => t !== targetId) });
}

async function depthOf(tx: StoreOps, org: AwsOrganizationRecord, parentId: string): Promise<number> {
  let depth = 0;
  let at: string | undefined = parentId;
  while (at !== undefined && at !== org.rootId && depth <= OU_MAX_DEPTH) {
    depth += 1;
    at = (await tx.get('organizationalUnit', at))?.parentId;
  }
  return depth;
}

async function sameNameSibling(
  tx: StoreOps,
  parentId: string,
  name: string,
  except?: string,
): Promise<boolean> {
  const { units } = await childrenOf(tx, parentId);
  return units.some((u) => u.name === name && u.id !== except);
}

/** The management account may not be the subject of this call: AWS's refusal for it. */
function notManagement(account: AccountRecord, org: AwsOrganizationRecord, refusal: () => JsonError): void {
  if (account.id === org.managementAccountId) throw refusal();
}

export function writeActions(deps: OrgDeps): JsonOperation<Caller>[] {
  /** A management-account write about one member account of the organization. */
  const onMemberAccount = <T extends JsonObject>(
    ctx: OrgCtx,
    accountId: string,
    fn: (tx: StoreOps, org: AwsOrganizationRecord, account: AccountRecord) => Promise<T>,
  ): Promise<T> =>
    orgCall(
      deps,
      ctx,
      { access: 'management', resources: (org) => [accountArn(org, accountId)], write: true },
      async (tx, org) => fn(tx, org, await memberAccount(tx, org, accountId)),
    );

  const now = () => deps.clock.now();
  /** A tag write (management only, authorized on the tagged resource): `next` gives its new tags. */
  const retag = (ctx: OrgCtx, resourceId: string, next: (current: Tag[]) => Tag[]) =>
    orgCall(
      deps,
      ctx,
      { access: 'management', resources: (org, tx) => tagResource(org, tx, resourceId), write: true },
      async (tx, org) => {
        const t = await taggable(tx, org, resourceId);
        await t.save(next(t.current));
        return {};
      },
    );
  return [
    operation(
      'CreateOrganization',
      (r) => r.enumeration('FeatureSet', ['ALL', 'CONSOLIDATED_BILLING'] as const),
      async (featureSet, ctx) => {
        if (featureSet === 'CONSOLIDATED_BILLING') throw jsonError('onlyAllFeatures');
        const meta = requestMeta(deps, ctx);
        const result = await orgTransaction(deps, async (tx) => {
          await authorize(deps, tx, ctx, meta, ['*']);
          // One organization per gatepass: a second is refused whoever asks.
          if ((await tx.count('awsOrganization')) > 0) throw new JsonError('AlreadyInOrganizationException');
          const management = await tx.get('account', ctx.caller.accountId);
          if (!management) throw new JsonError('AccessDeniedException');
          const org: AwsOrganizationRecord = {
            id: orgId(deps.random),
            managementAccountId: management.id,
            rootId: rootId(deps.random),
            createdAt: meta.now,
            enabledPolicyTypes: [],
          };
          await tx.insert('awsOrganization', org);
          await tx.insert('organizationalUnit', { id: org.rootId, name: 'Root', createdAt: meta.now });
          await tx.update('account', {
            ...management,
            parentId: org.rootId,
            status: 'ACTIVE',
            joinedMethod: 'INVITED',
            joinedAt: meta.now,
          });
          await ensureFullAccessPolicies(tx, meta.now);
          const created = { Organization: organizationShape(org, management) };
          await recordOrgWrite(tx, ctx, meta, String(created.Organization.Arn));
          return created;
        });
        deps.changed();
        return result;
      },
    ),
    operation(
      'DeleteOrganization',
      () => ({}),
      (_input, ctx) =>
        orgCall(deps, ctx, { access: 'management', resources: () => ['*'], write: true }, async (tx, org) => {
          const accounts = await organizationAccounts(tx, org);
          if (accounts.some((a) => a.id !== org.managementAccountId))
            throw new JsonError('OrganizationNotEmptyException');
          for (const u of await tx.list('organizationalUnit')) await tx.delete('organizationalUnit', u.id);
          for (const p of await tx.list('orgPolicy')) await tx.delete('orgPolicy', p.id);
          await tx.delete('awsOrganization', org.id);
          const m = await tx.get('account', org.managementAccountId);
          if (m) {
            const { parentId: _p, status: _s, joinedMethod: _j, joinedAt: _a, ...rest } = m;
            await tx.update('account', rest);
          }
          return {};
        }),
    ),
    operation(
      'CreateAccount',
      (r) => ({
        email: r.str('Email', { required: true, min: 6, max: 64, pattern: /^[^\s@]+@[^\s@]+\.[^\s@]+$/ }),
        name: r.str('AccountName', { required: true, min: 1, max: 50, pattern: /^[\u0020-\u007E]+$/ }),
        roleName:
          r.str('RoleName', { max: 64, pattern: /^[\w+=,.@-]{1,64}$/ }) ?? 'OrganizationAccountAccessRole',
        billing: r.enumeration('IamUserAccessToBilling', ['ALLOW', 'DENY'] as const),
        tags: readTags(r),
      }),
      (input, ctx) =>
        orgCall(deps, ctx, { access: 'management', resources: () => ['*'], write: true }, async (tx, org) => {
          if (input.roleName.startsWith('AWSServiceRoleFor'))
            throw new JsonError('InvalidInputException', undefined, 'INVALID_ROLE_NAME');
          if (input.tags) mergeTags([], input.tags);
          const t = now();
          const requestId = createAccountRequestId(deps.random);
          const taken = (await tx.list('account')).some(
            (a) => a.email?.toLowerCase() === input.email.toLowerCase(),
          );
          let accountId: string | undefined;
          if (!taken) {
            accountId = newAccountId(deps.random);
            const account: AccountRecord = {
              id: accountId,
              name: input.name,
              email: input.email,
              parentId: org.rootId,
              oidcGuardRail: true,
              createdAt: t,
              status: 'ACTIVE',
              joinedMethod: 'CREATED',
              joinedAt: t,
              ...(input.tags?.length ? { tags: input.tags } : {}),
            };
            await tx.insert('account', account);
            await attachFullAccess(tx, org, accountId);
            // As AWS does: a role the management account can assume, with full administrator rights.
            await tx.insert('role', {
              id: awsId(deps.random, 'AROA'),
              accountId,
              name: input.roleName,
              path: '/',
              arn: roleArn(accountId, '/', input.roleName),
              trustPolicy: JSON.stringify({
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { AWS: accountRootArn(org.managementAccountId) },
                    Action: 'sts:AssumeRole',
                  },
                ],
              }),
              description: '',
              maxSessionDuration: 3600,
              inlinePolicies: {},
              attachedPolicies: [ADMINISTRATOR_ACCESS],
              tags: [],
              createdAt: t,
            });
          }
          const request = {
            id: requestId,
            accountName: input.name,
            state: taken ? ('FAILED' as const) : ('SUCCEEDED' as const),
            requestedAt: t,
            completedAt: t,
            ...(accountId ? { accountId } : { failureReason: 'EMAIL_ALREADY_EXISTS' as const }),
          };
          await tx.update('awsOrganization', {
            ...org,
            createAccountRequests: [...(org.createAccountRequests ?? []), request].slice(
              -CREATE_REQUESTS_KEPT,
            ),
          });
          return { CreateAccountStatus: createAccountStatus(request) };
        }),
    ),
    operation(
      'CloseAccount',
      (r) => ({ accountId: id(r, 'AccountId', ID.account, 12) }),
      (input, ctx) =>
        onMemberAccount(ctx, input.accountId, async (tx, org, a) => {
          notManagement(
            a,
            org,
            () => new JsonError('ConstraintViolationException', undefined, 'CANNOT_CLOSE_MANAGEMENT_ACCOUNT'),
          );
          if (a.status === 'SUSPENDED') throw new JsonError('AccountAlreadyClosedException');
          await tx.update('account', { ...a, status: 'SUSPENDED' });
          return {};
        }),
    ),
    operation(
      'RemoveAccountFromOrganization',
      (r) => ({ accountId: id(r, 'AccountId', ID.account, 12) }),
      (input, ctx) =>
        onMemberAccount(ctx, input.accountId, async (tx, org, a) => {
          notManagement(a, org, () => new JsonError('MasterCannotLeaveOrganizationException'));
          const { parentId: _p, joinedMethod: _j, joinedAt: _a, ...rest } = a;
          await tx.update('account', rest);
          await detachAll(tx, a.id);
          const delegated = org.delegatedAdministrators?.filter((d) => d.accountId !== a.id);
          if (delegated && delegated.length !== org.delegatedAdministrators?.length)
            await tx.update('awsOrganization', { ...org, delegatedAdministrators: delegated });
          return {};
        }),
    ),
    operation(
      'MoveAccount',
      (r) => ({
        accountId: id(r, 'AccountId', ID.account, 12),
        source: id(r, 'SourceParentId', ID.parent, 100),
        destination: id(r, 'DestinationParentId', ID.parent, 100),
      }),
      (input, ctx) =>
        orgCall(
          deps,
          ctx,
          {
            access: 'management',
            resources: (org) => [
              accountArn(org, input.accountId),
              targetArn(org, input.source),
              targetArn(org, input.destination),
            ],
            write: true,
          },
          async (tx, org) => {
            await container(tx, org, input.source, 'SourceParentNotFoundException');
            await container(tx, org, input.destination, 'DestinationParentNotFoundException');
            const a = await memberAccount(tx, org, input.accountId);
            if (a.parentId !== input.source) throw new JsonError('AccountNotFoundException');
            if (input.source === input.destination) throw new JsonError('DuplicateAccountException');
            await tx.update('account', { ...a, parentId: input.destination });
            return {};
          },
        ),
    ),
    operation(
      'CreateOrganizationalUnit',
      (r) => ({
        parentId: id(r, 'ParentId', ID.parent, 100),
        name: r.str('Name', { required: true, min: 1, max: 128 }),
        tags: readTags(r),
      }),
      (input, ctx) =>
        orgCall(
          deps,
          ctx,
          { access: 'management', resources: (org) => [targetArn(org, input.parentId)], write: true },
          async (tx, org) => {
            await container(tx, org, input.parentId);
            if (input.tags) mergeTags([], input.tags);
            if ((await depthOf(tx, org, input.parentId)) >= OU_MAX_DEPTH)
              throw new JsonError('ConstraintViolationException', undefined, 'OU_DEPTH_LIMIT_EXCEEDED');
            if (await sameNameSibling(tx, input.parentId, input.name))
              throw new JsonError('DuplicateOrganizationalUnitException');
            const ou = {
              id: ouId(deps.random, org.rootId),
              parentId: input.parentId,
              name: input.name,
              createdAt: now(),
              ...(input.tags?.length ? { tags: input.tags } : {}),
            };
            await tx.insert('organizationalUnit', ou);
            await attachFullAccess(tx, org, ou.id);
            return { OrganizationalUnit: ouShape(org, ou) };
          },
        ),
    ),
    operation(
      'UpdateOrganizationalUnit',
      (r) => ({
        ouId: id(r, 'OrganizationalUnitId', ID.ou, 68),
        name: r.str('Name', { min: 1, max: 128 }),
      }),
      (input, ctx) =>
        orgCall(
          deps,
          ctx,
          { access: 'management', resources: (org) => [targetArn(org, input.ouId)], write: true },
          async (tx, org) => {
            const ou = await findOu(tx, input.ouId);
            if (input.name === undefined || input.name === ou.name)
              return { OrganizationalUnit: ouShape(org, ou) };
            if (ou.parentId !== undefined && (await sameNameSibling(tx, ou.parentId, input.name, ou.id)))
              throw new JsonError('DuplicateOrganizationalUnitException');
            const updated = { ...ou, name: input.name };
            await tx.update('organizationalUnit', updated);
            return { OrganizationalUnit: ouShape(org, updated) };
          },
        ),
    ),
    operation(
      'DeleteOrganizationalUnit',
      (r) => ({ ouId: id(r, 'OrganizationalUnitId', ID.ou, 68) }),
      (input, ctx) =>
        orgCall(
          deps,
          ctx,
          { access: 'management', resources: (org) => [targetArn(org, input.ouId)], write: true },
          async (tx) => {
            const ou = await findOu(tx, input.ouId);
            const { accounts, units } = await childrenOf(tx, ou.id);
            if (accounts.length > 0 || units.length > 0)
              throw new JsonError('OrganizationalUnitNotEmptyException');
            await detachAll(tx, ou.id);
            await tx.delete('organizationalUnit', ou.id);
            return {};
          },
        ),
    ),
    operation(
      'TagResource',
      (r) => ({ resourceId: id(r, 'ResourceId', ID.taggable), tags: readTags(r) ?? throwRequired() }),
      (input, ctx) => retag(ctx, input.resourceId, (current) => mergeTags(current, input.tags)),
    ),
    operation(
      'UntagResource',
      (r) => ({
        resourceId: id(r, 'ResourceId', ID.taggable),
        keys: r.strings('TagKeys', { required: true, min: 1, max: 128, pattern: TAG_TEXT }) ?? [],
      }),
      (input, ctx) =>
        retag(ctx, input.resourceId, (current) => current.filter((tag) => !input.keys.includes(tag.Key))),
    ),
    operation(
      'EnableAWSServiceAccess',
      (r) => ({ principal: r.str('ServicePrincipal', SERVICE_PRINCIPAL) }),
      (input, ctx) =>
        orgCall(deps, ctx, { access: 'management', resources: () => ['*'], write: true }, async (tx, org) => {
          const current = org.serviceAccess ?? [];
          if (!current.some((s) => s.principal === input.principal))
            await tx.update('awsOrganization', {
              ...org,
              serviceAccess: [...current, { principal: input.principal, enabledAt: now() }],
            });
          return {};
        }),
    ),
    operation(
      'DisableAWSServiceAccess',
      (r) => ({ principal: r.str('ServicePrincipal', SERVICE_PRINCIPAL) }),
      (input, ctx) =>
        orgCall(deps, ctx, { access: 'management', resources: () => ['*'], write: true }, async (tx, org) => {
          const current = org.serviceAccess ?? [];
          if (current.some((s) => s.principal === input.principal))
            await tx.update('awsOrganization', {
              ...org,
              serviceAccess: current.filter((s) => s.principal !== input.principal),
            });
          return {};
        }),
    ),
    operation(
      'RegisterDelegatedAdministrator',
      (r) => ({
        accountId: id(r, 'AccountId', ID.account, 12),
        principal: r.str('ServicePrincipal', SERVICE_PRINCIPAL),
      }),
      (input, ctx) =>
        onMemberAccount(ctx, input.accountId, async (tx, org, a) => {
          notManagement(
            a,
            org,
            () =>
              new JsonError(
                'ConstraintViolationException',
                undefined,
                'CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR',
              ),
          );
          const current = org.delegatedAdministrators ?? [];
          if (current.some((d) => d.accountId === a.id && d.servicePrincipal === input.principal))
            throw new JsonError('AccountAlreadyRegisteredException');
          await tx.update('awsOrganization', {
            ...org,
            delegatedAdministrators: [
              ...current,
              { accountId: a.id, servicePrincipal: input.principal, enabledAt: now() },
            ],
          });
          return {};
        }),
    ),
    operation(
      'DeregisterDelegatedAdministrator',
      (r) => ({
        accountId: id(r, 'AccountId', ID.account, 12),
        principal: r.str('ServicePrincipal', SERVICE_PRINCIPAL),
      }),
      (input, ctx) =>
        onMemberAccount(ctx, input.accountId, async (tx, org) => {
          const current = org.delegatedAdministrators ?? [];
          const kept = current.filter(
            (d) => !(d.accountId === input.accountId && d.servicePrincipal === input.principal),
          );
          if (kept.length === current.length) throw new JsonError('AccountNotRegisteredException');
          await tx.update('awsOrganization', { ...org, delegatedAdministrators: kept });
          return {};
        }),
    ),
  ];
}

function throwRequired(): never {
  throw new JsonError('InvalidInputException', undefined, 'INPUT_REQUIRED');
}

async function tagResource(org: AwsOrganizationRecord, tx: StoreOps, resourceId: string): Promise<string[]> {
  return [
    resourceId.startsWith('p-') ? await policyResource(tx, org, resourceId) : targetArn(org, resourceId),
  ];
}
