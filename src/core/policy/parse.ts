// Parse and validate a policy document for its kind. Every problem becomes a PolicyValidationError in
// AWS's MalformedPolicyDocument wording; anything unknown is rejected here so that evaluation never
// has to guess.

import { POLICY_MESSAGES, PolicyValidationError } from './errors.js';
import { type OperatorSpec, operatorSpec } from './operators.js';
import type {
  ConditionClause,
  ParseOptions,
  Policy,
  PolicyKind,
  PrincipalBlock,
  Statement,
} from './types.js';
import { base64Bytes, parseBool, parseCidr, parseDate, parseNumber } from './values.js';

interface KindRules {
  principal: 'required' | 'prohibited' | 'star';
  notPrincipal: boolean;
  resource: 'required' | 'prohibited';
  /** IAM-stored policies restrict a Sid to [0-9A-Za-z]. */
  alnumSid: boolean;
  maxSize: number;
  quota: string;
}

const RULES: Readonly<Record<PolicyKind, KindRules>> = {
  identity: {
    principal: 'prohibited',
    notPrincipal: false,
    resource: 'required',
    alnumSid: true,
    maxSize: 6144,
    quota: 'PolicySize',
  },
  boundary: {
    principal: 'prohibited',
    notPrincipal: false,
    resource: 'required',
    alnumSid: true,
    maxSize: 6144,
    quota: 'PolicySize',
  },
  session: {
    principal: 'prohibited',
    notPrincipal: false,
    resource: 'required',
    alnumSid: true,
    maxSize: 2048,
    quota: 'PolicySize',
  },
  trust: {
    principal: 'required',
    notPrincipal: false,
    resource: 'prohibited',
    alnumSid: true,
    maxSize: 2048,
    quota: 'ACLSizePerRole',
  },
  resource: {
    principal: 'required',
    notPrincipal: true,
    resource: 'required',
    alnumSid: false,
    maxSize: 20480,
    quota: 'PolicySize',
  },
  scp: {
    principal: 'prohibited',
    notPrincipal: false,
    resource: 'required',
    alnumSid: false,
    maxSize: 5120,
    quota: 'PolicySize',
  },
  rcp: {
    principal: 'star',
    notPrincipal: false,
    resource: 'required',
    alnumSid: false,
    maxSize: 5120,
    quota: 'PolicySize',
  },
};

const TOP_FIELDS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

type Json = unknown;
type Where = number | string | undefined;

const fail = (message: string, where?: Where): never => {
  throw new PolicyValidationError('MalformedPolicyDocument', message, where);
};

const isRecord = (x: Json): x is Record<string, Json> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** Characters that count toward the size quota: everything but whitespace. */
function sizeOf(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) n++;
  }
  return n;
}

/** The document character set: tab, LF, CR and U+0020–U+00FF. */
function checkCharset(text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || (c < 0x20 && c !== 9 && c !== 10 && c !== 13)) {
      fail(POLICY_MESSAGES.charset(i));
    }
  }
}

/** A string or a non-empty array of strings. */
function stringList(value: Json, field: string, where: Where): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.length === 0) return fail(POLICY_MESSAGES.notStringList(field), where);
  return value.map((v) => (typeof v === 'string' ? v : fail(POLICY_MESSAGES.notOnlyStrings(field), where)));
}

/**
 * A service prefix and an action name, as the Service Authorization Reference spells them. Text with
 * a comma (`s3:GetObject,PutObject`), whitespace or nothing after the colon is refused as
 * MalformedPolicyDocument rather than kept as a pattern that can never match. Source: the IAM User
 * Guide, "IAM JSON policy elements: Action" (a service prefix followed by the name of the action; "the
 * name must match an action that is supported by the service") and the policy grammar's
 * <action_string>; a Deny that silently matches nothing is the dangerous half. Recorded disagreement with cloud-copilot/iam-simulate, which evaluates such
 * a statement as matching no action (its commas and whitespaceActions scenarios); `gatepass lint`
 * names the mistake (rules action-with-comma, action-with-whitespace).
 */
const ACTION = /^[A-Za-z0-9-]+:[A-Za-z0-9_*?-]+$/;

function actions(value: Json, where: Where): string[] {
  const list = stringList(value, 'Action', where);
  for (const a of list) {
    if (a === '*') continue;
    if (!a.includes(':')) fail(POLICY_MESSAGES.vendor, where);
    if (!ACTION.test(a)) fail(POLICY_MESSAGES.invalidAction(a), where);
  }
  return list;
}

function resources(value: Json, where: Where): string[] {
  const list = stringList(value, 'Resource', where);
  for (const r of list) {
    if (r === '*') continue;
    if (!r.startsWith('arn:') || r.split(':').length < 6) fail(POLICY_MESSAGES.resourceNotArn(r), where);
  }
  return list;
}

