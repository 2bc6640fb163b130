// `gatepass lint`: the policy engine's findings for the documents of a setup file (trust and
// inline policies of roles and users, managed policies, SCPs and RCPs), a bare policy document or
// an account of the store, each placed at its file, line and statement: the trust-policy rules for
// trust policies, and for every document the traps of any policy (comma-separated actions, Allow
// with NotPrincipal, …). Lines come from the YAML/JSON syntax tree (JSON is YAML), including
// documents written as JSON text inside the setup file.
import { isMap, isScalar, LineCounter, type Node, parseDocument, Scalar } from 'yaml';
import {
  type Finding,
  type IssuerInfo,
  lintAwsConditionKeys,
  lintPolicyDocument,
  lintTrustPolicy,
  type PolicyKind,
  parsePolicy,
} from '../../core/policy/index.js';
import type { Store } from '../../store/types.js';
import { policyArn } from '../org/model.js';
import { parseSetup } from '../setup/schema.js';
import { providerPrefix } from '../sts/web-identity.js';

export interface LocatedFinding extends Finding {
  file: string;
  line?: number;
  /**
   * What the document belongs to, for setup files and accounts: `<account>/role/<name>` for a trust
   * policy, `<account>/role/<name> inline <policy>`, `<account>/policy/<name>`, `organization/policy/<name>`.
   */
  role?: string;
}

export interface LintOptions {
  /** Claims the issuers emit beyond the defaults (gatepass's own issuer emits its terraform_* claims). */
  claims?: readonly string[];
  /** Known organization names, for the unknown-organization check of `ownIssuer`'s policies. */
  organizations?: readonly string[];
  /** This gatepass's issuer URL: the only issuer whose organizations are known. */
  ownIssuer?: string;
  /**
   * Where the trust policies will be evaluated: on `aws`, condition keys AWS does not evaluate for
   * the provider are findings too (not-evaluated-on-aws); `gatepass` evaluates every claim.
   */
  target?: 'aws' | 'gatepass';
}

const AWS_DEFAULT_CLAIMS = ['sub', 'aud', 'amr', 'azp', 'oaud'];
const HCP_TERRAFORM = 'app.terraform.io';
type Seg = string | number;

