// Trust-policy lint for the OIDC pitfalls AWS accepts silently (spec-notes §7.1): tenancy not pinned
// through `sub`, wildcards that cross the organization delimiter, set operators on single-valued
// keys, keys the issuer never emits, negation or IfExists in Allow statements, account-root trust.

import { isAccountId } from '../ids.js';
import { actionMatches } from './match.js';
import { operatorSpec } from './operators.js';
import type { ConditionClause, Policy, Statement } from './types.js';

export interface IssuerInfo {
  /** Provider host/path, e.g. 'app.terraform.io' (the condition key prefix). */
  prefix: string;
  /** Claims the issuer emits, e.g. ['sub','aud','terraform_run_phase',…]. */
  claims?: readonly string[];
  /** Known organization names (for the org-pin check). */
  organizations?: readonly string[];
  /** Issuer is shared by many tenants (default true). */
  shared?: boolean;
  /** Its tokens may carry the run id as source identity (a gatepass issuer's; never HCP Terraform's). */
  sourceIdentity?: boolean;
}

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  rule: string;
  severity: Severity;
  statement: number;
  sid?: string;
  message: string;
  /** JSON pointer, e.g. /Statement/0/Condition/StringLike/app.terraform.io:sub */
  path?: string;
}

const WEB_IDENTITY = 'sts:AssumeRoleWithWebIdentity';
/** Keys AWS presents as multi-valued: the only ones a set operator makes sense on. */
const MULTI_VALUED = new Set([
  'aws:tagkeys',
  'aws:principalorgpaths',
  'aws:resourceorgpaths',
  'aws:calledvia',
  'sts:transitivetagkeys',
]);
const MULTI_VALUED_CLAIMS = new Set(['amr']);
/** What a custom OIDC provider exposes when the issuer's claims are not known. */
const DEFAULT_CLAIMS = ['sub', 'aud', 'amr', 'azp', 'oaud'];

const allowsWebIdentity = (st: Statement): boolean =>
  st.effect === 'Allow' &&
  (st.action?.some((a) => actionMatches(a, WEB_IDENTITY)) ??
    !(st.notAction?.some((a) => actionMatches(a, WEB_IDENTITY)) ?? false));

/** Issuers a statement trusts: named through their provider ARN or host, or every one under "*". */
function trustedIssuers(st: Statement, issuers: readonly IssuerInfo[]): IssuerInfo[] {
  if (!allowsWebIdentity(st) || st.principal === undefined) return [];
  const p = st.principal;
  if (p === '*' || p.AWS?.includes('*')) return [...issuers];
  const named = p.Federated ?? [];
  return issuers.filter((i) => named.some((f) => f === i.prefix || f.endsWith(`:oidc-provider/${i.prefix}`)));
}

export const claimOf = (key: string, issuer: IssuerInfo): string | undefined => {
  const k = key.toLowerCase();
  const pre = `${issuer.prefix.toLowerCase()}:`;
  return k.startsWith(pre) ? key.slice(pre.length) : undefined;
};

export const pathOf = (st: Statement, c?: ConditionClause): string =>
  c
    ? `/Statement/${st.index}/Condition/${c.operator}/${c.key.replaceAll('~', '~0').replaceAll('/', '~1')}`
    : `/Statement/${st.index}`;

/** A clause that really constrains a present key: positive, no IfExists, no set operator. */
function constrains(c: ConditionClause): boolean {
  const spec = operatorSpec(c.operator);
  return (
    spec !== undefined && spec.family === 'string' && !spec.negated && !spec.ifExists && spec.set === null
  );
}

const hasWildcard = (v: string, like: boolean): boolean => like && /[*?]/.test(v.replace(/\$\{[*?$]\}/g, ''));

/** The organization a `sub` value pins, or a problem: any org, or an org prefix without its colon. */
function orgOf(value: string, like: boolean): { org?: string; problem?: 'any' | 'prefix' | 'none' } {
  if (!value.startsWith('organization:'))
    return hasWildcard(value.slice(0, 1), like) ? { problem: 'any' } : { problem: 'none' };
  const rest = value.slice('organization:'.length);
  const colon = rest.indexOf(':');
  const org = colon < 0 ? rest : rest.slice(0, colon);
  const wild = like ? org.search(/[*?]/) : -1;
  if (wild === 0) return { problem: 'any' };
  if (wild > 0 || colon < 0) return { problem: 'prefix' };
  return { org };
}

