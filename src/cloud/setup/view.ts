// What a setup plan reads: the records of the kinds a setup file controls that it can touch or
// name, read from the store once, then kept in memory with the plan's own writes laid over them, so
// the plan is a pure function of this view (a role may name a policy the same file creates).

import { indexRows } from '../../store/codec.js';
import type { IndexName, Records } from '../../store/schema.js';
import type { StoreOps } from '../../store/types.js';
import { awsManagedPolicies } from '../iam/aws-managed.js';
import type { SetupSpec } from './schema.js';

export type SetupKind =
  | 'account'
  | 'awsOrganization'
  | 'organizationalUnit'
  | 'orgPolicy'
  | 'oidcProvider'
  | 'role'
  | 'managedPolicy'
  | 'user';

type Tables = { [K in SetupKind]: Map<string, Records[K]> };

export class SetupView {
  private readonly tables: Tables = {
    account: new Map(),
    awsOrganization: new Map(),
    organizationalUnit: new Map(),
    orgPolicy: new Map(),
    oidcProvider: new Map(),
    role: new Map(),
    managedPolicy: new Map(),
    user: new Map(),
  };

  get<K extends SetupKind>(kind: K, id: string): Records[K] | undefined {
    return this.table(kind).get(id);
  }

  /** Look up by a unique index, as the store does. */
  getBy<K extends SetupKind>(kind: K, index: IndexName<K>, value: string): Records[K] | undefined {
    const of = indexOf(kind, index);
    for (const record of this.table(kind).values()) if (of(record) === value) return record;
    return undefined;
  }

  /** Ordered by id, as the store lists; only the records whose index has `value`, when given. */
  list<K extends SetupKind>(kind: K, index?: { name: IndexName<K>; value: string }): Records[K][] {
    const all = [...this.table(kind).values()];
    const of = index ? indexOf(kind, index.name) : undefined;
    return (of ? all.filter((r) => of(r) === index?.value) : all).sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    );
  }

  /** A record as the store has it (when read) or will have it (when the plan writes it). */
  put<K extends SetupKind>(kind: K, record: Records[K]): void {
    this.table(kind).set(record.id, record);
  }

  private table<K extends SetupKind>(kind: K): Tables[K] {
    return this.tables[kind];
  }
}

/** The record's value in a named index, computed as the store indexes it. */
function indexOf<K extends SetupKind>(
  kind: K,
  name: IndexName<K>,
): (record: Records[K]) => string | undefined {
  return (record) => indexRows(kind, record).find((row) => row.name === name)?.value;
}

/**
 * Everything a plan for `spec` may consult: the accounts, the organization with its OUs and
 * policies, the identity providers, roles, policies and users of the file's accounts that exist,
 * the managed policies the file names by ARN, and AWS's managed policies as an apply leaves them.
 */
export async function readView(tx: StoreOps, spec: SetupSpec, now: number): Promise<SetupView> {
  const view = new SetupView();
  const accounts = await tx.list('account');
  for (const a of accounts) view.put('account', a);
  for (const o of await tx.list('awsOrganization')) view.put('awsOrganization', o);
  for (const u of await tx.list('organizationalUnit')) view.put('organizationalUnit', u);
  for (const p of await tx.list('orgPolicy')) view.put('orgPolicy', p);

  const named = new Set(spec.accounts.map((a) => a.name));
  const ids = new Set(accounts.filter((a) => named.has(a.name)).map((a) => a.id));
  for (const a of spec.accounts) if (a.id !== undefined) ids.add(a.id);
  for (const id of ids) {
    const index = { name: 'account', value: id } as const;
    for (const r of await tx.list('oidcProvider', { index })) view.put('oidcProvider', r);
    for (const r of await tx.list('role', { index })) view.put('role', r);
    for (const r of await tx.list('managedPolicy', { index })) view.put('managedPolicy', r);
    for (const r of await tx.list('user', { index })) view.put('user', r);
  }
  for (const r of await tx.list('managedPolicy', { index: { name: 'account', value: 'aws' } }))
    view.put('managedPolicy', r);
  const arns = spec.accounts.flatMap((a) =>
    [...a.roles, ...a.users].flatMap((p) => [
      ...p.attachedPolicies,
      ...('permissionsBoundary' in p && p.permissionsBoundary !== undefined ? [p.permissionsBoundary] : []),
    ]),
  );
  for (const arn of new Set(arns.filter((ref) => ref.startsWith('arn:')))) {
    const policy = await tx.getBy('managedPolicy', 'arn', arn);
    if (policy) view.put('managedPolicy', policy);
  }
  // An apply writes AWS's managed policies first (ensureAwsManagedPolicies): those missing are
  // seen as it will leave them.
  for (const policy of awsManagedPolicies(now))
    if (!view.get('managedPolicy', policy.id)) view.put('managedPolicy', policy);
  return view;
}
