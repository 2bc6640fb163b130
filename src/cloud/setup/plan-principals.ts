// Planning an account's roles and users: documents resolved and checked, the OIDC guard rail on
// trust policies, managed policies named by name, `aws:<Name>` or ARN and found to exist.
import { roleArn, userArn } from '../../core/arn.js';
import { awsId } from '../../core/ids.js';
import { indexKey } from '../../store/schema.js';
import { validateDocument } from '../iam/policy-document.js';
import { requirePinnedTrust } from '../iam/roles.js';
import { type AccountInput, checkDocument, toTags } from './plan-account.js';
import type { PlanContext } from './plan-context.js';

/** The ARN a policy reference names; a problem at `path` when no such managed policy exists. */
function policyRef(ctx: PlanContext, id: string, ref: string, path: string): string {
  const arn = ref.startsWith('arn:')
    ? ref
    : ref.startsWith('aws:')
      ? `arn:aws:iam::aws:policy/${ref.slice(4)}`
      : ctx.view.getBy('managedPolicy', 'accountName', indexKey(id, ref.toLowerCase()))?.arn;
  if (!arn || !ctx.view.getBy('managedPolicy', 'arn', arn)) ctx.problem(path, `no managed policy ${ref}`);
  return arn ?? ref;
}

const attachedPolicies = (ctx: PlanContext, id: string, refs: readonly string[], path: string): string[] =>
  refs.map((ref, k) => policyRef(ctx, id, ref, `${path}.attachedPolicies[${k}]`));

/** Inline policies resolved; those IAM would refuse are problems, and left out. */
function inlinePolicies(ctx: PlanContext, input: AccountInput, docs: Record<string, string>, path: string) {
  const inline: Record<string, string> = {};
  for (const [name, doc] of Object.entries(docs)) {
    const resolved = input.resolve(doc, `${path}.inlinePolicies.${name}`);
    if (checkDocument(ctx, resolved, `${path}.inlinePolicies.${name}`)) inline[name] = resolved;
  }
  return inline;
}

/** The trust policy as IAM's CreateRole checks it: valid, and pinned when the guard rail is on. */
function checkTrust(ctx: PlanContext, accountId: string, trust: string, path: string): void {
  try {
    const policy = validateDocument(trust, 'trust');
    const account = ctx.view.get('account', accountId);
    if (account && !account.oidcGuardRail) return;
    const providers = ctx.view.list('oidcProvider', { name: 'account', value: accountId });
    requirePinnedTrust(
      policy,
      providers.map((p) => p.url),
    );
  } catch (err) {
    ctx.problem(path, err instanceof Error ? err.message : String(err));
  }
}

export function planRoles(ctx: PlanContext, input: AccountInput): void {
  const { spec: a, id, base } = input;
  for (const [j, r] of a.roles.entries()) {
    const path = `${base}.roles[${j}]`;
    const trust = input.resolve(r.trustPolicy, `${path}.trustPolicy`);
    checkTrust(ctx, id, trust, `${path}.trustPolicy`);
    const inline = inlinePolicies(ctx, input, r.inlinePolicies, path);
    const attached = attachedPolicies(ctx, id, r.attachedPolicies, path);
    if (attached.length > 10) ctx.problem(`${path}.attachedPolicies`, 'at most 10 managed policies per role');
    const boundary =
      r.permissionsBoundary !== undefined
        ? policyRef(ctx, id, r.permissionsBoundary, `${path}.permissionsBoundary`)
        : undefined;
    const existing = ctx.view.getBy('role', 'accountName', indexKey(id, r.name.toLowerCase()));
    ctx.upsert('role', `${a.name}/role/${r.name}`, existing, {
      id: existing?.id ?? awsId(ctx.random, 'AROA'),
      accountId: id,
      name: r.name,
      path: r.path,
      arn: roleArn(id, r.path, r.name),
      trustPolicy: trust,
      description: r.description,
      maxSessionDuration: r.maxSessionDuration,
      ...(boundary ? { permissionsBoundary: boundary } : {}),
      inlinePolicies: inline,
      attachedPolicies: attached,
      tags: toTags(r.tags),
      createdAt: existing?.createdAt ?? ctx.now,
      ...(existing?.lastUsedAt ? { lastUsedAt: existing.lastUsedAt } : {}),
    });
  }
}

export function planUsers(ctx: PlanContext, input: AccountInput): void {
  const { spec: a, id, base } = input;
  for (const [j, u] of a.users.entries()) {
    const path = `${base}.users[${j}]`;
    const inline = inlinePolicies(ctx, input, u.inlinePolicies, path);
    const attached = attachedPolicies(ctx, id, u.attachedPolicies, path);
    const existing = ctx.view.getBy('user', 'accountName', indexKey(id, u.name.toLowerCase()));
    ctx.upsert('user', `${a.name}/user/${u.name}`, existing, {
      id: existing?.id ?? awsId(ctx.random, 'AIDA'),
      accountId: id,
      name: u.name,
      path: u.path,
      arn: userArn(id, u.path, u.name),
      ...(existing?.permissionsBoundary ? { permissionsBoundary: existing.permissionsBoundary } : {}),
      inlinePolicies: inline,
      attachedPolicies: attached,
      tags: toTags(u.tags),
      createdAt: existing?.createdAt ?? ctx.now,
    });
  }
}
