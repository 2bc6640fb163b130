// IAM roles: trust policy, permissions, boundary, tags. The trust policy is validated as AWS does
// (kind 'trust', 2048 characters without whitespace) and, beyond AWS, by the OIDC guard rail.
import { roleArn } from '../../core/arn.js';
import { awsId } from '../../core/ids.js';
import { type IssuerInfo, oidcTrustIsPinned, type Policy } from '../../core/policy/index.js';
import { defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { awsError } from '../../core/query/errors.js';
import type { FormReader } from '../../core/query/parse-form.js';
import type { RoleRecord } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import { StoreConflictError, type StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import {
  ARN,
  accountOf,
  type Ctx,
  checkNewTags,
  DESCRIPTION,
  encodeDocument,
  entityCall,
  type IamDeps,
  iamCall,
  listByPath,
  NAME,
  noSuchEntity,
  PATH,
  POLICY_DOC,
  readPage,
  readTags,
  tagsXml,
} from './common.js';
import { validateDocument } from './policy-document.js';

/** Validate a trust policy and apply the OIDC guard rail of the account (on unless switched off). */
export async function guardRail(tx: StoreOps, account: string, text: string): Promise<void> {
  const policy = validateDocument(text, 'trust');
  const accountRecord = await tx.get('account', account);
  if (accountRecord && !accountRecord.oidcGuardRail) return;
  const providers = await tx.list('oidcProvider', { index: { name: 'account', value: account } });
  requirePinnedTrust(
    policy,
    providers.map((p) => p.url),
  );
}

/** The OIDC guard rail over a parsed trust policy and the URLs of its account's identity providers. */
export function requirePinnedTrust(policy: Policy, providerUrls: readonly string[]): void {
  const issuers: IssuerInfo[] = providerUrls.map((url) => ({ prefix: url.replace(/^https:\/\//, '') }));
  const verdict = oidcTrustIsPinned(policy, issuers);
  if (!verdict.ok) {
    throw awsError('trustNotPinned', verdict.reason);
  }
}

export async function findRole(tx: StoreOps, account: string, name: string): Promise<RoleRecord> {
  const role = await tx.getBy('role', 'accountName', indexKey(account, name.toLowerCase()));
  if (!role) throw noSuchEntity('role', name);
  return role;
}

async function checkBoundary(tx: StoreOps, arn: string): Promise<void> {
  const policy = await tx.getBy('managedPolicy', 'arn', arn);
  if (!policy) throw awsError('policyNotAttachable', arn);
}

export function roleXml(r: RoleRecord) {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.id,
    Arn: r.arn,
    CreateDate: new Date(r.createdAt),
    AssumeRolePolicyDocument: encodeDocument(r.trustPolicy),
    Description: r.description || undefined,
    MaxSessionDuration: r.maxSessionDuration,
    PermissionsBoundary: r.permissionsBoundary
      ? { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: r.permissionsBoundary }
      : undefined,
    Tags: r.tags.length ? tagsXml(r.tags) : undefined,
    RoleLastUsed: r.lastUsedAt ? { LastUsedDate: new Date(r.lastUsedAt) } : {},
  };
}

const roleName = (p: FormReader) => p.str('RoleName', NAME(64));

export function roleActions(deps: IamDeps): QueryAction<Caller>[] {
  const run = entityCall(deps, 'role');
  const mutate = (
    ctx: Ctx,
    action: string,
    name: string,
    change: (role: RoleRecord, tx: StoreOps) => Promise<RoleRecord> | RoleRecord,
  ) =>
    run(ctx, action, name, async (tx) => {
      const role = await findRole(tx, accountOf(ctx), name);
      await tx.update('role', await change(role, tx));
    });

  return [
    defineAction({
      service: 'iam',
      name: 'CreateRole',
      auth: 'sigv4',
      input: (p) => ({
        name: roleName(p),
        path: p.str('Path', PATH) ?? '/',
        trust: p.str('AssumeRolePolicyDocument', POLICY_DOC),
        description: p.str('Description', DESCRIPTION) ?? '',
        maxSessionDuration: p.int('MaxSessionDuration', { min: 3600, max: 43200 }) ?? 3600,
        boundary: p.str('PermissionsBoundary', { min: 20, max: 2048 }),
        tags: readTags(p),
      }),
      handler: async (input, ctx) => {
        const account = accountOf(ctx);
        const tags = checkNewTags(input.tags);
        // Authorized against the ARN the role will have, path included (a policy may scope to /runs/*).
        const arn = roleArn(account, input.path, input.name);
        const role = await iamCall(deps, ctx, 'iam:CreateRole', arn, async (tx) => {
          await guardRail(tx, account, input.trust);
          if (input.boundary) await checkBoundary(tx, input.boundary);
          const record: RoleRecord = {
            id: awsId(deps.random, 'AROA'),
            accountId: account,
            name: input.name,
            path: input.path,
            arn,
            trustPolicy: input.trust,
            description: input.description,
            maxSessionDuration: input.maxSessionDuration,
            ...(input.boundary ? { permissionsBoundary: input.boundary } : {}),
            inlinePolicies: {},
            attachedPolicies: [],
            tags,
            createdAt: deps.clock.now(),
          };
          try {
            await tx.insert('role', record);
          } catch (err) {
            if (err instanceof StoreConflictError && err.reason === 'exists') {
              throw awsError('roleExists', input.name);
            }
            throw err;
          }
          return record;
        });
        return { Role: roleXml(role) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'GetRole',
      auth: 'sigv4',
      input: (p) => ({ name: roleName(p) }),
      handler: async ({ name }, ctx) => {
        const role = await run(ctx, 'iam:GetRole', name, (tx) => findRole(tx, accountOf(ctx), name), false);
        return { Role: roleXml(role) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListRoles',
      auth: 'sigv4',
      input: (p) => ({ prefix: p.str('PathPrefix', { min: 1, max: 512 }) ?? '/', page: readPage(p) }),
      handler: async ({ prefix, page }, ctx) => {
        const { items, ...rest } = await listByPath(deps, ctx, 'iam:ListRoles', 'role', prefix, page);
        // ListRoles omits tags and boundary details, as AWS does.
        return {
          Roles: items.map((r) => ({
            ...roleXml(r),
            Tags: undefined,
            PermissionsBoundary: undefined,
            RoleLastUsed: undefined,
          })),
          ...rest,
        };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'UpdateRole',
      auth: 'sigv4',
      input: (p) => ({
        name: roleName(p),
        description: p.str('Description', DESCRIPTION),
        max: p.int('MaxSessionDuration', { min: 3600, max: 43200 }),
      }),
      handler: async ({ name, description, max }, ctx) => {
        await mutate(ctx, 'iam:UpdateRole', name, (r) => ({
          ...r,
          ...(description !== undefined ? { description } : {}),
          ...(max !== undefined ? { maxSessionDuration: max } : {}),
        }));
        return {};
      },
    }),
    defineAction({
      service: 'iam',
      name: 'UpdateRoleDescription',
      auth: 'sigv4',
      input: (p) => ({
        name: roleName(p),
        description: p.str('Description', { ...DESCRIPTION, required: true }),
      }),
      handler: async ({ name, description }, ctx) => {
        let updated: RoleRecord | undefined;
        await mutate(ctx, 'iam:UpdateRoleDescription', name, (r) => {
          updated = { ...r, description };
          return updated;
        });
        return updated ? { Role: roleXml(updated) } : {};
      },
    }),
    defineAction({
      service: 'iam',
      name: 'UpdateAssumeRolePolicy',
      auth: 'sigv4',
      input: (p) => ({ name: roleName(p), trust: p.str('PolicyDocument', POLICY_DOC) }),
      handler: async ({ name, trust }, ctx) => {
        await mutate(ctx, 'iam:UpdateAssumeRolePolicy', name, async (r, tx) => {
          await guardRail(tx, r.accountId, trust);
          return { ...r, trustPolicy: trust };
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'DeleteRole',
      auth: 'sigv4',
      input: (p) => ({ name: roleName(p) }),
      handler: async ({ name }, ctx) => {
        await run(ctx, 'iam:DeleteRole', name, async (tx) => {
          const role = await findRole(tx, accountOf(ctx), name);
          if (Object.keys(role.inlinePolicies).length > 0 || role.attachedPolicies.length > 0) {
            throw awsError('roleHasPolicies');
          }
          await tx.delete('role', role.id);
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'PutRolePermissionsBoundary',
      auth: 'sigv4',
      input: (p) => ({ name: roleName(p), arn: p.str('PermissionsBoundary', ARN) }),
      handler: async ({ name, arn }, ctx) => {
        await mutate(ctx, 'iam:PutRolePermissionsBoundary', name, async (r, tx) => {
          await checkBoundary(tx, arn);
          return { ...r, permissionsBoundary: arn };
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'DeleteRolePermissionsBoundary',
      auth: 'sigv4',
      input: (p) => ({ name: roleName(p) }),
      handler: async ({ name }, ctx) => {
        await mutate(ctx, 'iam:DeleteRolePermissionsBoundary', name, ({ permissionsBoundary: _, ...r }) => r);
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListInstanceProfilesForRole',
      auth: 'sigv4',
      input: (p) => ({ name: roleName(p), page: readPage(p) }),
      handler: async ({ name }, ctx) => {
        // gatepass has no EC2, so no instance profiles; the role must still exist.
        await run(
          ctx,
          'iam:ListInstanceProfilesForRole',
          name,
          (tx) => findRole(tx, accountOf(ctx), name),
          false,
        );
        return { InstanceProfiles: [], IsTruncated: false };
      },
    }),
  ];
}
