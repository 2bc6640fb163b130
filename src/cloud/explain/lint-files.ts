// `gatepass lint`: the policy engine's trust-policy findings for every role of a setup file, a bare
// policy document or an account of the store, each placed at its file, line and statement. Lines
// come from the YAML/JSON syntax tree (JSON is YAML), including documents written as JSON text
// inside the setup file.
import { isMap, isScalar, LineCounter, parseDocument, Scalar } from 'yaml';
import { type Finding, type IssuerInfo, lintTrustPolicy, parsePolicy } from '../../core/policy/index.js';
import type { Store } from '../../store/types.js';
import { parseSetup } from '../setup/schema.js';
import { providerPrefix } from '../sts/web-identity.js';

export interface LocatedFinding extends Finding {
  file: string;
  line?: number;
  /** `<account>/role/<name>` for setup files and accounts. */
  role?: string;
}

export interface LintOptions {
  /** Claims the issuers emit beyond the defaults (gatepass's own issuer emits its terraform_* claims). */
  claims?: readonly string[];
  /** Known organization names, for the unknown-organization check of `ownIssuer`'s policies. */
  organizations?: readonly string[];
  /** This gatepass's issuer URL: the only issuer whose organizations are known. */
  ownIssuer?: string;
}

const AWS_DEFAULT_CLAIMS = ['sub', 'aud', 'amr', 'azp', 'oaud'];
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

function lintDocument(
  text: string,
  issuers: readonly IssuerInfo[],
  where: { file: string; role?: string },
  lineOf: (path: readonly Seg[]) => number | undefined,
): LocatedFinding[] {
  const base = where.role !== undefined ? { file: where.file, role: where.role } : { file: where.file };
  const at = (f: Finding | Omit<LocatedFinding, 'file'>, path: readonly Seg[]): LocatedFinding => {
    const line = lineOf(path);
    return line !== undefined ? { ...f, ...base, line } : { ...f, ...base };
  };
  try {
    const policy = parsePolicy(text, 'trust', { maxSize: Number.MAX_SAFE_INTEGER });
    return lintTrustPolicy(policy, issuers).map((f) => at(f, pointer(f.path)));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return [at({ rule: 'invalid-policy', severity: 'error', statement: -1, message }, [])];
  }
}

/** Findings of a policy document file (JSON). */
export function lintPolicyText(text: string, file: string, o: LintOptions = {}): LocatedFinding[] {
  const l = locate(text);
  return lintDocument(text, federatedIssuers(text, o), { file }, (p) => lineAt(l, p));
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
  spec.accounts.forEach((account, i) => {
    const issuers = issuersOf(
      account.oidcProviders.map((p) => p.url),
      o,
    );
    account.roles.forEach((role, j) => {
      const path: Seg[] = ['accounts', i, 'roles', j, 'trustPolicy'];
      const node = l.doc.getIn(path, true);
      // A document written as JSON text: lines inside it are offset from where the text starts.
      const inner = isScalar(node) && typeof node.value === 'string' ? locate(node.value) : undefined;
      const start =
        node && (node as { range?: [number] }).range
          ? l.counter.linePos((node as { range: [number] }).range[0]).line
          : 0;
      const block =
        isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) ? 1 : 0;
      const lineOf = (p: readonly Seg[]): number | undefined => {
        if (!inner) return lineAt(l, [...path, ...p]);
        const n = lineAt(inner, p);
        return n === undefined ? start : start + block + n - 1;
      };
      const text = role.trustPolicy.replace(
        /\$\{account:([a-z0-9-]+)\}/g,
        (m, name: string) => ids.get(name) ?? m,
      );
      out.push(...lintDocument(text, issuers, { file, role: `${account.name}/role/${role.name}` }, lineOf));
    });
  });
  return out;
}

/** Findings of every role of an account in the store; lines are within each stored document. */
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
  const roles = await store.list('role', { index: { name: 'account', value: accountId } });
  const out: LocatedFinding[] = [];
  for (const role of roles) {
    const l = locate(role.trustPolicy);
    out.push(
      ...lintDocument(role.trustPolicy, issuers, { file: role.arn, role: role.arn }, (p) => lineAt(l, p)),
    );
  }
  return out;
}

export const SEVERITY_RANK = { info: 0, warning: 1, error: 2 } as const;