/** JSON pointer `/Statement/0/Condition/StringLike/k` → path segments (numbers for indexes). */
function pointer(p: string | undefined): Seg[] {
  if (!p) return [];
  return p
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

interface Located {
  doc: ReturnType<typeof parseDocument>;
  counter: LineCounter;
}

function locate(text: string): Located {
  const counter = new LineCounter();
  return { doc: parseDocument(text, { lineCounter: counter }), counter };
}

/** The line of the deepest node of `path` that exists in the document. */
function lineAt(l: Located, given: readonly Seg[]): number | undefined {
  // "Statement": {…} written as one object has no index 0, which the parsed form always has.
  const at = given.indexOf('Statement');
  const path =
    at >= 0 && given[at + 1] === 0 && isMap(l.doc.getIn(given.slice(0, at + 1), true))
      ? [...given.slice(0, at + 1), ...given.slice(at + 2)]
      : given;
  for (let n = path.length; n >= 0; n--) {
    const node = l.doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return l.counter.linePos(node.range[0]).line;
  }
  return undefined;
}

function issuersOf(urls: readonly string[], o: LintOptions): IssuerInfo[] {
  const claims = [...new Set([...AWS_DEFAULT_CLAIMS, ...(o.claims ?? [])])];
  return urls.map((u) => ({
    prefix: providerPrefix(u),
    claims,
    // A run's issuer (it emits terraform_run_id) other than HCP Terraform, whose tokens carry no
    // source identity claim: a gatepass issuer, whose tokens carry the run id as one.
    sourceIdentity: providerPrefix(u) !== HCP_TERRAFORM && claims.includes('terraform_run_id'),
    ...(o.organizations && u === o.ownIssuer ? { organizations: o.organizations } : {}),
  }));
}

/** Issuers a bare policy names: Federated provider ARNs, and `<host>:sub|aud` condition keys. */
function federatedIssuers(text: string, o: LintOptions): IssuerInfo[] {
  const hosts = new Set<string>();
  for (const m of text.matchAll(/oidc-provider\/([^"\s]+)"/g)) if (m[1]) hosts.add(m[1]);
  for (const m of text.matchAll(/"([a-z0-9][a-z0-9.-]*\.[a-z]{2,}(?::\d+)?(?:\/[^":\s]*)?):(?:sub|aud)"/gi))
    if (m[1]) hosts.add(m[1]);
  return issuersOf(
    [...hosts].map((h) => `https://${h}`),
    o,
  );
}

/** A bare document's kind: Resource elements mean a permissions policy, a resource policy if it
 * also names principals; without them it is a trust policy. */
function kindOf(raw: unknown): PolicyKind {
  const st = (raw as { Statement?: unknown } | null)?.Statement;
  const list: unknown[] = Array.isArray(st) ? st : [st];
  const has = (field: string) => list.some((x) => typeof x === 'object' && x !== null && field in x);
  if (!has('Resource') && !has('NotResource')) return 'trust';
  return has('Principal') || has('NotPrincipal') ? 'resource' : 'identity';
}

function lintDocument(
  text: string,
  issuers: readonly IssuerInfo[],
  where: { file: string; role?: string; kind?: PolicyKind; target?: LintOptions['target'] },
  lineOf: (path: readonly Seg[]) => number | undefined,
): LocatedFinding[] {
  const base = where.role !== undefined ? { file: where.file, role: where.role } : { file: where.file };
  const at = (f: Finding | Omit<LocatedFinding, 'file'>, path: readonly Seg[]): LocatedFinding => {
    const line = lineOf(path);
    return line !== undefined ? { ...f, ...base, line } : { ...f, ...base };
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const general = lintPolicyDocument(raw).map((f) => at(f, pointer(f.path)));
  const kind = where.kind ?? kindOf(raw);
  try {
    const policy = parsePolicy(text, kind, { maxSize: Number.MAX_SAFE_INTEGER });
    const trust =
      kind === 'trust'
        ? [
            ...lintTrustPolicy(policy, issuers),
            ...(where.target === 'aws' ? lintAwsConditionKeys(policy, issuers) : []),
          ].map((f) => at(f, pointer(f.path)))
        : [];
    // Statement order; within a statement the trust rules first (a stable sort keeps both orders).
    return [...trust, ...general].sort((x, y) => x.statement - y.statement);
  } catch (err) {
    // A finding above already says why the parser refused the document.
    if (general.some((f) => f.severity === 'error')) return general;
    const message = err instanceof Error ? err.message : String(err);
    return [...general, at({ rule: 'invalid-policy', severity: 'error', statement: -1, message }, [])];
  }
}

const targeted = <T extends object>(where: T, o: LintOptions): T & Pick<LintOptions, 'target'> =>
  o.target !== undefined ? { ...where, target: o.target } : where;

/** Findings of a policy document file (JSON). */
export function lintPolicyText(text: string, file: string, o: LintOptions = {}): LocatedFinding[] {
  const l = locate(text);
  return lintDocument(text, federatedIssuers(text, o), targeted({ file }, o), (p) => lineAt(l, p));
}

/** Findings of every role's trust policy in a setup file; throws SetupError for an invalid file. */
export function lintSetupText(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  o: LintOptions = {},
): LocatedFinding[] {
  const spec = parseSetup(text, file, env);
  const l = locate(text);
  const ids = new Map(spec.accounts.map((a) => [a.name, a.id ?? '000000000000']));
  const out: LocatedFinding[] = [];
  /** Line numbers for a document at `path`: in the file, or inside JSON text written there. */
  const linesOf = (path: Seg[]) => {
    const node = l.doc.getIn(path, true) as Node | null | undefined;
    // A document written as JSON text: lines inside it are offset from where the text starts.
    const inner = isScalar(node) && typeof node.value === 'string' ? locate(node.value) : undefined;
    const start = node?.range ? l.counter.linePos(node.range[0]).line : 0;
    const block =
      isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) ? 1 : 0;
    return (p: readonly Seg[]): number | undefined => {
      if (!inner) return lineAt(l, [...path, ...p]);
      const n = lineAt(inner, p);
      return n === undefined ? start : start + block + n - 1;
    };
  };
  const withIds = (text: string) =>
    text.replace(/\$\{account:([a-z0-9-]+)\}/g, (m, name: string) => ids.get(name) ?? m);
  const lint = (text: string, path: Seg[], role: string, kind: PolicyKind, issuers: IssuerInfo[] = []) =>
    out.push(...lintDocument(withIds(text), issuers, targeted({ file, role, kind }, o), linesOf(path)));
  spec.accounts.forEach((account, i) => {
    const issuers = issuersOf(
      account.oidcProviders.map((p) => p.url),
      o,
    );
    account.policies.forEach((policy, k) => {
      lint(
        policy.document,
        ['accounts', i, 'policies', k, 'document'],
        `${account.name}/policy/${policy.name}`,
        'identity',
      );
    });
    account.roles.forEach((role, j) => {
      const label = `${account.name}/role/${role.name}`;
      lint(role.trustPolicy, ['accounts', i, 'roles', j, 'trustPolicy'], label, 'trust', issuers);
      if (spec.organization?.management === account.name && isRunRole(role.trustPolicy)) {
        const line = linesOf(['accounts', i, 'roles', j, 'trustPolicy'])([]);
        out.push({ ...hubInManagement(label), file, ...(line !== undefined ? { line } : {}) });
      }
      for (const [name, doc] of Object.entries(role.inlinePolicies))
        lint(doc, ['accounts', i, 'roles', j, 'inlinePolicies', name], `${label} inline ${name}`, 'identity');
    });
    account.users.forEach((user, j) => {
      for (const [name, doc] of Object.entries(user.inlinePolicies))
        lint(
          doc,
          ['accounts', i, 'users', j, 'inlinePolicies', name],
          `${account.name}/user/${user.name} inline ${name}`,
          'identity',
        );
    });
  });
  spec.organization?.policies.forEach((policy, k) => {
    const kind = policy.type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp';
    lint(
      policy.document,
      ['organization', 'policies', k, 'document'],
      `organization/policy/${policy.name}`,
      kind,
    );
  });
  return out;
}

/**
 * Findings of an account in the store (trust and inline policies of its roles, its users' inline
 * policies, its managed policies' default versions, and for the management account the
 * organization's SCPs and RCPs); lines are within each stored document.
 */
/** A role assumed with web identity: a run's role. */
const isRunRole = (trustPolicy: string): boolean => /AssumeRoleWithWebIdentity/.test(trustPolicy);

/** SCPs never reach the management account: a run's role there escapes the deny list and every guard. */
const hubInManagement = (role: string): Omit<LocatedFinding, 'file'> => ({
  rule: 'hub-in-management-account',
  severity: 'warning',
  statement: 0,
  message:
    "A run's role in the organization's management account: SCPs do not apply there, so the revocation deny list (and every SCP guard) cannot reach its sessions; move the hub roles to a member account.",
  role,
});

export async function lintAccount(
  store: Store,
  accountId: string,
  o: LintOptions = {},
): Promise<LocatedFinding[]> {
  const providers = await store.list('oidcProvider', { index: { name: 'account', value: accountId } });
  const issuers = issuersOf(
    providers.map((p) => p.url),
    o,
  );
  const out: LocatedFinding[] = [];
  const lint = (text: string, file: string, role: string, kind: PolicyKind, from: IssuerInfo[] = []) => {
    const l = locate(text);
    out.push(...lintDocument(text, from, targeted({ file, role, kind }, o), (p) => lineAt(l, p)));
  };
  const roles = await store.list('role', { index: { name: 'account', value: accountId } });
  const [org] = await store.list('awsOrganization', { limit: 1 });
  const management = org?.managementAccountId === accountId;
  for (const role of roles) {
    lint(role.trustPolicy, role.arn, role.arn, 'trust', issuers);
    if (management && isRunRole(role.trustPolicy)) out.push({ ...hubInManagement(role.arn), file: role.arn });
    for (const [name, doc] of Object.entries(role.inlinePolicies))
      lint(doc, role.arn, `${role.arn} inline ${name}`, 'identity');
  }
  for (const user of await store.list('user', { index: { name: 'account', value: accountId } }))
    for (const [name, doc] of Object.entries(user.inlinePolicies))
      lint(doc, user.arn, `${user.arn} inline ${name}`, 'identity');
  for (const policy of await store.list('managedPolicy', { index: { name: 'account', value: accountId } })) {
    const doc = policy.versions.find((v) => v.versionId === policy.defaultVersionId)?.document;
    if (doc !== undefined) lint(doc, policy.arn, policy.arn, 'identity');
  }
  // The organization's own SCPs and RCPs belong to its management account, whichever wrote them
  // (a setup file or the Organizations API): linted with it, labelled as a setup file's are.
  if (management && org) {
    for (const p of await store.list('orgPolicy')) {
      if (p.awsManaged) continue;
      const kind = p.type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp';
      lint(p.content, policyArn(org, p), `organization/policy/${p.name}`, kind);
    }
  }
  return out;
}

export const SEVERITY_RANK = { info: 0, warning: 1, error: 2 } as const;