const ACCOUNT = /^\d{12}$/;
const PARTITION = '(?:aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b)';
const AWS_PRINCIPAL = new RegExp(
  `^arn:${PARTITION}:(?:iam::\\d{12}:(?:root|role/.+|user/.+)|sts::\\d{12}:(?:assumed-role/[^/]+/.+|federated-user/.+))$`,
);
const UNIQUE_ID = /^A(?:ROA|IDA|GPA|NPA)[A-Z0-9]{12,}$/;
const FEDERATED_ARN = new RegExp(`^arn:${PARTITION}:iam::\\d{12}:(?:oidc-provider|saml-provider)/.+$`);
const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::\d+)?(?:\/[A-Za-z0-9._~/-]*)?$/;
const SERVICE = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const CANONICAL = /^[0-9a-f]{64}$/;

const PRINCIPAL_CHECKS: Readonly<Record<string, (v: string) => boolean>> = {
  AWS: (v) => v === '*' || ACCOUNT.test(v) || AWS_PRINCIPAL.test(v) || UNIQUE_ID.test(v),
  Federated: (v) => FEDERATED_ARN.test(v) || HOST.test(v),
  Service: (v) => SERVICE.test(v),
  CanonicalUser: (v) => CANONICAL.test(v),
};

/**
 * `"*"` or a map of principal types (the IAM User Guide's policy grammar: `<principal_block> =
 * ("Principal" | "NotPrincipal") : ("*" | <principal_map>)`); a bare ARN string is refused, as IAM
 * refuses it. Recorded disagreement with cloud-copilot/iam-simulate, which reads a bare ARN as an
 * AWS principal (some of its permissionBoundaries scenarios).
 */
function principal(value: Json, where: Where): PrincipalBlock {
  if (value === '*') return '*';
  if (!isRecord(value) || Object.keys(value).length === 0) {
    return fail(POLICY_MESSAGES.invalidPrincipal(JSON.stringify(value) ?? 'null'), where);
  }
  const block: { AWS?: string[]; Federated?: string[]; Service?: string[]; CanonicalUser?: string[] } = {};
  for (const [type, raw] of Object.entries(value)) {
    const check = PRINCIPAL_CHECKS[type];
    if (check === undefined) return fail(POLICY_MESSAGES.invalidPrincipalType(type), where);
    const list = stringList(raw, 'Principal', where);
    for (const v of list) {
      // No partial wildcards: "arn:aws:iam::*:role/x" must be written as "*" plus a condition.
      const partialWildcard = v !== '*' && (v.includes('*') || v.includes('?'));
      if (partialWildcard || !check(v)) fail(POLICY_MESSAGES.invalidPrincipalValue(type, v), where);
    }
    block[type as keyof typeof block] = list;
  }
  return block;
}

function conditionValue(v: Json, where: Where): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(POLICY_MESSAGES.conditionValueType, where);
}

const VALUE_CHECKS: Readonly<Record<string, (v: string) => boolean>> = {
  numeric: (v) => parseNumber(v) !== undefined,
  date: (v) => parseDate(v) !== undefined,
  bool: (v) => parseBool(v) !== undefined,
  binary: (v) => base64Bytes(v) !== undefined,
  ip: (v) => parseCidr(v) !== undefined,
  null: (v) => parseBool(v) !== undefined,
};

function checkValues(spec: OperatorSpec, key: string, values: readonly string[], where: Where): void {
  const check = VALUE_CHECKS[spec.family];
  if (check === undefined) return;
  for (const v of values) {
    if (!check(v)) fail(POLICY_MESSAGES.conditionValue(spec.family, spec.operator, key, v), where);
  }
}

function conditions(value: Json, where: Where): ConditionClause[] {
  if (!isRecord(value)) return fail(POLICY_MESSAGES.conditionNotObject, where);
  const out: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const spec = operatorSpec(operator);
    if (spec === undefined) return fail(POLICY_MESSAGES.unknownOperator(operator), where);
    if (!isRecord(block) || Object.keys(block).length === 0) {
      return fail(POLICY_MESSAGES.operatorNotMap(operator), where);
    }
    for (const [key, raw] of Object.entries(block)) {
      if (!/^[^:\s]+:\S/.test(key)) fail(POLICY_MESSAGES.vendor, where);
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) fail(POLICY_MESSAGES.conditionNoValues(operator, key), where);
      const values = list.map((v) => conditionValue(v, where));
      checkValues(spec, key, values, where);
      out.push({ operator, key, values });
    }
  }
  return out;
}