/** Why a statement's `sub` conditions do not pin one organization, or undefined when they do. */
function unpinnedReason(st: Statement, issuer: IssuerInfo): string | undefined {
  const subs = st.condition.filter((c) => claimOf(c.key, issuer) === 'sub' && constrains(c));
  if (subs.length === 0) return `no condition pins ${issuer.prefix}:sub`;
  for (const c of subs) {
    const like = operatorSpec(c.operator)?.compare === 'like';
    const orgs = c.values.map((v) => orgOf(v, like));
    const pinned = orgs.every(
      (o) =>
        o.org !== undefined && (issuer.organizations === undefined || issuer.organizations.includes(o.org)),
    );
    if (pinned) return undefined;
  }
  return `${issuer.prefix}:sub is not anchored on "organization:<org>:"${issuer.organizations ? ` with a known organization (${issuer.organizations.join(', ')})` : ''}`;
}

/**
 * True when every Allow statement trusting an OIDC provider pins `sub` to "organization:<org>:".
 * Issuers marked `shared: false` serve one tenant and are exempt, as in AWS's shared-provider rule.
 */
export function oidcTrustIsPinned(
  policy: Policy,
  issuers: readonly IssuerInfo[],
): { ok: boolean; reason?: string } {
  const shared = issuers.filter((i) => i.shared !== false);
  for (const st of policy.statements) {
    for (const issuer of trustedIssuers(st, shared)) {
      const reason = unpinnedReason(st, issuer);
      if (reason !== undefined) {
        return { ok: false, reason: `statement ${st.sid || `#${st.index}`}: ${reason}` };
      }
    }
  }
  return { ok: true };
}

const PHASE_SEGMENTS = ['project', 'workspace', 'run_phase'];

function lintStatement(
  st: Statement,
  issuers: readonly IssuerInfo[],
  add: (f: Omit<Finding, 'statement' | 'sid'>) => void,
): void {
  const trusted = trustedIssuers(st, issuers);
  for (const issuer of trusted) {
    const subs = st.condition.filter((c) => claimOf(c.key, issuer) === 'sub' && constrains(c));
    if (subs.length === 0) {
      add({
        rule: 'no-sub-condition',
        severity: 'error',
        path: pathOf(st),
        message: `No condition on ${issuer.prefix}:sub: any subject the issuer signs for can assume this role.`,
      });
      const aud = st.condition.some((c) => claimOf(c.key, issuer) === 'aud');
      if (aud && issuer.shared !== false) {
        add({
          rule: 'aud-only-shared-issuer',
          severity: 'error',
          path: pathOf(st),
          message: `Only ${issuer.prefix}:aud is checked, and ${issuer.prefix} is shared by many tenants: the audience isolates none of them.`,
        });
      }
    }
    for (const c of subs) {
      const like = operatorSpec(c.operator)?.compare === 'like';
      for (const v of c.values) {
        const o = orgOf(v, like);
        if (o.problem === 'any') {
          add({
            rule: 'sub-any-organization',
            severity: 'error',
            path: pathOf(st, c),
            message: `${c.operator} "${v}" on ${c.key} matches every organization.`,
          });
        } else if (o.problem === 'prefix') {
          add({
            rule: 'org-prefix-without-colon',
            severity: 'error',
            path: pathOf(st, c),
            message: `"${v}" does not close the organization name with ":", so it also matches other organizations that share the prefix.`,
          });
        } else if (o.org !== undefined && issuer.organizations && !issuer.organizations.includes(o.org)) {
          add({
            rule: 'unknown-organization',
            severity: 'warning',
            path: pathOf(st, c),
            message: `Organization "${o.org}" is not one of the known organizations.`,
          });
        } else if (like) {
          const wild = PHASE_SEGMENTS.filter((seg) => new RegExp(`:${seg}:[^:]*[*?]`).test(v));
          if (wild.length > 0) {
            add({
              rule: 'broad-sub-wildcard',
              severity: 'warning',
              path: pathOf(st, c),
              message: `"${v}" uses a wildcard over ${wild.join(', ')}: pin them, and use separate plan and apply roles.`,
            });
          }
        }
      }
    }
    for (const c of st.condition) {
      const claim = claimOf(c.key, issuer);
      if (claim === undefined) continue;
      const emitted = issuer.claims ?? DEFAULT_CLAIMS;
      if (!emitted.includes(claim)) {
        add({
          rule: 'unknown-claim-key',
          severity: 'error',
          path: pathOf(st, c),
          message: `${issuer.prefix} never emits "${claim}": ${c.key} is always absent from the request.`,
        });
      }
    }
  }

  for (const c of st.condition) {
    const spec = operatorSpec(c.operator);
    if (spec === undefined) continue;
    const lower = c.key.toLowerCase();
    const claim = lower.slice(lower.lastIndexOf(':') + 1);
    const isIssuerKey = issuers.some((i) => claimOf(c.key, i) !== undefined);
    const multi =
      MULTI_VALUED.has(lower) ||
      (isIssuerKey && MULTI_VALUED_CLAIMS.has(claim)) ||
      lower.startsWith('aws:calledvia');
    if (spec.set !== null && !multi) {
      add({
        rule: 'set-operator-on-single-valued-key',
        severity: 'error',
        path: pathOf(st, c),
        message: `${c.operator} on the single-valued key ${c.key}${spec.set === 'all' ? ': it holds vacuously when the key is absent' : ''}; use the plain operator.`,
      });
    }
    if (st.effect === 'Allow' && spec.negated) {
      add({
        rule: 'negated-operator-in-allow',
        severity: 'warning',
        path: pathOf(st, c),
        message: `${c.operator} in an Allow holds when ${c.key} is absent.`,
      });
    }
    if (st.effect === 'Allow' && spec.ifExists) {
      add({
        rule: 'if-exists-in-allow',
        severity: 'warning',
        path: pathOf(st, c),
        message: `${c.operator} in an Allow holds when ${c.key} is absent.`,
      });
    }
    if (spec.family === 'string' && spec.compare === 'like' && c.values.every((v) => !hasWildcard(v, true))) {
      add({
        rule: 'stringlike-without-wildcard',
        severity: 'info',
        path: pathOf(st, c),
        message: `${c.operator} on ${c.key} uses no wildcard: StringEquals says what is meant.`,
      });
    }
  }

  if (st.effect === 'Allow' && st.principal !== undefined) {
    const p = st.principal;
    if (p === '*' || p.AWS?.includes('*')) {
      add({
        rule: 'principal-wildcard',
        severity: st.condition.length === 0 ? 'error' : 'warning',
        path: `/Statement/${st.index}/Principal`,
        message:
          'The statement trusts every principal; only its conditions restrict who can assume the role.',
      });
    } else if (p.AWS?.some((v) => isAccountId(v) || /:root$/.test(v))) {
      add({
        rule: 'trusts-account-root',
        severity: 'warning',
        path: `/Statement/${st.index}/Principal/AWS`,
        message:
          'Trusting an account delegates to every principal of that account with an identity Allow; name the role, or add an aws:PrincipalArn condition.',
      });
    }
  }
}

const SET_SOURCE_IDENTITY = 'sts:SetSourceIdentity';

/**
 * gatepass's tokens carry the run id as source identity (so a deny on aws:SourceIdentity reaches
 * every session of the run); AWS then refuses AssumeRoleWithWebIdentity unless the trust allows
 * sts:SetSourceIdentity too.
 */
function missingSetSourceIdentity(policy: Policy, st: Statement, issuers: readonly IssuerInfo[]): boolean {
  if (!trustedIssuers(st, issuers).some((i) => i.sourceIdentity)) return false;
  return !policy.statements.some(
    (o) =>
      o.effect === 'Allow' &&
      (o.action?.some((a) => actionMatches(a, SET_SOURCE_IDENTITY)) ??
        !(o.notAction?.some((a) => actionMatches(a, SET_SOURCE_IDENTITY)) ?? false)),
  );
}

/** Findings for a trust policy, in statement order. */
export function lintTrustPolicy(policy: Policy, issuers: readonly IssuerInfo[]): Finding[] {
  const out: Finding[] = [];
  for (const st of policy.statements) {
    const add = (f: Omit<Finding, 'statement'>) => {
      const finding: Finding = { ...f, statement: st.index };
      if (st.sid !== undefined) finding.sid = st.sid;
      out.push(finding);
    };
    lintStatement(st, issuers, add);
    if (missingSetSourceIdentity(policy, st, issuers))
      add({
        rule: 'web-identity-without-set-source-identity',
        severity: 'error',
        path: `/Statement/${st.index}/Action`,
        message:
          'A gatepass token with source identity on (the run id, which the revocation deny list keys on) is refused unless the trust also allows sts:SetSourceIdentity: add "sts:SetSourceIdentity" to this Action.',
      });
  }
  return out;
}
