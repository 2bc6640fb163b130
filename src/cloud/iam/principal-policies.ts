// The actions roles and users share, generated for each: tags (Tag/Untag/List…Tags), inline
// policies (Put/Get/Delete/List…Policies) and attached managed policies (Attach/Detach/ListAttached…).
import { parseArn } from '../../core/arn.js';
import { defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { awsError } from '../../core/query/errors.js';
import type { FormReader } from '../../core/query/parse-form.js';
import type { RoleRecord, UserRecord } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import {
  ARN,
  accountOf,
  type Ctx,
  encodeDocument,
  entityArn,
  type IamDeps,
  iamCall,
  mergeTagList,
  NAME,
  noSuchEntity,
  POLICY_DOC,
  paginate,
  readPage,
  readTags,
  tagPage,
} from './common.js';
import { validateDocument } from './policy-document.js';

type Entity = RoleRecord | UserRecord;

export interface EntitySpec<E extends Entity> {
  kind: E extends RoleRecord ? 'role' : 'user';
  /** `Role` or `User`, as in action and parameter names. */
  noun: 'Role' | 'User';
  /** Inline policy size limit (characters without whitespace): roles 10,240, users 2,048. */
  inlineMax: number;
  /** Managed policies per entity. */
  attachedMax: number;
}

export function principalPolicyActions<E extends Entity>(
  deps: IamDeps,
  spec: EntitySpec<E>,
): QueryAction<Caller>[] {
  const { noun } = spec;
  const lower = noun.toLowerCase();
  const nameOf = (p: FormReader) => p.str(`${noun}Name`, NAME(64));
  const find = async (tx: StoreOps, ctx: Ctx, name: string): Promise<E> => {
    const found = (await tx.getBy(
      spec.kind,
      'accountName',
      `${accountOf(ctx)}\u001f${name.toLowerCase()}`,
    )) as E | undefined;
    if (!found) throw noSuchEntity(lower, name);
    return found;
  };
  const call = <T>(
    ctx: Ctx,
    action: string,
    name: string,
    fn: (tx: StoreOps) => Promise<T>,
    writes: boolean,
  ) =>
    iamCall(deps, ctx, `iam:${action}`, (tx) => entityArn(tx, spec.kind, accountOf(ctx), name), fn, writes);
  const read = (ctx: Ctx, action: string, name: string) =>
    call(ctx, action, name, (tx) => find(tx, ctx, name), false);
  const mutate = (ctx: Ctx, action: string, name: string, change: (e: E, tx: StoreOps) => Promise<E> | E) =>
    call(
      ctx,
      action,
      name,
      async (tx) => {
        const entity = await find(tx, ctx, name);
        await tx.update(spec.kind, (await change(entity, tx)) as never);
      },
      true,
    );
  const noInline = (policyName: string) => awsError('entityNotFound', `${lower} policy`, policyName);

  return [
    defineAction({
      service: 'iam',
      name: `Tag${noun}`,
      auth: 'sigv4',
      input: (p) => ({ name: nameOf(p), tags: readTags(p) ?? [] }),
      handler: async ({ name, tags }, ctx) => {
        await mutate(ctx, `Tag${noun}`, name, (e) => ({ ...e, tags: mergeTagList(e.tags, tags) }));
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: `Untag${noun}`,
      auth: 'sigv4',
      input: (p) => ({
        name: nameOf(p),
        keys: p.list('TagKeys', { required: true, maxItems: 50, min: 1, max: 128 }) ?? [],
      }),
      handler: async ({ name, keys }, ctx) => {
        await mutate(ctx, `Untag${noun}`, name, (e) => ({
          ...e,
          tags: e.tags.filter((t) => !keys.includes(t.Key)),
        }));
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: `List${noun}Tags`,
      auth: 'sigv4',
      input: (p) => ({ name: nameOf(p), page: readPage(p) }),
      handler: async ({ name, page }, ctx) => {
        const entity = await read(ctx, `List${noun}Tags`, name);
        return tagPage(entity.tags, page);
      },
    }),
    defineAction({
      service: 'iam',
      name: `Put${noun}Policy`,
      auth: 'sigv4',
      input: (p) => ({
        name: nameOf(p),
        policyName: p.str('PolicyName', NAME(128)),
        doc: p.str('PolicyDocument', POLICY_DOC),
      }),
      handler: async ({ name, policyName, doc }, ctx) => {
        validateDocument(doc, 'identity', spec.inlineMax);
        await mutate(ctx, `Put${noun}Policy`, name, (e) => ({
          ...e,
          inlinePolicies: { ...e.inlinePolicies, [policyName]: doc },
        }));
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: `Get${noun}Policy`,
      auth: 'sigv4',
      input: (p) => ({ name: nameOf(p), policyName: p.str('PolicyName', NAME(128)) }),
      handler: async ({ name, policyName }, ctx) => {
        const entity = await read(ctx, `Get${noun}Policy`, name);
        const doc = Object.hasOwn(entity.inlinePolicies, policyName)
          ? entity.inlinePolicies[policyName]
          : undefined;
        if (doc === undefined) throw noInline(policyName);
        return { [`${noun}Name`]: entity.name, PolicyName: policyName, PolicyDocument: encodeDocument(doc) };
      },
    }),
    defineAction({
      service: 'iam',
      name: `Delete${noun}Policy`,
      auth: 'sigv4',
      input: (p) => ({ name: nameOf(p), policyName: p.str('PolicyName', NAME(128)) }),
      handler: async ({ name, policyName }, ctx) => {
        await mutate(ctx, `Delete${noun}Policy`, name, (e) => {
          if (!Object.hasOwn(e.inlinePolicies, policyName)) throw noInline(policyName);
          const { [policyName]: _, ...rest } = e.inlinePolicies;
          return { ...e, inlinePolicies: rest };
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: `List${noun}Policies`,
      auth: 'sigv4',
      input: (p) => ({ name: nameOf(p), page: readPage(p) }),
      handler: async ({ name, page }, ctx) => {
        const entity = await read(ctx, `List${noun}Policies`, name);
        const { items, ...rest } = paginate(Object.keys(entity.inlinePolicies).sort(), page, (n) => n);
        return { PolicyNames: items, ...rest };
      },
    }),
    defineAction({
      service: 'iam',
      name: `Attach${noun}Policy`,
      auth: 'sigv4',
      input: (p) => ({ name: nameOf(p), arn: p.str('PolicyArn', ARN) }),
      handler: async ({ name, arn }, ctx) => {
        await mutate(ctx, `Attach${noun}Policy`, name, async (e, tx) => {
          if (!(await tx.getBy('managedPolicy', 'arn', arn))) {
            throw awsError('policyNotAttachable', arn);
          }
          if (e.attachedPolicies.includes(arn)) return e;
          if (e.attachedPolicies.length >= spec.attachedMax) {
            throw awsError('quotaExceeded', `PoliciesPer${noun}`, spec.attachedMax);
          }
          return { ...e, attachedPolicies: [...e.attachedPolicies, arn] };
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: `Detach${noun}Policy`,
      auth: 'sigv4',
      input: (p) => ({ name: nameOf(p), arn: p.str('PolicyArn', ARN) }),
      handler: async ({ name, arn }, ctx) => {
        await mutate(ctx, `Detach${noun}Policy`, name, (e) => {
          if (!e.attachedPolicies.includes(arn)) throw awsError('policyNotFound', arn);
          return { ...e, attachedPolicies: e.attachedPolicies.filter((a) => a !== arn) };
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: `ListAttached${noun}Policies`,
      auth: 'sigv4',
      input: (p) => ({
        name: nameOf(p),
        prefix: p.str('PathPrefix', { min: 1, max: 512 }),
        page: readPage(p),
      }),
      handler: async ({ name, prefix, page }, ctx) => {
        const entity = await read(ctx, `ListAttached${noun}Policies`, name);
        const attached = entity.attachedPolicies
          .map((arn) => ({ arn, resource: parseArn(arn)?.resource ?? arn }))
          // The policy's path is its resource minus `policy` and the name: `policy/runs/x` → `/runs/`.
          .filter((a) => prefix === undefined || a.resource.slice('policy'.length).startsWith(prefix))
          .map((a) => ({ PolicyName: a.resource.split('/').at(-1) ?? a.arn, PolicyArn: a.arn }));
        const { items, ...rest } = paginate(attached, page, (a) => a.PolicyArn);
        return { AttachedPolicies: items, ...rest };
      },
    }),
  ];
}