function statement(raw: Json, index: number, rules: KindRules, kind: PolicyKind): Statement {
  if (!isRecord(raw)) return fail(POLICY_MESSAGES.statementNotObject(index), index);
  const sid = raw.Sid;
  if (sid !== undefined && typeof sid !== 'string') return fail(POLICY_MESSAGES.sidNotString, index);
  const where: Where = sid ?? index;
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) fail(POLICY_MESSAGES.unsupportedField(field), where);
  }
  if (sid !== undefined && rules.alnumSid && !/^[0-9A-Za-z]*$/.test(sid)) {
    fail(POLICY_MESSAGES.sidNotAlnum, where);
  }

  const effect = raw.Effect;
  if (effect === undefined) fail(POLICY_MESSAGES.missingEffect, where);
  if (effect !== 'Allow' && effect !== 'Deny')
    return fail(POLICY_MESSAGES.invalidEffect(String(effect)), where);

  const st: Statement = { index, effect, condition: [] };
  if (sid !== undefined) st.sid = sid;

  // Identity policies may not name a principal, resource policies must (IAM User Guide, "Principal":
  // required in resource-based policies, not allowed in identity-based ones): both are refused as IAM
  // refuses them. Recorded disagreement with cloud-copilot/iam-simulate, which skips such statements
  // (its noPrincipalElement scenarios) or ignores the element in identity policies.
  const hasP = raw.Principal !== undefined;
  const hasNP = raw.NotPrincipal !== undefined;
  if (rules.principal === 'prohibited' && (hasP || hasNP)) fail(POLICY_MESSAGES.principalProhibited, where);
  if (hasNP && !rules.notPrincipal) fail(POLICY_MESSAGES.prohibitedField('NotPrincipal'), where);
  if (hasP && hasNP) fail(POLICY_MESSAGES.both('Principal', 'NotPrincipal'), where);
  if (rules.principal !== 'prohibited' && !hasP && !hasNP) fail(POLICY_MESSAGES.missingPrincipal, where);
  if (hasP) st.principal = principal(raw.Principal, where);
  if (hasNP) st.notPrincipal = principal(raw.NotPrincipal, where);
  if (rules.principal === 'star') {
    const p = st.principal;
    const star =
      p === '*' ||
      (p !== undefined && p.AWS?.length === 1 && p.AWS[0] === '*' && Object.keys(p).length === 1);
    if (!star) fail(POLICY_MESSAGES.principalNotStar(kind.toUpperCase()), where);
  }

  if (raw.Action !== undefined && raw.NotAction !== undefined) {
    fail(POLICY_MESSAGES.both('Action', 'NotAction'), where);
  }
  if (raw.Action !== undefined) st.action = actions(raw.Action, where);
  else if (raw.NotAction !== undefined) st.notAction = actions(raw.NotAction, where);
  else fail(POLICY_MESSAGES.noActions, where);

  if (rules.resource === 'prohibited') {
    if (raw.Resource !== undefined) fail(POLICY_MESSAGES.prohibitedField('Resource'), where);
    if (raw.NotResource !== undefined) fail(POLICY_MESSAGES.prohibitedField('NotResource'), where);
  } else {
    if (raw.Resource !== undefined && raw.NotResource !== undefined) {
      fail(POLICY_MESSAGES.both('Resource', 'NotResource'), where);
    }
    if (raw.Resource !== undefined) st.resource = resources(raw.Resource, where);
    else if (raw.NotResource !== undefined) st.notResource = resources(raw.NotResource, where);
    else fail(POLICY_MESSAGES.noResources, where);
  }

  if (raw.Condition !== undefined) st.condition = conditions(raw.Condition, where);
  return st;
}

/** The parser without its safety net; exported for the property test that proves the net is never needed. */
export function parseDocument(
  text: string,
  kind: PolicyKind,
  options: ParseOptions,
  source?: string,
): Policy {
  const rules = RULES[kind];
  checkCharset(text);
  const max = options.maxSize ?? rules.maxSize;
  if (sizeOf(text) > max) {
    throw new PolicyValidationError('LimitExceeded', POLICY_MESSAGES.sizeQuota(rules.quota, max));
  }
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail(POLICY_MESSAGES.syntax);
  }
  if (!isRecord(doc)) return fail(POLICY_MESSAGES.syntax);
  for (const field of Object.keys(doc)) {
    if (!TOP_FIELDS.has(field)) fail(POLICY_MESSAGES.unsupportedTopField(field));
  }
  // Without a Version, IAM applies the 2008 grammar, in which ${…} is literal text.
  const version = doc.Version === undefined ? '2008-10-17' : doc.Version;
  if (version !== '2012-10-17' && version !== '2008-10-17') return fail(POLICY_MESSAGES.legacyParsing);
  if (doc.Id !== undefined && typeof doc.Id !== 'string') fail(POLICY_MESSAGES.idNotString);
  const raw = doc.Statement;
  if (raw === undefined) return fail(POLICY_MESSAGES.missingStatement);
  const list = Array.isArray(raw) ? raw : [raw];
  const statements = list.map((s, i) => statement(s, i, rules, kind));
  const seen = new Set<string>();
  for (const s of statements) {
    if (s.sid === undefined || s.sid === '') continue;
    if (seen.has(s.sid)) fail(POLICY_MESSAGES.sidNotUnique, s.sid);
    seen.add(s.sid);
  }
  const policy: Policy = { kind, version, statements };
  if (typeof doc.Id === 'string') policy.id = doc.Id;
  if (source !== undefined) policy.source = source;
  return policy;
}

/** Parse and validate a policy document. Throws PolicyValidationError (never anything else). */
export function parsePolicy(
  text: string,
  kind: PolicyKind,
  options: ParseOptions = {},
  source?: string,
): Policy {
  try {
    return parseDocument(text, kind, options, source);
  } catch (err) {
    if (err instanceof PolicyValidationError) throw err;
    // Defence in depth: a parser bug must still surface as a validation error, not a crash.
    throw new PolicyValidationError('MalformedPolicyDocument', POLICY_MESSAGES.syntax);
  }
}
