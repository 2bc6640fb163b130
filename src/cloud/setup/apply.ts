// Applying a setup file: the desired state is compared with the store and every difference written
// in one transaction, so a file either lands whole or not at all. A dry run computes the same
// changes and rolls back. Entities the file does not mention are left alone.
import { oidcProviderArn, policyArn, roleArn, userArn } from '../../core/arn.js';
import type { Clock, Random } from '../../core/deps.js';
import { awsId, accountId as newAccountId, orgId, orgPolicyId, ouId, rootId } from '../../core/ids.js';
import { AwsError } from '../../core/query/errors.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { AccountRecord, OrgPolicyRecord, OrgPolicyType, Tag } from '../../store/records/iam.js';
import { indexKey, type Kind } from '../../store/schema.js';
import type { Store, StoreOps } from '../../store/types.js';
import { ensureAwsManagedPolicies } from '../iam/aws-managed.js';
import { validateDocument } from '../iam/policy-document.js';
import { guardRail } from '../iam/roles.js';
import { SetupError, type SetupSpec, type UnitSpec } from './schema.js';
import type { Problem } from './yaml-reader.js';

export interface SetupChange {
  op: 'create' | 'update' | 'unchanged';
  kind: Kind;
  /** Human name: `hub/role/net-plan`, `ou/workloads`, … */
  name: string;
  /** For an update: the fields that differ (`trustPolicy`, `document`, …). */
  fields?: string[];
}

export interface ApplyResult {
  changes: SetupChange[];
  accounts: { name: string; id: string }[];
}

class DryRun extends Error {}

const FULL_ACCESS: Record<OrgPolicyType, { name: string; description: string }> = {
  SERVICE_CONTROL_POLICY: { name: 'FullAWSAccess', description: 'Allows access to every operation' },
  RESOURCE_CONTROL_POLICY: { name: 'RCPFullAWSAccess', description: 'Allows access to every operation' },
};
const ALLOW_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});
const ALLOW_ALL_RCP = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }],
});

const toTags = (m: Record<string, string>): Tag[] =>
  Object.entries(m).map(([Key, Value]) => ({ Key, Value }));
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export async function applySetup(
  store: Store,
  spec: SetupSpec,
  deps: { random: Random; clock: Clock },
  options: { file: string; dryRun?: boolean },
): Promise<ApplyResult> {
  let result: ApplyResult | undefined;
  try {
    await store.transaction(async (tx) => {
      result = await plan(tx, spec, deps, options.file);
      if (options.dryRun) throw new DryRun();
      // On the record with the changes, in the same transaction, like every IAM write.
      const event = setupEvent(result, options.file, deps);
      if (event) await tx.appendAudit([event]);
    });
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
  }
  if (!result) throw new Error('setup produced no result');
  return result;
}

/** Changes listed in full in a `setup:apply` audit event; the count covers the rest. */
const MAX_RECORDED_CHANGES = 200;

/** The audit event of an apply that changed something (`gatepass audit --action setup:apply`). */
function setupEvent(
  result: ApplyResult,
  file: string,
  deps: { random: Random; clock: Clock },
): AuditEvent | undefined {
  const changed = result.changes.filter((c) => c.op !== 'unchanged');
  if (changed.length === 0) return undefined;
  return {
    time: deps.clock.now(),
    requestId: deps.random.uuid(),
    action: 'setup:apply',
    decision: 'info',
    caller: 'gatepass apply',
    detail: {
      file: file.slice(0, 1024),
      count: changed.length,
      changes: changed.slice(0, MAX_RECORDED_CHANGES).map((c) => `${c.op} ${c.kind} ${c.name}`),
    },
  };
}

