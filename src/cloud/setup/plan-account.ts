// Planning one account of a setup file: the account itself, its OIDC providers and its managed
// policies (a changed document becomes a new default version, as IAM keeps at most five).
import { oidcProviderArn, policyArn } from '../../core/arn.js';
import { awsId } from '../../core/ids.js';
import { AwsError } from '../../core/query/errors.js';
import type { AccountRecord, Tag } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import { validateDocument } from '../iam/policy-document.js';
import type { PlanContext } from './plan-context.js';
import type { AccountSpec } from './schema.js';

export const toTags = (m: Record<string, string>): Tag[] =>
  Object.entries(m).map(([Key, Value]) => ({ Key, Value }));

/** What an account's planners share: its spec, id, place in the file and placeholder resolver. */
export interface AccountInput {
  spec: AccountSpec;
  id: string;
  /** `accounts[i]`: where the account's problems are reported. */
  base: string;
  resolve: (doc: string, path: string) => string;
}

/** `found` is the account as it was before the plan (not as an earlier entry of the file made it). */
export function planAccount(
  ctx: PlanContext,
  input: AccountInput,
  found: AccountRecord | undefined,
  parentId: string | undefined,
): void {
  const { spec: a, id } = input;
  const parent = parentId ?? found?.parentId;
  const account: AccountRecord = {
    id,
    name: a.name,
    ...(a.alias ? { alias: a.alias } : {}),
    ...(parent ? { parentId: parent } : {}),
    oidcGuardRail: a.oidcGuardRail,
    createdAt: found?.createdAt ?? ctx.now,
    // What the Organizations API owns survives a setup file that does not speak of it.
    ...(found?.email ? { email: found.email } : {}),
    ...(found?.status ? { status: found.status } : {}),
    ...(found?.joinedMethod ? { joinedMethod: found.joinedMethod } : {}),
    ...(found?.joinedAt ? { joinedAt: found.joinedAt } : {}),
    ...(found?.tags ? { tags: found.tags } : {}),
  };
  ctx.upsert('account', a.name, found, account);
  planProviders(ctx, input);
  planPolicies(ctx, input);
}

function planProviders(ctx: PlanContext, { spec: a, id, base }: AccountInput): void {
  for (const [j, p] of a.oidcProviders.entries()) {
    const arn = oidcProviderArn(id, p.url);
    const existing = ctx.view.get('oidcProvider', arn);
    ctx.upsert('oidcProvider', `${a.name}/oidc-provider/${p.url.replace(/^https:\/\//, '')}`, existing, {
      id: arn,
      accountId: id,
      url: p.url,
      clientIds: [...new Set(p.clientIds)],
      thumbprints: [...new Set(p.thumbprints.map((t) => t.toLowerCase()))],
      tags: toTags(p.tags),
      createdAt: existing?.createdAt ?? ctx.now,
    });
    if (p.clientIds.length > 100)
      ctx.problem(`${base}.oidcProviders[${j}].clientIds`, 'at most 100 client ids');
    if (p.thumbprints.length > 5)
      ctx.problem(`${base}.oidcProviders[${j}].thumbprints`, 'at most 5 thumbprints');
  }
}

function planPolicies(ctx: PlanContext, { spec: a, id, base, resolve }: AccountInput): void {
  const { now } = ctx;
  for (const [j, p] of a.policies.entries()) {
    const path = `${base}.policies[${j}].document`;
    const doc = resolve(p.document, path);
    if (!checkDocument(ctx, doc, path)) continue;
    const name = `${a.name}/policy/${p.name}`;
    const existing = ctx.view.getBy('managedPolicy', 'accountName', indexKey(id, p.name.toLowerCase()));
    const current = existing?.versions.find((v) => v.versionId === existing.defaultVersionId)?.document;
    if (existing && current === doc && existing.description === p.description && existing.path === p.path) {
      ctx.note('unchanged', 'managedPolicy', name);
      continue;
    }
    if (existing) {
      // A changed document becomes a new default version; the oldest non-default goes at five.
      let versions = existing.versions;
      if (current !== doc) {
        if (versions.length >= 5)
          versions = versions.filter(
            (v, k) =>
              v.versionId === existing.defaultVersionId ||
              k !== versions.findIndex((x) => x.versionId !== existing.defaultVersionId),
          );
        versions = [...versions, { versionId: `v${existing.nextVersion}`, document: doc, createdAt: now }];
      }
      ctx.write('update', 'managedPolicy', {
        ...existing,
        description: p.description,
        versions,
        ...(current !== doc
          ? { defaultVersionId: `v${existing.nextVersion}`, nextVersion: existing.nextVersion + 1 }
          : {}),
        updatedAt: now,
      });
      ctx.note(
        'update',
        'managedPolicy',
        name,
        [
          current !== doc ? 'document' : '',
          existing.description !== p.description ? 'description' : '',
        ].filter(Boolean),
      );
    } else {
      ctx.write('insert', 'managedPolicy', {
        id: awsId(ctx.random, 'ANPA'),
        accountId: id,
        name: p.name,
        path: p.path,
        arn: policyArn(id, p.path, p.name),
        description: p.description,
        defaultVersionId: 'v1',
        versions: [{ versionId: 'v1', document: doc, createdAt: now }],
        nextVersion: 2,
        tags: [],
        createdAt: now,
        updatedAt: now,
      });
      ctx.note('create', 'managedPolicy', name);
    }
  }
}

/** An identity policy document that IAM would take; a problem at `path` when not. */
export function checkDocument(ctx: PlanContext, doc: string, path: string): boolean {
  try {
    validateDocument(doc, 'identity');
    return true;
  } catch (err) {
    ctx.problem(path, err instanceof AwsError ? `${err.code}: ${err.message}` : String(err));
    return false;
  }
}
