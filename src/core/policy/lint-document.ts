// Lint for any policy document (identity, boundary, resource, trust, SCP), read as raw JSON so that
// a document the parser refuses still gets a finding that says what was meant: actions written as
// one comma-separated string or with whitespace, an Allow with NotPrincipal, and statements naming
// only ARNs for actions that are always requested on resource "*".
import type { Finding } from './lint.js';

type Add = (f: Omit<Finding, 'statement' | 'sid'>) => void;
type Raw = Record<string, unknown>;

const isRecord = (x: unknown): x is Raw => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The strings of an element with their JSON pointer (a single string or a list). */
function entries(st: Raw, field: string, base: string): [string, string][] {
  const v = st[field];
  if (typeof v === 'string') return [[v, `${base}/${field}`]];
  if (!Array.isArray(v)) return [];
  return v.flatMap((x, i): [string, string][] =>
    typeof x === 'string' ? [[x, `${base}/${field}/${i}`]] : [],
  );
}

/**
 * Actions that act on no single resource: AWS authorizes them on resource "*" (the Service
 * Authorization Reference lists no resource type for them), and so does gatepass for those it serves.
 */
const WILDCARD_ONLY = new Map(
  [
    'iam:GetAccountAuthorizationDetails',
    'iam:ListOpenIDConnectProviders',
    'iam:ListPolicies',
    'iam:ListRoles',
    'iam:ListUsers',
    'iam:SimulateCustomPolicy',
    's3:ListAllMyBuckets',
    'sts:DecodeAuthorizationMessage',
  ].map((a) => [a.toLowerCase(), a]),
);

/** `s3:GetObject,PutObject` → `"s3:GetObject", "s3:PutObject"`: each name under the service prefix. */
function splitSuggestion(action: string): string {
  const colon = action.indexOf(':');
  const service = colon > 0 ? action.slice(0, colon + 1).trim() : '';
  const names = action
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '')
    .map((n) => (n.includes(':') ? n : `${service}${n}`));
  return names.map((n) => `"${n}"`).join(', ');
}

function lintActions(st: Raw, base: string, add: Add): void {
  for (const field of ['Action', 'NotAction']) {
    for (const [a, path] of entries(st, field, base)) {
      if (a.includes(',')) {
        add({
          rule: 'action-with-comma',
          severity: 'error',
          path,
          message: `"${a}" is one action name with a comma in it, which no request has: list each action as its own string (${splitSuggestion(a)}). gatepass refuses the document (MalformedPolicyDocument).`,
        });
      } else if (a !== '*' && (/\s/.test(a) || /:$/.test(a))) {
        add({
          rule: 'action-with-whitespace',
          severity: 'error',
          path,
          message: `"${a}" has ${/:\s*$/.test(a) ? 'no action name after the colon' : 'whitespace in it'}, so it names no action a request has. gatepass refuses the document (MalformedPolicyDocument).`,
        });
      }
    }
  }
}

function lintStatement(st: Raw, base: string, add: Add): void {
  lintActions(st, base, add);
  if (st.Effect === 'Allow' && st.NotPrincipal !== undefined) {
    add({
      rule: 'allow-with-not-principal',
      severity: 'warning',
      path: `${base}/NotPrincipal`,
      message:
        'NotPrincipal is supported only with "Effect": "Deny": gatepass grants nothing through this statement, and services that accept it grant to everyone it does not name, anonymous callers included. Use "Principal" with an ArnNotEquals condition on aws:PrincipalArn.',
    });
  }
  // Identity-side statements only: a resource policy's own resource is never "*".
  if (st.Principal !== undefined || st.NotPrincipal !== undefined) return;
  const resources = entries(st, 'Resource', base).map(([r]) => r);
  if (resources.length === 0 || resources.includes('*')) return;
  for (const [a, path] of entries(st, 'Action', base)) {
    const action = WILDCARD_ONLY.get(a.toLowerCase());
    if (action === undefined) continue;
    add({
      rule: 'wildcard-only-action-on-arn',
      severity: 'warning',
      path,
      message: `${action} acts on no single resource: it is requested on resource "*", which no Resource of this statement covers, so the statement never ${st.Effect === 'Deny' ? 'denies' : 'allows'} it. Give it a statement with "Resource": "*".`,
    });
  }
}

/** Findings for a policy document of any kind, from its parsed JSON (any value: a non-object has none). */
export function lintPolicyDocument(doc: unknown): Finding[] {
  if (!isRecord(doc)) return [];
  const raw = doc.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const out: Finding[] = [];
  list.forEach((st, i) => {
    if (!isRecord(st)) return;
    const sid = typeof st.Sid === 'string' ? st.Sid : undefined;
    lintStatement(st, `/Statement/${i}`, (f) => out.push({ ...f, statement: i, ...(sid ? { sid } : {}) }));
  });
  return out;
}