async function plan(
  tx: StoreOps,
  spec: SetupSpec,
  deps: { random: Random; clock: Clock },
  file: string,
): Promise<ApplyResult> {
  const now = deps.clock.now();
  const changes: SetupChange[] = [];
  const problems: Problem[] = [];
  const note = (op: SetupChange['op'], kind: Kind, name: string, fields?: string[]) =>
    changes.push(fields ? { op, kind, name, fields } : { op, kind, name });

  /** Insert, update or leave alone, comparing only what the file controls. */
  async function upsert<K extends Kind>(
    kind: K,
    name: string,
    existing: Parameters<StoreOps['insert']>[1] | undefined,
    desired: Parameters<StoreOps['insert']>[1],
  ): Promise<void> {
    if (!existing) {
      await tx.insert(kind, desired as never);
      note('create', kind, name);
    } else if (!same(existing, desired)) {
      await tx.update(kind, desired as never);
      const before = existing as unknown as Record<string, unknown>;
      const after = desired as unknown as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
      note(
        'update',
        kind,
        name,
        keys.filter((k) => !same(before[k], after[k])),
      );
    } else {
      note('unchanged', kind, name);
    }
  }

  await ensureAwsManagedPolicies(tx, now);

  // Accounts first: every other entity and every ${account:name} placeholder needs their ids.
  const existingAccounts = await tx.list('account');
  const ids = new Map<string, string>();
  for (const [i, a] of spec.accounts.entries()) {
    const found = existingAccounts.find((x) => x.name === a.name);
    if (found && a.id && found.id !== a.id) {
      problems.push({
        path: `accounts[${i}].id`,
        message: `account ${a.name} already exists with id ${found.id}`,
      });
      continue;
    }
    const byId = a.id ? existingAccounts.find((x) => x.id === a.id) : undefined;
    if (byId && byId.name !== a.name) {
      problems.push({ path: `accounts[${i}].id`, message: `id ${a.id} belongs to account ${byId.name}` });
      continue;
    }
    ids.set(a.name, found?.id ?? a.id ?? newAccountId(deps.random));
  }
  const resolve = (doc: string, path: string): string =>
    doc.replace(/\$\{account:([a-z0-9-]+)\}/g, (m, name: string) => {
      const id = ids.get(name) ?? existingAccounts.find((x) => x.name === name)?.id;
      if (id === undefined) problems.push({ path, message: `unknown account in placeholder ${m}` });
      return id ?? m;
    });

  // The organization: management account, root, OUs, and where each account sits.
  const parents = new Map<string, string>();
  if (spec.organization) {
    const org = spec.organization;
    const managementId = ids.get(org.management) ?? '';
    const [existingOrg] = await tx.list('awsOrganization', { limit: 1 });
    const orgRecord = existingOrg ?? {
      id: orgId(deps.random),
      managementAccountId: managementId,
      rootId: rootId(deps.random),
      createdAt: now,
    };
    // A setup file enforces both policy types (an organization built through the API may have fewer).
    const enabled = orgRecord.enabledPolicyTypes;
    await upsert('awsOrganization', 'organization', existingOrg, {
      ...orgRecord,
      managementAccountId: managementId,
      ...(enabled
        ? {
            enabledPolicyTypes: [
              ...enabled,
              ...(['SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY'] as const).filter(
                (t) => !enabled.includes(t),
              ),
            ],
          }
        : {}),
    });
    const root = await tx.get('organizationalUnit', orgRecord.rootId);
    await upsert(
      'organizationalUnit',
      'root',
      root,
      root ?? { id: orgRecord.rootId, name: 'Root', createdAt: now },
    );
    const units = new Map<string, string>();
    const existingUnits = await tx.list('organizationalUnit');
    const walk = async (list: UnitSpec[], parentId: string): Promise<void> => {
      for (const u of list) {
        const found = existingUnits.find((x) => x.name === u.name && x.parentId === parentId);
        const record = found ?? {
          id: ouId(deps.random, orgRecord.rootId),
          parentId,
          name: u.name,
          createdAt: now,
        };
        await upsert('organizationalUnit', `ou/${u.name}`, found, record);
        units.set(u.name, record.id);
        for (const a of u.accounts) parents.set(a, record.id);
        await walk(u.units, record.id);
      }
    };
    await walk(org.units, orgRecord.rootId);
    for (const a of spec.accounts) if (!parents.has(a.name)) parents.set(a.name, orgRecord.rootId);

    // AWS attaches the full-access policies to every root, OU and account of a new organization;
    // FullAWSAccess stays off the targets the file detaches it from (the allow-list strategy).
    const targetId = (t: string): string =>
      t === 'root'
        ? orgRecord.rootId
        : t.startsWith('ou:')
          ? (units.get(t.slice(3)) ?? t)
          : (ids.get(t) ?? t);
    const everything = [
      orgRecord.rootId,
      ...units.values(),
      ...spec.accounts.flatMap((a) => ids.get(a.name) ?? []),
    ];
    const detached = new Set(org.detachFullAwsAccess.map(targetId));
    const policies = [...(await tx.list('orgPolicy'))];
    for (const type of ['SERVICE_CONTROL_POLICY', 'RESOURCE_CONTROL_POLICY'] as const) {
      const def = FULL_ACCESS[type];
      const found = policies.find((p) => p.type === type && p.awsManaged);
      const off = type === 'SERVICE_CONTROL_POLICY' ? detached : new Set<string>();
      const wanted = everything.filter((t) => !off.has(t));
      const record: OrgPolicyRecord = found
        ? { ...found, targets: [...new Set([...found.targets.filter((t) => !off.has(t)), ...wanted])] }
        : {
            id: `p-${type === 'SERVICE_CONTROL_POLICY' ? 'FullAWSAccess' : 'RCPFullAWSAccess'}`,
            type,
            name: def.name,
            description: def.description,
            content: type === 'SERVICE_CONTROL_POLICY' ? ALLOW_ALL : ALLOW_ALL_RCP,
            awsManaged: true,
            targets: wanted,
            createdAt: now,
          };
      await upsert('orgPolicy', def.name, found, record);
    }
    for (const [i, p] of org.policies.entries()) {
      const path = `organization.policies[${i}]`;
      const content = resolve(p.document, `${path}.document`);
      try {
        validateDocument(content, p.type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp');
      } catch (err) {
        problems.push({
          path: `${path}.document`,
          message: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      const targets = p.targets.map(targetId);
      const found = await tx.getBy('orgPolicy', 'typeName', indexKey(p.type, p.name));
      const record: OrgPolicyRecord = {
        id: found?.id ?? orgPolicyId(deps.random),
        type: p.type,
        name: p.name,
        description: p.description,
        content,
        awsManaged: false,
        targets,
        createdAt: found?.createdAt ?? now,
        ...(found?.tags ? { tags: found.tags } : {}),
      };
      await upsert(
        'orgPolicy',
        `${p.type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp'}/${p.name}`,
        found,
        record,
      );
    }
  }

  for (const [i, a] of spec.accounts.entries()) {
    const id = ids.get(a.name);
    if (id === undefined) continue;
    const found = existingAccounts.find((x) => x.id === id);
    const parentId = parents.get(a.name) ?? found?.parentId;
    const account: AccountRecord = {
      id,
      name: a.name,
      ...(a.alias ? { alias: a.alias } : {}),
      ...(parentId ? { parentId } : {}),
      oidcGuardRail: a.oidcGuardRail,
      createdAt: found?.createdAt ?? now,
      // What the Organizations API owns survives a setup file that does not speak of it.
      ...(found?.email ? { email: found.email } : {}),
      ...(found?.status ? { status: found.status } : {}),
      ...(found?.joinedMethod ? { joinedMethod: found.joinedMethod } : {}),
      ...(found?.joinedAt ? { joinedAt: found.joinedAt } : {}),
      ...(found?.tags ? { tags: found.tags } : {}),
    };
    await upsert('account', a.name, found, account);
    const base = `accounts[${i}]`;

    for (const [j, p] of a.oidcProviders.entries()) {
      const arn = oidcProviderArn(id, p.url);
      const existing = await tx.get('oidcProvider', arn);
      await upsert('oidcProvider', `${a.name}/oidc-provider/${p.url.replace(/^https:\/\//, '')}`, existing, {
        id: arn,
        accountId: id,
        url: p.url,
        clientIds: [...new Set(p.clientIds)],
        thumbprints: [...new Set(p.thumbprints.map((t) => t.toLowerCase()))],
        tags: toTags(p.tags),
        createdAt: existing?.createdAt ?? now,
      });
      if (p.clientIds.length > 100)
        problems.push({ path: `${base}.oidcProviders[${j}].clientIds`, message: 'at most 100 client ids' });
      if (p.thumbprints.length > 5)
        problems.push({ path: `${base}.oidcProviders[${j}].thumbprints`, message: 'at most 5 thumbprints' });
    }

    for (const [j, p] of a.policies.entries()) {
      const path = `${base}.policies[${j}].document`;
      const doc = resolve(p.document, path);
      if (!checkDoc(doc, 'identity', path, problems)) continue;
      const existing = await tx.getBy('managedPolicy', 'accountName', indexKey(id, p.name.toLowerCase()));
      const current = existing?.versions.find((v) => v.versionId === existing.defaultVersionId)?.document;
      if (existing && current === doc && existing.description === p.description && existing.path === p.path) {
        note('unchanged', 'managedPolicy', `${a.name}/policy/${p.name}`);
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
        await tx.update('managedPolicy', {
          ...existing,
          description: p.description,
          versions,
          ...(current !== doc
            ? { defaultVersionId: `v${existing.nextVersion}`, nextVersion: existing.nextVersion + 1 }
            : {}),
          updatedAt: now,
        });
        note(
          'update',
          'managedPolicy',
          `${a.name}/policy/${p.name}`,
          [
            current !== doc ? 'document' : '',
            existing.description !== p.description ? 'description' : '',
          ].filter(Boolean),
        );
      } else {
        await tx.insert('managedPolicy', {
          id: awsId(deps.random, 'ANPA'),
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
        note('create', 'managedPolicy', `${a.name}/policy/${p.name}`);
      }
    }

    const policyRef = async (ref: string, path: string): Promise<string> => {
      const arn = ref.startsWith('arn:')
        ? ref
        : ref.startsWith('aws:')
          ? `arn:aws:iam::aws:policy/${ref.slice(4)}`
          : (await tx.getBy('managedPolicy', 'accountName', indexKey(id, ref.toLowerCase())))?.arn;
      if (!arn || !(await tx.getBy('managedPolicy', 'arn', arn)))
        problems.push({ path, message: `no managed policy ${ref}` });
      return arn ?? ref;
    };

    for (const [j, r] of a.roles.entries()) {
      const path = `${base}.roles[${j}]`;
      const trust = resolve(r.trustPolicy, `${path}.trustPolicy`);
      try {
        await guardRail(tx, id, trust);
      } catch (err) {
        problems.push({
          path: `${path}.trustPolicy`,
          message: err instanceof Error ? err.message : String(err),
        });
      }
      const inline: Record<string, string> = {};
      for (const [name, doc] of Object.entries(r.inlinePolicies)) {
        const resolved = resolve(doc, `${path}.inlinePolicies.${name}`);
        if (checkDoc(resolved, 'identity', `${path}.inlinePolicies.${name}`, problems))
          inline[name] = resolved;
      }
      const attached: string[] = [];
      for (const [k, ref] of r.attachedPolicies.entries())
        attached.push(await policyRef(ref, `${path}.attachedPolicies[${k}]`));
      if (attached.length > 10)
        problems.push({ path: `${path}.attachedPolicies`, message: 'at most 10 managed policies per role' });
      const boundary =
        r.permissionsBoundary !== undefined
          ? await policyRef(r.permissionsBoundary, `${path}.permissionsBoundary`)
          : undefined;
      const existing = await tx.getBy('role', 'accountName', indexKey(id, r.name.toLowerCase()));
      await upsert('role', `${a.name}/role/${r.name}`, existing, {
        id: existing?.id ?? awsId(deps.random, 'AROA'),
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
        createdAt: existing?.createdAt ?? now,
        ...(existing?.lastUsedAt ? { lastUsedAt: existing.lastUsedAt } : {}),
      });
    }

    for (const [j, u] of a.users.entries()) {
      const path = `${base}.users[${j}]`;
      const inline: Record<string, string> = {};
      for (const [name, doc] of Object.entries(u.inlinePolicies)) {
        const resolved = resolve(doc, `${path}.inlinePolicies.${name}`);
        if (checkDoc(resolved, 'identity', `${path}.inlinePolicies.${name}`, problems))
          inline[name] = resolved;
      }
      const attached: string[] = [];
      for (const [k, ref] of u.attachedPolicies.entries())
        attached.push(await policyRef(ref, `${path}.attachedPolicies[${k}]`));
      const existing = await tx.getBy('user', 'accountName', indexKey(id, u.name.toLowerCase()));
      await upsert('user', `${a.name}/user/${u.name}`, existing, {
        id: existing?.id ?? awsId(deps.random, 'AIDA'),
        accountId: id,
        name: u.name,
        path: u.path,
        arn: userArn(id, u.path, u.name),
        ...(existing?.permissionsBoundary ? { permissionsBoundary: existing.permissionsBoundary } : {}),
        inlinePolicies: inline,
        attachedPolicies: attached,
        tags: toTags(u.tags),
        createdAt: existing?.createdAt ?? now,
      });
    }
  }

  if (problems.length > 0) throw new SetupError(file, problems);
  return { changes, accounts: [...ids].map(([name, id]) => ({ name, id })) };
}

function checkDoc(doc: string, kind: 'identity', path: string, problems: Problem[]): boolean {
  try {
    validateDocument(doc, kind);
    return true;
  } catch (err) {
    problems.push({ path, message: err instanceof AwsError ? `${err.code}: ${err.message}` : String(err) });
    return false;
  }
}
