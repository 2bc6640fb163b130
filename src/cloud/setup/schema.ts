// The declarative setup file: accounts, the organization (OUs, SCPs, RCPs), OIDC providers, roles,
// policies and users, read into typed specs (through the generic YAML reader, which reports every
// problem with its field path and line, all at once) and checked for cross-references.
import { type Path, type Problem, parseYaml, Reader } from './yaml-reader.js';

export type Doc = string; // a policy document as JSON text

export interface ProviderSpec {
  url: string;
  clientIds: string[];
  thumbprints: string[];
  tags: Record<string, string>;
}
export interface PolicySpec {
  name: string;
  path: string;
  description: string;
  document: Doc;
}
export interface RoleSpec {
  name: string;
  path: string;
  description: string;
  trustPolicy: Doc;
  maxSessionDuration: number;
  inlinePolicies: Record<string, Doc>;
  /** Policy names of this account, `aws:<Name>` for AWS-managed ones, or full ARNs. */
  attachedPolicies: string[];
  permissionsBoundary?: string;
  tags: Record<string, string>;
}
export interface UserSpec {
  name: string;
  path: string;
  inlinePolicies: Record<string, Doc>;
  attachedPolicies: string[];
  tags: Record<string, string>;
  /** Give the user an access key (once), its secret written to the credentials file only. */
  accessKey: boolean;
}
export interface AccountSpec {
  name: string;
  id?: string;
  alias?: string;
  oidcGuardRail: boolean;
  oidcProviders: ProviderSpec[];
  policies: PolicySpec[];
  roles: RoleSpec[];
  users: UserSpec[];
}
export interface UnitSpec {
  name: string;
  accounts: string[];
  units: UnitSpec[];
}
export interface OrgPolicySpec {
  name: string;
  type: 'SERVICE_CONTROL_POLICY' | 'RESOURCE_CONTROL_POLICY';
  description: string;
  document: Doc;
  /** `root`, `ou:<name>` or an account name. */
  targets: string[];
}
export interface OrganizationSpec {
  management: string;
  units: UnitSpec[];
  policies: OrgPolicySpec[];
  /**
   * The allow-list strategy: targets (`root`, `ou:<name>`, account names) FullAWSAccess is kept off,
   * so only what an SCP of the file allows at every level is allowed there.
   */
  detachFullAwsAccess: string[];
}
export interface SetupSpec {
  accounts: AccountSpec[];
  organization?: OrganizationSpec;
}

export class SetupError extends Error {
  override readonly name = 'SetupError';
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  }

  /** One line per problem: `file:line: path: message`. */
  lines(): string[] {
    return this.problems.map((p) => `${this.file}${p.line ? `:${p.line}` : ''}: ${p.path}: ${p.message}`);
  }
}

/** The generic reader, and the one shape it reads that is the setup file's own: a policy document. */
class SetupReader extends Reader {
  /** A policy document written as a mapping or as JSON text; stored as JSON text. */
  document(value: unknown, path: Path, required = true): Doc | undefined {
    if (value === undefined || value === null) {
      if (required) this.problem(path, 'is required');
      return undefined;
    }
    if (typeof value === 'string') {
      try {
        JSON.parse(value);
      } catch {
        this.problem(path, 'is not valid JSON');
        return undefined;
      }
      return value;
    }
    if (typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value);
    this.problem(path, 'must be a policy document (a mapping or JSON text)');
    return undefined;
  }

  documents(value: unknown, path: Path): Record<string, Doc> {
    return this.mapOf(value, path, (v, p) => this.document(v, p));
  }
}

const NAME = { required: true, re: /^[\w+=,.@-]{1,64}$/, hint: '[\\w+=,.@-]{1,64}' };
const POLICY_NAME = { required: true, re: /^[\w+=,.@-]{1,128}$/, hint: '[\\w+=,.@-]{1,128}' };
const IAM_PATH = { re: /^\/([\u0021-\u007E]+\/)?$/, hint: '/ or /path/' };
const POLICY_REF = { required: true, max: 2048 };

