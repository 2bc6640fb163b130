// IAM users and their long-term access keys (AKIA…), for administrators and automation that sets
// gatepass up. Secrets are derived from a sealing key, never stored, and shown once at creation.
import { userArn } from '../../core/arn.js';
import { awsId } from '../../core/ids.js';
import { defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { AwsError, awsError } from '../../core/query/errors.js';
import type { FormReader } from '../../core/query/parse-form.js';
import type { AccessKeyRecord, UserRecord } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import { StoreConflictError, type StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import {
  accountOf,
  type Ctx,
  checkNewTags,
  entityCall,
  type IamDeps,
  iamCall,
  listByPath,
  NAME,
  noSuchEntity,
  PATH,
  paginate,
  readPage,
  readTags,
  tagsXml,
} from './common.js';

const MAX_KEYS_PER_USER = 2;

export async function findUser(tx: StoreOps, account: string, name: string): Promise<UserRecord> {
  const user = await tx.getBy('user', 'accountName', indexKey(account, name.toLowerCase()));
  if (!user) throw noSuchEntity('user', name);
  return user;
}

export function userXml(u: UserRecord) {
  return {
    Path: u.path,
    UserName: u.name,
    UserId: u.id,
    Arn: u.arn,
    CreateDate: new Date(u.createdAt),
    PermissionsBoundary: u.permissionsBoundary
      ? { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: u.permissionsBoundary }
      : undefined,
    Tags: u.tags.length ? tagsXml(u.tags) : undefined,
  };
}

const keyXml = (k: AccessKeyRecord) => ({
  UserName: k.userName,
  AccessKeyId: k.id,
  Status: k.status,
  CreateDate: new Date(k.createdAt),
});

/** Create a user record (used by the API and by bootstrap). */
export function newUser(
  deps: Pick<IamDeps, 'random' | 'clock'>,
  account: string,
  name: string,
  path = '/',
  tags: UserRecord['tags'] = [],
): UserRecord {
  return {
    id: awsId(deps.random, 'AIDA'),
    accountId: account,
    name,
    path,
    arn: userArn(account, path, name),
    inlinePolicies: {},
    attachedPolicies: [],
    tags,
    createdAt: deps.clock.now(),
  };
}

/** What creating a key needs: usable offline (setup, bootstrap) as well as from the API. */
export type KeyDeps = Pick<IamDeps, 'random' | 'clock' | 'accessKeySecret' | 'currentKeyVersion'>;

export async function createAccessKey(
  deps: KeyDeps,
  tx: StoreOps,
  user: UserRecord,
): Promise<{ record: AccessKeyRecord; secret: string }> {
  if ((await tx.count('accessKey', { index: { name: 'user', value: user.id } })) >= MAX_KEYS_PER_USER) {
    throw awsError('quotaExceeded', 'AccessKeysPerUser', MAX_KEYS_PER_USER);
  }
  const record: AccessKeyRecord = {
    id: awsId(deps.random, 'AKIA'),
    accountId: user.accountId,
    userId: user.id,
    userName: user.name,
    status: 'Active',
    keyVersion: deps.currentKeyVersion(),
    createdAt: deps.clock.now(),
  };
  await tx.insert('accessKey', record);
  return { record, secret: deps.accessKeySecret(record.id, record.keyVersion) };
}

const userName = (p: FormReader) => p.str('UserName', NAME(64));

export function userActions(deps: IamDeps): QueryAction<Caller>[] {
  const run = entityCall(deps, 'user');
  /** Without UserName, key actions apply to the calling user (AWS). */
  const keyOwner = (ctx: Ctx, name: string | undefined): string => {
    if (name !== undefined) return name;
    if (ctx.caller.kind === 'user') return ctx.caller.userName;
    throw awsError('userNameRequired');
  };

  return [
    defineAction({
      service: 'iam',
      name: 'CreateUser',
      auth: 'sigv4',
      input: (p) => ({
        name: userName(p),
        path: p.str('Path', PATH) ?? '/',
        boundary: p.str('PermissionsBoundary', { min: 20, max: 2048 }),
        tags: readTags(p),
      }),
      handler: async (input, ctx) => {
        const user = newUser(deps, accountOf(ctx), input.name, input.path, checkNewTags(input.tags));
        if (input.boundary) user.permissionsBoundary = input.boundary;
        await iamCall(deps, ctx, 'iam:CreateUser', user.arn, async (tx) => {
          try {
            await tx.insert('user', user);
          } catch (err) {
            if (err instanceof StoreConflictError && err.reason === 'exists') {
              throw awsError('userExists', input.name);
            }
            throw err;
          }
        });
        return { User: userXml(user) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'GetUser',
      auth: 'sigv4',
      input: (p) => ({ name: p.str('UserName', { min: 1, max: 128 }) }),
      handler: async ({ name }, ctx) => {
        const target = keyOwner(ctx, name);
        const user = await run(
          ctx,
          'iam:GetUser',
          target,
          (tx) => findUser(tx, accountOf(ctx), target),
          false,
        );
        return { User: userXml(user) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListUsers',
      auth: 'sigv4',
      input: (p) => ({ prefix: p.str('PathPrefix', { min: 1, max: 512 }) ?? '/', page: readPage(p) }),
      handler: async ({ prefix, page }, ctx) => {
        const { items, ...rest } = await listByPath(deps, ctx, 'iam:ListUsers', 'user', prefix, page);
        return { Users: items.map((u) => ({ ...userXml(u), Tags: undefined })), ...rest };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'DeleteUser',
      auth: 'sigv4',
      input: (p) => ({ name: userName(p) }),
      handler: async ({ name }, ctx) => {
        await run(ctx, 'iam:DeleteUser', name, async (tx) => {
          const user = await findUser(tx, accountOf(ctx), name);
          const keys = await tx.count('accessKey', { index: { name: 'user', value: user.id } });
          if (keys > 0 || Object.keys(user.inlinePolicies).length > 0 || user.attachedPolicies.length > 0) {
            throw awsError('userHasKeysOrPolicies');
          }
          await tx.delete('user', user.id);
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'CreateAccessKey',
      auth: 'sigv4',
      input: (p) => ({ name: p.str('UserName', { min: 1, max: 128 }) }),
      handler: async ({ name }, ctx) => {
        const target = keyOwner(ctx, name);
        const { record, secret } = await run(ctx, 'iam:CreateAccessKey', target, async (tx) =>
          createAccessKey(deps, tx, await findUser(tx, accountOf(ctx), target)),
        );
        return { AccessKey: { ...keyXml(record), SecretAccessKey: secret } };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListAccessKeys',
      auth: 'sigv4',
      input: (p) => ({ name: p.str('UserName', { min: 1, max: 128 }), page: readPage(p) }),
      handler: async ({ name, page }, ctx) => {
        const target = keyOwner(ctx, name);
        const keys = await run(
          ctx,
          'iam:ListAccessKeys',
          target,
          async (tx) =>
            tx.list('accessKey', {
              index: { name: 'user', value: (await findUser(tx, accountOf(ctx), target)).id },
            }),
          false,
        );
        const { items, ...rest } = paginate(keys, page, (k) => k.id);
        return { AccessKeyMetadata: items.map(keyXml), ...rest };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'UpdateAccessKey',
      auth: 'sigv4',
      input: (p) => ({
        name: p.str('UserName', { min: 1, max: 128 }),
        id: p.str('AccessKeyId', { required: true, min: 16, max: 128 }),
        status: p.str('Status', {
          required: true,
          pattern: { re: /^(Active|Inactive)$/, text: 'Active|Inactive' },
        }) as 'Active' | 'Inactive',
      }),
      handler: async ({ name, id, status }, ctx) => {
        const target = keyOwner(ctx, name);
        await run(ctx, 'iam:UpdateAccessKey', target, async (tx) => {
          const user = await findUser(tx, accountOf(ctx), target);
          const key = await tx.get('accessKey', id);
          if (!key || key.userId !== user.id) throw awsError('accessKeyNotFound', id);
          await tx.update('accessKey', { ...key, status });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'DeleteAccessKey',
      auth: 'sigv4',
      input: (p) => ({
        name: p.str('UserName', { min: 1, max: 128 }),
        id: p.str('AccessKeyId', { required: true, min: 16, max: 128 }),
      }),
      handler: async ({ name, id }, ctx) => {
        const target = keyOwner(ctx, name);
        await run(ctx, 'iam:DeleteAccessKey', target, async (tx) => {
          const user = await findUser(tx, accountOf(ctx), target);
          const key = await tx.get('accessKey', id);
          if (!key || key.userId !== user.id) throw awsError('accessKeyNotFound', id);
          await tx.delete('accessKey', id);
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListGroupsForUser',
      auth: 'sigv4',
      input: (p) => ({ name: userName(p), page: readPage(p) }),
      handler: async ({ name }, ctx) => {
        // gatepass has no IAM groups; the user must still exist (Terraform asks before deleting one).
        await run(ctx, 'iam:ListGroupsForUser', name, (tx) => findUser(tx, accountOf(ctx), name), false);
        return { Groups: [], IsTruncated: false };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'GetAccessKeyLastUsed',
      auth: 'sigv4',
      input: (p) => ({ id: p.str('AccessKeyId', { required: true, min: 16, max: 128 }) }),
      handler: async ({ id }, ctx) => {
        const key = await run(
          ctx,
          'iam:GetAccessKeyLastUsed',
          undefined,
          (tx) => tx.get('accessKey', id),
          false,
        );
        if (!key || key.accountId !== accountOf(ctx)) throw new AwsError('AccessDenied');
        return {
          UserName: key.userName,
          AccessKeyLastUsed: {
            Region: 'N/A',
            ServiceName: 'N/A',
            ...(key.lastUsedAt ? { LastUsedDate: new Date(key.lastUsedAt) } : {}),
          },
        };
      },
    }),
  ];
}
