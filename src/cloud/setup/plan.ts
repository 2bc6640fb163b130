// A setup file's plan: every change it makes to what the store holds, computed from a view of the
// store (read once) without writing anything. Accounts first, since every other entity and every
// `${account:name}` placeholder needs their ids; then the organization; then each account's IAM.
import type { Random } from '../../core/deps.js';
import { accountId as newAccountId } from '../../core/ids.js';
import { planAccount } from './plan-account.js';
import { PlanContext, type SetupChange, type SetupWrite } from './plan-context.js';
import { planOrganization } from './plan-organization.js';
import { planRoles, planUsers } from './plan-principals.js';
import type { SetupSpec } from './schema.js';
import type { SetupView } from './view.js';
import type { Problem } from './yaml-reader.js';

export interface SetupPlan {
  /** Every entity the file names, in file order, created, updated or unchanged. */
  changes: SetupChange[];
  /** What an apply writes, in order. */
  writes: SetupWrite[];
  /** Why the file cannot be applied; an apply with any writes nothing. */
  problems: Problem[];
  accounts: { name: string; id: string }[];
}

export function planSetup(
  spec: SetupSpec,
  view: SetupView,
  deps: { random: Random; now: number },
): SetupPlan {
  const ctx = new PlanContext(view, deps.random, deps.now);
  const existingAccounts = view.list('account');
  const ids = new Map<string, string>();
  for (const [i, a] of spec.accounts.entries()) {
    const found = existingAccounts.find((x) => x.name === a.name);
    if (found && a.id && found.id !== a.id) {
      ctx.problem(`accounts[${i}].id`, `account ${a.name} already exists with id ${found.id}`);
      continue;
    }
    const byId = a.id ? existingAccounts.find((x) => x.id === a.id) : undefined;
    if (byId && byId.name !== a.name) {
      ctx.problem(`accounts[${i}].id`, `id ${a.id} belongs to account ${byId.name}`);
      continue;
    }
    ids.set(a.name, found?.id ?? a.id ?? newAccountId(deps.random));
  }
  const resolve = (doc: string, path: string): string =>
    doc.replace(/\$\{account:([a-z0-9-]+)\}/g, (m, name: string) => {
      const id = ids.get(name) ?? existingAccounts.find((x) => x.name === name)?.id;
      if (id === undefined) ctx.problem(path, `unknown account in placeholder ${m}`);
      return id ?? m;
    });

  const parents = spec.organization
    ? planOrganization(ctx, { org: spec.organization, accounts: spec.accounts, ids, resolve })
    : new Map<string, string>();

  for (const [i, a] of spec.accounts.entries()) {
    const id = ids.get(a.name);
    if (id === undefined) continue;
    const input = { spec: a, id, base: `accounts[${i}]`, resolve };
    planAccount(
      ctx,
      input,
      existingAccounts.find((x) => x.id === id),
      parents.get(a.name),
    );
    planRoles(ctx, input);
    planUsers(ctx, input);
  }
  return {
    changes: ctx.changes,
    writes: ctx.writes,
    problems: ctx.problems,
    accounts: [...ids].map(([name, id]) => ({ name, id })),
  };
}
