// Customer managed policies with versions (at most 5, one default), and where they are attached.
import { policyArn } from '../../core/arn.js';
import { awsId } from '../../core/ids.js';
import { defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { awsError } from '../../core/query/errors.js';
import type { FormReader } from '../../core/query/parse-form.js';
import type { ManagedPolicyRecord } from '../../store/records/iam.js';
import { StoreConflictError, type StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import {
  ARN,
  accountOf,
  type Ctx,
  checkNewTags,
  DESCRIPTION,
  encodeDocument,
  type IamDeps,
  iamCall,
  mergeTagList,
  NAME,
  PATH,
  POLICY_DOC,
  paginate,
  readPage,
  readTags,
  tagPage,
  tagsXml,
} from './common.js';
import { validateDocument } from './policy-document.js';

const MAX_VERSIONS = 5;
const MAX_MANAGED_BYTES = 6144;

async function findPolicy(tx: StoreOps, ctx: Ctx, arn: string): Promise<ManagedPolicyRecord> {
  const policy = await tx.getBy('managedPolicy', 'arn', arn);
  if (!policy || (policy.accountId !== accountOf(ctx) && policy.accountId !== 'aws')) {
    throw awsError('policyNotFound', arn);
  }
  return policy;
}

export interface Usage {
  /** Roles and users with the policy attached as a permissions policy. */
  attached: number;
  /** Roles and users using it as their permissions boundary. */
  boundary: number;
}

type Holder = { attachedPolicies: readonly string[]; permissionsBoundary?: string };

/** How a policy is used by these roles and users. */
export function usageIn(entities: readonly Holder[], arn: string): Usage {
  return {
    attached: entities.filter((e) => e.attachedPolicies.includes(arn)).length,
    boundary: entities.filter((e) => e.permissionsBoundary === arn).length,
  };
}

async function usageOf(tx: StoreOps, account: string, arn: string): Promise<Usage> {
  const entities = [
    ...(await tx.list('role', { index: { name: 'account', value: account } })),
    ...(await tx.list('user', { index: { name: 'account', value: account } })),
  ];
  return usageIn(entities, arn);
}

export function policyXml(p: ManagedPolicyRecord, usage: Usage) {
  return {
    PolicyName: p.name,
    PolicyId: p.id,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: usage.attached,
    PermissionsBoundaryUsageCount: usage.boundary,
    IsAttachable: true,
    Description: p.description || undefined,
    CreateDate: new Date(p.createdAt),
    UpdateDate: new Date(p.updatedAt),
    Tags: p.tags.length ? tagsXml(p.tags) : undefined,
  };
}

export function versionXml(p: ManagedPolicyRecord, versionId: string) {
  const v = p.versions.find((x) => x.versionId === versionId);
  if (!v) throw awsError('policyVersionNotAttachable', p.arn, versionId);
  return {
    Document: encodeDocument(v.document),
    VersionId: v.versionId,
    IsDefaultVersion: v.versionId === p.defaultVersionId,
    CreateDate: new Date(v.createdAt),
  };
}

const arnInput = (p: FormReader) => p.str('PolicyArn', ARN);
const VERSION_ID = {
  required: true as const,
  pattern: { re: /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/, text: 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?' },
};

export function policyActions(deps: IamDeps): QueryAction<Caller>[] {
  const run = <T>(
    ctx: Ctx,
    action: string,
    resource: string,
    fn: (tx: StoreOps) => Promise<T>,
    writes = true,
  ): Promise<T> => iamCall(deps, ctx, action, resource, fn, writes);
  return [
    defineAction({
      service: 'iam',
      name: 'CreatePolicy',
      auth: 'sigv4',
      input: (p) => ({
        name: p.str('PolicyName', NAME(128)),
        path: p.str('Path', PATH) ?? '/',
        doc: p.str('PolicyDocument', POLICY_DOC),
        description: p.str('Description', DESCRIPTION) ?? '',
        tags: readTags(p),
      }),
      handler: async (input, ctx) => {
        validateDocument(input.doc, 'identity', MAX_MANAGED_BYTES);
        const account = accountOf(ctx);
        const arn = policyArn(account, input.path, input.name);
        const now = deps.clock.now();
        const record: ManagedPolicyRecord = {
          id: awsId(deps.random, 'ANPA'),
          accountId: account,
          name: input.name,
          path: input.path,
          arn,
          description: input.description,
          defaultVersionId: 'v1',
          versions: [{ versionId: 'v1', document: input.doc, createdAt: now }],
          nextVersion: 2,
          tags: checkNewTags(input.tags),
          createdAt: now,
          updatedAt: now,
        };
        await run(ctx, 'iam:CreatePolicy', arn, async (tx) => {
          try {
            await tx.insert('managedPolicy', record);
          } catch (err) {
            if (err instanceof StoreConflictError && err.reason === 'exists') {
              throw awsError('policyNameExists', input.name);
            }
            throw err;
          }
        });
        return { Policy: policyXml(record, { attached: 0, boundary: 0 }) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'GetPolicy',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p) }),
      handler: async ({ arn }, ctx) => {
        const [policy, n] = await run(
          ctx,
          'iam:GetPolicy',
          arn,
          async (tx) => {
            const p = await findPolicy(tx, ctx, arn);
            return [p, await usageOf(tx, accountOf(ctx), arn)] as const;
          },
          false,
        );
        return { Policy: policyXml(policy, n) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListPolicies',
      auth: 'sigv4',
      input: (p) => ({
        scope: p.str('Scope', { pattern: { re: /^(All|AWS|Local)$/, text: 'All|AWS|Local' } }) ?? 'All',
        onlyAttached: p.bool('OnlyAttached') ?? false,
        prefix: p.str('PathPrefix', { min: 1, max: 512 }) ?? '/',
        usage: p.str('PolicyUsageFilter'),
        page: readPage(p),
      }),
      handler: async ({ scope, onlyAttached, prefix, page }, ctx) => {
        const account = accountOf(ctx);
        const rows = await run(
          ctx,
          'iam:ListPolicies',
          '*',
          async (tx) => {
            const owners = scope === 'AWS' ? ['aws'] : scope === 'Local' ? [account] : [account, 'aws'];
            const out: [ManagedPolicyRecord, Usage][] = [];
            for (const owner of owners) {
              for (const p of await tx.list('managedPolicy', { index: { name: 'account', value: owner } })) {
                if (!p.path.startsWith(prefix)) continue;
                const usage = await usageOf(tx, account, p.arn);
                if (onlyAttached && usage.attached + usage.boundary === 0) continue;
                out.push([p, usage]);
              }
            }
            return out.sort((a, b) => (a[0].arn < b[0].arn ? -1 : 1));
          },
          false,
        );
        const { items, ...rest } = paginate(rows, page, ([p]) => p.arn);
        return {
          Policies: items.map(([p, n]) => ({ ...policyXml(p, n), Description: undefined, Tags: undefined })),
          ...rest,
        };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'DeletePolicy',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p) }),
      handler: async ({ arn }, ctx) => {
        await run(ctx, 'iam:DeletePolicy', arn, async (tx) => {
          const p = await findPolicy(tx, ctx, arn);
          const usage = await usageOf(tx, accountOf(ctx), arn);
          if (usage.attached + usage.boundary > 0) throw awsError('policyAttached');
          if (p.versions.length > 1) throw awsError('policyHasVersions');
          await tx.delete('managedPolicy', p.id);
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'CreatePolicyVersion',
      auth: 'sigv4',
      input: (p) => ({
        arn: arnInput(p),
        doc: p.str('PolicyDocument', POLICY_DOC),
        setDefault: p.bool('SetAsDefault') ?? false,
      }),
      handler: async ({ arn, doc, setDefault }, ctx) => {
        validateDocument(doc, 'identity', MAX_MANAGED_BYTES);
        const updated = await run(ctx, 'iam:CreatePolicyVersion', arn, async (tx) => {
          const p = await findPolicy(tx, ctx, arn);
          if (p.versions.length >= MAX_VERSIONS) {
            throw awsError('policyVersionsExceeded', MAX_VERSIONS);
          }
          const versionId = `v${p.nextVersion}`;
          const now = deps.clock.now();
          const next: ManagedPolicyRecord = {
            ...p,
            versions: [...p.versions, { versionId, document: doc, createdAt: now }],
            nextVersion: p.nextVersion + 1,
            defaultVersionId: setDefault ? versionId : p.defaultVersionId,
            updatedAt: now,
          };
          await tx.update('managedPolicy', next);
          return { next, versionId };
        });
        return { PolicyVersion: versionXml(updated.next, updated.versionId) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'GetPolicyVersion',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p), versionId: p.str('VersionId', VERSION_ID) }),
      handler: async ({ arn, versionId }, ctx) => {
        const p = await run(ctx, 'iam:GetPolicyVersion', arn, (tx) => findPolicy(tx, ctx, arn), false);
        return { PolicyVersion: versionXml(p, versionId) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListPolicyVersions',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p), page: readPage(p) }),
      handler: async ({ arn, page }, ctx) => {
        const p = await run(ctx, 'iam:ListPolicyVersions', arn, (tx) => findPolicy(tx, ctx, arn), false);
        const newestFirst = [...p.versions].reverse();
        const { items, ...rest } = paginate(newestFirst, page, (v) =>
          String(1e9 - Number(v.versionId.slice(1))).padStart(10, '0'),
        );
        return {
          Versions: items.map((v) => ({ ...versionXml(p, v.versionId), Document: undefined })),
          ...rest,
        };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'DeletePolicyVersion',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p), versionId: p.str('VersionId', VERSION_ID) }),
      handler: async ({ arn, versionId }, ctx) => {
        await run(ctx, 'iam:DeletePolicyVersion', arn, async (tx) => {
          const p = await findPolicy(tx, ctx, arn);
          if (!p.versions.some((v) => v.versionId === versionId)) {
            throw awsError('policyVersionNotDeletable', arn, versionId);
          }
          if (p.defaultVersionId === versionId) throw awsError('defaultVersionNotDeletable');
          await tx.update('managedPolicy', {
            ...p,
            versions: p.versions.filter((v) => v.versionId !== versionId),
            updatedAt: deps.clock.now(),
          });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'SetDefaultPolicyVersion',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p), versionId: p.str('VersionId', VERSION_ID) }),
      handler: async ({ arn, versionId }, ctx) => {
        await run(ctx, 'iam:SetDefaultPolicyVersion', arn, async (tx) => {
          const p = await findPolicy(tx, ctx, arn);
          if (!p.versions.some((v) => v.versionId === versionId)) {
            throw awsError('policyVersionNotAttachable', arn, versionId);
          }
          await tx.update('managedPolicy', {
            ...p,
            defaultVersionId: versionId,
            updatedAt: deps.clock.now(),
          });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'TagPolicy',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p), tags: readTags(p) ?? [] }),
      handler: async ({ arn, tags }, ctx) => {
        await run(ctx, 'iam:TagPolicy', arn, async (tx) => {
          const p = await findPolicy(tx, ctx, arn);
          await tx.update('managedPolicy', { ...p, tags: mergeTagList(p.tags, tags) });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'UntagPolicy',
      auth: 'sigv4',
      input: (p) => ({
        arn: arnInput(p),
        keys: p.list('TagKeys', { required: true, maxItems: 50, min: 1, max: 128 }) ?? [],
      }),
      handler: async ({ arn, keys }, ctx) => {
        await run(ctx, 'iam:UntagPolicy', arn, async (tx) => {
          const p = await findPolicy(tx, ctx, arn);
          await tx.update('managedPolicy', { ...p, tags: p.tags.filter((t) => !keys.includes(t.Key)) });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListPolicyTags',
      auth: 'sigv4',
      input: (p) => ({ arn: arnInput(p), page: readPage(p) }),
      handler: async ({ arn, page }, ctx) => {
        const p = await run(ctx, 'iam:ListPolicyTags', arn, (tx) => findPolicy(tx, ctx, arn), false);
        return tagPage(p.tags, page);
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListEntitiesForPolicy',
      auth: 'sigv4',
      input: (p) => ({
        arn: arnInput(p),
        filter: p.str('EntityFilter', {
          pattern: {
            re: /^(User|Role|Group|LocalManagedPolicy|AWSManagedPolicy)$/,
            text: 'User|Role|Group|LocalManagedPolicy|AWSManagedPolicy',
          },
        }),
        prefix: p.str('PathPrefix', { min: 1, max: 512 }) ?? '/',
        usage: p.str('PolicyUsageFilter', {
          pattern: {
            re: /^(PermissionsPolicy|PermissionsBoundary)$/,
            text: 'PermissionsPolicy|PermissionsBoundary',
          },
        }),
        page: readPage(p),
      }),
      handler: async ({ arn, filter, prefix, usage, page }, ctx) => {
        const account = accountOf(ctx);
        // Attached as a permissions policy, as a boundary, or either when no usage filter is given.
        const uses = (e: { attachedPolicies: string[]; permissionsBoundary?: string; path: string }) =>
          e.path.startsWith(prefix) &&
          ((usage !== 'PermissionsBoundary' && e.attachedPolicies.includes(arn)) ||
            (usage !== 'PermissionsPolicy' && e.permissionsBoundary === arn));
        const found = await run(
          ctx,
          'iam:ListEntitiesForPolicy',
          arn,
          async (tx) => {
            await findPolicy(tx, ctx, arn);
            const roles =
              filter === undefined || filter === 'Role'
                ? (await tx.list('role', { index: { name: 'account', value: account } })).filter(uses)
                : [];
            const users =
              filter === undefined || filter === 'User'
                ? (await tx.list('user', { index: { name: 'account', value: account } })).filter(uses)
                : [];
            return { roles, users };
          },
          false,
        );
        // One listing, users then roles by name, paged together as AWS does.
        const entities = [
          ...found.users.map((u) => ({
            kind: 'u' as const,
            key: `1${u.name.toLowerCase()}`,
            name: u.name,
            id: u.id,
          })),
          ...found.roles.map((r) => ({
            kind: 'r' as const,
            key: `2${r.name.toLowerCase()}`,
            name: r.name,
            id: r.id,
          })),
        ].sort((a, b) => (a.key < b.key ? -1 : 1));
        const { items, ...rest } = paginate(entities, page, (e) => e.key);
        return {
          PolicyGroups: [],
          PolicyUsers: items.filter((e) => e.kind === 'u').map((u) => ({ UserName: u.name, UserId: u.id })),
          PolicyRoles: items.filter((e) => e.kind === 'r').map((r) => ({ RoleName: r.name, RoleId: r.id })),
          ...rest,
        };
      },
    }),
  ];
}
