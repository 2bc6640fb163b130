// Portability to AWS: IAM exposes only a fixed set of an OIDC provider's claims as condition keys.
// For a generic provider (app.terraform.io and every self-hosted issuer among them) that is `aud`,
// `sub` and `amr`, plus a documented few for some named IdPs ("Available keys for AWS web identity
// federation" in the IAM User Guide). Any other `<provider>:<claim>` key is absent from AWS's
// request context, so a condition on it works in gatepass and silently behaves differently on AWS:
// a positive test never matches, a negated or IfExists one always holds. The finding names what
// would work instead, usually the same test encoded in the `sub` pattern.
import { claimOf, type Finding, type IssuerInfo, pathOf } from './lint.js';
import { operatorSpec } from './operators.js';
import type { ConditionClause, Policy, Statement } from './types.js';

/** What AWS evaluates for a generic OIDC provider. */
export const AWS_GENERIC_OIDC_KEYS: readonly string[] = ['aud', 'sub', 'amr'];

/** Named identity providers whose documented keys differ from the generic set. */
const AWS_NAMED_PROVIDER_KEYS: Readonly<Record<string, readonly string[]>> = {
  'accounts.google.com': ['aud', 'azp', 'oaud', 'sub', 'amr'],
  'cognito-identity.amazonaws.com': ['aud', 'amr', 'sub'],
  'graph.facebook.com': ['app_id', 'id'],
  'www.amazon.com': ['app_id', 'user_id'],
};

export function awsEvaluatedKeys(prefix: string): readonly string[] {
  return AWS_NAMED_PROVIDER_KEYS[prefix.toLowerCase()] ?? AWS_GENERIC_OIDC_KEYS;
}

/** What works on AWS instead, for the claims gatepass's issuer (and HCP Terraform) emit. */
const INSTEAD: Readonly<Record<string, string>> = {
  terraform_organization_name: 'pin the organization in the sub pattern instead ("organization:<name>:…")',
  terraform_project_name: 'pin the project in the sub pattern instead (":project:<name>:")',
  terraform_workspace_name: 'pin the workspace in the sub pattern instead (":workspace:<name>:")',
  terraform_full_workspace: 'pin organization, project and workspace in the sub pattern instead',
  terraform_run_phase: 'end the sub pattern with ":run_phase:plan" or ":run_phase:apply" instead',
  terraform_organization_id:
    'match the names in the sub pattern, or carry the id in sub with a sub template ({organization_id})',
  terraform_project_id:
    'match the names in the sub pattern, or carry the id in sub with a sub template ({project_id})',
  terraform_workspace_id:
    'match the names in the sub pattern, or carry the id in sub with a sub template ({workspace_id})',
  terraform_run_id:
    'no trust policy on AWS can check the run: pin the workspace and phase in the sub pattern',
};

const DEFAULT_INSTEAD = 'encode the test in the sub pattern instead (a sub template can carry the claim)';

/** How a condition on a key absent from the request context comes out on AWS. */
function holdsWhenAbsent(c: ConditionClause): boolean {
  const spec = operatorSpec(c.operator);
  if (spec === undefined) return false;
  // ForAllValues holds vacuously over no values; ForAnyValue finds none.
  if (spec.set !== null) return spec.set === 'all';
  return spec.negated || spec.ifExists;
}

function behaviour(st: Statement, c: ConditionClause): string {
  const alwaysTrue = holdsWhenAbsent(c);
  if (st.effect === 'Allow')
    return alwaysTrue
      ? 'on AWS the key is absent, so this condition always holds and checks nothing'
      : 'on AWS this condition never matches, so the statement never allows';
  return alwaysTrue
    ? 'on AWS the key is absent, so this Deny applies to every request'
    : 'on AWS this condition never matches, so this Deny never applies';
}

/** Findings for condition keys of the given issuers that AWS does not evaluate. */
export function lintAwsConditionKeys(policy: Policy, issuers: readonly IssuerInfo[]): Finding[] {
  const out: Finding[] = [];
  for (const st of policy.statements) {
    for (const c of st.condition) {
      for (const issuer of issuers) {
        const claim = claimOf(c.key, issuer);
        const evaluated = awsEvaluatedKeys(issuer.prefix);
        if (claim === undefined || evaluated.includes(claim.toLowerCase())) continue;
        // A claim the issuer never emits is already an error of its own (unknown-claim-key).
        if (issuer.claims !== undefined && !issuer.claims.includes(claim)) continue;
        const finding: Finding = {
          rule: 'not-evaluated-on-aws',
          severity: 'warning',
          statement: st.index,
          path: pathOf(st, c),
          message: `AWS does not evaluate ${c.key} (for ${issuer.prefix} it has only ${evaluated.map((k) => `:${k}`).join(', ')}): ${behaviour(st, c)}; ${INSTEAD[claim] ?? DEFAULT_INSTEAD}.`,
        };
        if (st.sid !== undefined) finding.sid = st.sid;
        out.push(finding);
      }
    }
  }
  return out;
}