function readAccount(r: SetupReader, v: unknown, p: Path): AccountSpec | undefined {
  const o = r.object(v, p, [
    'name',
    'id',
    'alias',
    'oidcGuardRail',
    'oidcProviders',
    'policies',
    'roles',
    'users',
  ]);
  if (!o) {
    r.problem(p, 'must be a mapping');
    return undefined;
  }
  const name =
    r.string(o.name, [...p, 'name'], {
      required: true,
      re: /^[a-z0-9][a-z0-9-]{0,49}$/,
      hint: 'lower-case letters, digits and dashes',
    }) ?? '';
  const id = r.string(o.id, [...p, 'id'], { re: /^[1-9]\d{11}$/, hint: '12 digits' });
  const alias = r.string(o.alias, [...p, 'alias'], {
    re: /^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$/,
    hint: 'an IAM account alias',
  });
  return {
    name,
    ...(id !== undefined ? { id } : {}),
    ...(alias !== undefined ? { alias } : {}),
    oidcGuardRail: r.bool(o.oidcGuardRail, [...p, 'oidcGuardRail']) ?? true,
    oidcProviders: r.list(o.oidcProviders, [...p, 'oidcProviders'], (pv, pp) => {
      const po = r.object(pv, pp, ['url', 'clientIds', 'thumbprints', 'tags']);
      if (!po) return undefined;
      return {
        url:
          r.string(po.url, [...pp, 'url'], {
            required: true,
            re: /^https:\/\/[^?#\s]+$/,
            hint: 'https://host[/path]',
          }) ?? '',
        clientIds: r.list(po.clientIds, [...pp, 'clientIds'], (c, cp) =>
          r.string(c, cp, { required: true, max: 255 }),
        ),
        thumbprints: r.list(po.thumbprints, [...pp, 'thumbprints'], (t, tp) =>
          r.string(t, tp, { required: true, re: /^[0-9a-fA-F]{40}$/, hint: '40 hex digits' }),
        ),
        tags: r.stringMap(po.tags, [...pp, 'tags']),
      };
    }),
    policies: r.list(o.policies, [...p, 'policies'], (pv, pp) => {
      const po = r.object(pv, pp, ['name', 'path', 'description', 'document']);
      if (!po) return undefined;
      return {
        name: r.string(po.name, [...pp, 'name'], POLICY_NAME) ?? '',
        path: r.string(po.path, [...pp, 'path'], IAM_PATH) ?? '/',
        description: r.string(po.description, [...pp, 'description'], { max: 1000 }) ?? '',
        document: r.document(po.document, [...pp, 'document']) ?? '{}',
      };
    }),
    roles: r.list(o.roles, [...p, 'roles'], (rv, rp) => {
      const ro = r.object(rv, rp, [
        'name',
        'path',
        'description',
        'trustPolicy',
        'maxSessionDuration',
        'inlinePolicies',
        'attachedPolicies',
        'permissionsBoundary',
        'tags',
      ]);
      if (!ro) return undefined;
      const boundary = r.string(ro.permissionsBoundary, [...rp, 'permissionsBoundary'], { max: 2048 });
      return {
        name: r.string(ro.name, [...rp, 'name'], NAME) ?? '',
        path: r.string(ro.path, [...rp, 'path'], IAM_PATH) ?? '/',
        description: r.string(ro.description, [...rp, 'description'], { max: 1000 }) ?? '',
        trustPolicy: r.document(ro.trustPolicy, [...rp, 'trustPolicy']) ?? '{}',
        maxSessionDuration: r.int(ro.maxSessionDuration, [...rp, 'maxSessionDuration'], 3600, 43200) ?? 3600,
        inlinePolicies: r.documents(ro.inlinePolicies, [...rp, 'inlinePolicies']),
        attachedPolicies: r.list(ro.attachedPolicies, [...rp, 'attachedPolicies'], (a, ap) =>
          r.string(a, ap, POLICY_REF),
        ),
        ...(boundary !== undefined ? { permissionsBoundary: boundary } : {}),
        tags: r.stringMap(ro.tags, [...rp, 'tags']),
      };
    }),
    users: r.list(o.users, [...p, 'users'], (uv, up) => {
      const uo = r.object(uv, up, [
        'name',
        'path',
        'inlinePolicies',
        'attachedPolicies',
        'tags',
        'accessKey',
      ]);
      if (!uo) return undefined;
      return {
        name: r.string(uo.name, [...up, 'name'], NAME) ?? '',
        path: r.string(uo.path, [...up, 'path'], IAM_PATH) ?? '/',
        inlinePolicies: r.documents(uo.inlinePolicies, [...up, 'inlinePolicies']),
        attachedPolicies: r.list(uo.attachedPolicies, [...up, 'attachedPolicies'], (a, ap) =>
          r.string(a, ap, POLICY_REF),
        ),
        tags: r.stringMap(uo.tags, [...up, 'tags']),
        accessKey: r.bool(uo.accessKey, [...up, 'accessKey']) ?? false,
      };
    }),
  };
}

function readUnit(r: SetupReader, v: unknown, p: Path): UnitSpec | undefined {
  const o = r.object(v, p, ['name', 'accounts', 'units']);
  if (!o) return undefined;
  return {
    name:
      r.string(o.name, [...p, 'name'], { required: true, re: /^[\w .,@+=-]{1,128}$/, hint: 'an OU name' }) ??
      '',
    accounts: r.list(o.accounts, [...p, 'accounts'], (a, ap) => r.string(a, ap, { required: true })),
    units: r.list(o.units, [...p, 'units'], (u, up) => readUnit(r, u, up)),
  };
}

function readOrganization(r: SetupReader, v: unknown, p: Path): OrganizationSpec | undefined {
  const o = r.object(v, p, ['management', 'units', 'policies', 'detachFullAwsAccess']);
  if (!o) return undefined;
  return {
    management: r.string(o.management, [...p, 'management'], { required: true }) ?? '',
    units: r.list(o.units, [...p, 'units'], (u, up) => readUnit(r, u, up)),
    policies: r.list(o.policies, [...p, 'policies'], (pv, pp) => {
      const po = r.object(pv, pp, ['name', 'type', 'description', 'document', 'targets']);
      if (!po) return undefined;
      const type = r.string(po.type, [...pp, 'type'], {
        required: true,
        re: /^(scp|rcp)$/,
        hint: 'scp or rcp',
      });
      return {
        name:
          r.string(po.name, [...pp, 'name'], {
            required: true,
            re: /^[\w .,@+=-]{1,128}$/,
            hint: 'a policy name',
          }) ?? '',
        type: type === 'rcp' ? 'RESOURCE_CONTROL_POLICY' : 'SERVICE_CONTROL_POLICY',
        description: r.string(po.description, [...pp, 'description'], { max: 512 }) ?? '',
        document: r.document(po.document, [...pp, 'document']) ?? '{}',
        targets: r.list(po.targets, [...pp, 'targets'], (t, tp) => r.string(t, tp, { required: true })),
      };
    }),
    detachFullAwsAccess: r.list(o.detachFullAwsAccess, [...p, 'detachFullAwsAccess'], (t, tp) =>
      r.string(t, tp, { required: true }),
    ),
  };
}

/** Cross-references: unique names, OU accounts and policy targets that exist. */
function checkReferences(r: SetupReader, spec: SetupSpec): void {
  const names = new Set<string>();
  const ids = new Map<string, string>();
  spec.accounts.forEach((a, i) => {
    if (names.has(a.name)) r.problem(['accounts', i, 'name'], `duplicate account name ${a.name}`);
    names.add(a.name);
    // Two names for one account id would reach the store as a conflict on its first write.
    const holder = a.id !== undefined ? ids.get(a.id) : undefined;
    if (holder !== undefined && holder !== a.name)
      r.problem(['accounts', i, 'id'], `account id ${a.id} is already account ${holder}'s`);
    if (a.id !== undefined && holder === undefined) ids.set(a.id, a.name);
    const seen = (list: { name: string }[], what: string, key: string) => {
      const lower = new Set<string>();
      list.forEach((x, j) => {
        if (lower.has(x.name.toLowerCase()))
          r.problem(['accounts', i, key, j, 'name'], `duplicate ${what} name ${x.name}`);
        lower.add(x.name.toLowerCase());
      });
    };
    seen(a.roles, 'role', 'roles');
    seen(a.users, 'user', 'users');
    seen(a.policies, 'policy', 'policies');
  });
  const org = spec.organization;
  if (!org) return;
  if (!names.has(org.management))
    r.problem(['organization', 'management'], `no account named ${org.management}`);
  const units = new Set<string>();
  const placed = new Set<string>();
  const walk = (list: UnitSpec[], path: Path): void => {
    list.forEach((u, i) => {
      if (units.has(u.name)) r.problem([...path, i, 'name'], `duplicate OU name ${u.name}`);
      units.add(u.name);
      u.accounts.forEach((a, j) => {
        if (!names.has(a)) r.problem([...path, i, 'accounts', j], `no account named ${a}`);
        if (placed.has(a)) r.problem([...path, i, 'accounts', j], `account ${a} is placed in two OUs`);
        placed.add(a);
      });
      walk(u.units, [...path, i, 'units']);
    });
  };
  walk(org.units, ['organization', 'units']);
  const known = (t: string): boolean =>
    t === 'root' || (t.startsWith('ou:') && units.has(t.slice(3))) || names.has(t);
  org.policies.forEach((p, i) => {
    p.targets.forEach((t, j) => {
      if (!known(t))
        r.problem(
          ['organization', 'policies', i, 'targets', j],
          `unknown target ${t} (root, ou:<name> or an account name)`,
        );
    });
  });
  org.detachFullAwsAccess.forEach((t, i) => {
    const path = ['organization', 'detachFullAwsAccess', i];
    if (!known(t)) r.problem(path, `unknown target ${t} (root, ou:<name> or an account name)`);
    // AWS requires at least one SCP on every root, OU and account.
    else if (!org.policies.some((p) => p.type === 'SERVICE_CONTROL_POLICY' && p.targets.includes(t)))
      r.problem(path, `${t} would have no SCP left: attach one of the file's SCPs to it first`);
  });
}

/** `${env:NAME}` placeholders take values from the environment, so one file serves many installs. */
function substituteEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
): string {
  const missing: Problem[] = [];
  const out = text.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => {
    const value = env[name];
    if (value === undefined) {
      missing.push({
        path: '(document)',
        line: text.slice(0, text.indexOf(m)).split('\n').length,
        message: `environment variable ${name} is not set`,
      });
      return m;
    }
    return value;
  });
  if (missing.length > 0) throw new SetupError(file, missing);
  return out;
}

export function parseSetup(
  source: string,
  file: string,
  env: Readonly<Record<string, string | undefined>> = {},
): SetupSpec {
  const parsed = parseYaml(substituteEnv(source, env, file));
  if (!parsed.ok) throw new SetupError(file, parsed.problems);
  const r = new SetupReader(parsed.source.lineOf);
  if (!parsed.source.isMapping)
    throw new SetupError(file, [
      { path: '(document)', message: 'must be a mapping with accounts (and optionally organization)' },
    ]);
  const root = r.object(parsed.source.value(), [], ['accounts', 'organization']) ?? {};
  const accounts = r.list(root.accounts, ['accounts'], (v, p) => readAccount(r, v, p));
  if (accounts.length === 0 && r.problems.length === 0)
    r.problem(['accounts'], 'at least one account is required');
  const organization = readOrganization(r, root.organization, ['organization']);
  const spec: SetupSpec = organization ? { accounts, organization } : { accounts };
  if (r.problems.length === 0) checkReferences(r, spec);
  if (r.problems.length > 0) throw new SetupError(file, r.problems);
  return spec;
}
