// Parse and validate a policy document for its kind. Every problem becomes a PolicyValidationError in
// AWS's MalformedPolicyDocument wording; anything unknown is rejected here so that evaluation never
// has to guess.

import { PolicyValidationError } from './errors.js';
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

const SYNTAX = 'Syntax errors in policy.';
const VENDOR = 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.';
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
      fail(`${SYNTAX} The policy contains a character outside the allowed set at offset ${i}.`);
    }
  }
}

/** A string or a non-empty array of strings. */
function stringList(value: Json, field: string, where: Where): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.length === 0)
    return fail(`${SYNTAX} ${field} must be a string or a non-empty list of strings.`, where);
  return value.map((v) =>
    typeof v === 'string' ? v : fail(`${SYNTAX} ${field} must contain only strings.`, where),
  );
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
    if (!a.includes(':')) fail(VENDOR, where);
    if (!ACTION.test(a)) fail(`Invalid action: ${a}`, where);
  }
  return list;
}

function resources(value: Json, where: Where): string[] {
  const list = stringList(value, 'Resource', where);
  for (const r of list) {
    if (r === '*') continue;
    if (!r.startsWith('arn:') || r.split(':').length < 6)
      fail(`Resource ${r} must be in ARN format or "*".`, where);
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
    return fail(`Invalid principal in policy: ${JSON.stringify(value) ?? 'null'}`, where);
  }
  const block: { AWS?: string[]; Federated?: string[]; Service?: string[]; CanonicalUser?: string[] } = {};
  for (const [type, raw] of Object.entries(value)) {
    const check = PRINCIPAL_CHECKS[type];
    if (check === undefined) return fail(`Invalid principal in policy: "${type}"`, where);
    const list = stringList(raw, 'Principal', where);
    for (const v of list) {
      // No partial wildcards: "arn:aws:iam::*:role/x" must be written as "*" plus a condition.
      const partialWildcard = v !== '*' && (v.includes('*') || v.includes('?'));
      if (partialWildcard || !check(v)) fail(`Invalid principal in policy: "${type}":"${v}"`, where);
    }
    block[type as keyof typeof block] = list;
  }
  return block;
}

function conditionValue(v: Json, where: Where): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fail(`${SYNTAX} Condition values must be strings, numbers or booleans.`, where);
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
    if (!check(v)) fail(`Invalid Condition ${spec.family} value for ${spec.operator} on ${key}: ${v}`, where);
  }
}

function conditions(value: Json, where: Where): ConditionClause[] {
  if (!isRecord(value)) return fail(`${SYNTAX} Condition must be an object.`, where);
  const out: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const spec = operatorSpec(operator);
    if (spec === undefined) return fail(`Unknown condition operator ${operator}`, where);
    if (!isRecord(block) || Object.keys(block).length === 0) {
      return fail(`${SYNTAX} Condition operator ${operator} must map keys to values.`, where);
    }
    for (const [key, raw] of Object.entries(block)) {
      if (!/^[^:\s]+:\S/.test(key)) fail(VENDOR, where);
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) fail(`${SYNTAX} Condition ${operator} on ${key} has no values.`, where);
      const values = list.map((v) => conditionValue(v, where));
      checkValues(spec, key, values, where);
      out.push({ operator, key, values });
    }
  }
  return out;
}

function statement(raw: Json, index: number, rules: KindRules, kind: PolicyKind): Statement {
  if (!isRecord(raw)) return fail(`${SYNTAX} Statement ${index} must be an object.`, index);
  const sid = raw.Sid;
  if (sid !== undefined && typeof sid !== 'string') return fail(`${SYNTAX} Sid must be a string.`, index);
  const where: Where = sid ?? index;
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field)) fail(`${SYNTAX} Unsupported field ${field}.`, where);
  }
  if (sid !== undefined && rules.alnumSid && !/^[0-9A-Za-z]*$/.test(sid)) {
    fail(
      'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
      where,
    );
  }

  const effect = raw.Effect;
  if (effect === undefined) fail('Missing required field Effect', where);
  if (effect !== 'Allow' && effect !== 'Deny') return fail(`Invalid effect: ${String(effect)}`, where);

  const st: Statement = { index, effect, condition: [] };
  if (sid !== undefined) st.sid = sid;

  // Identity policies may not name a principal, resource policies must (IAM User Guide, "Principal":
  // required in resource-based policies, not allowed in identity-based ones): both are refused as IAM
  // refuses them. Recorded disagreement with cloud-copilot/iam-simulate, which skips such statements
  // (its noPrincipalElement scenarios) or ignores the element in identity policies.
  const hasP = raw.Principal !== undefined;
  const hasNP = raw.NotPrincipal !== undefined;
  if (rules.principal === 'prohibited' && (hasP || hasNP))
    fail('Policy document should not specify a principal.', where);
  if (hasNP && !rules.notPrincipal) fail('Has prohibited field NotPrincipal', where);
  if (hasP && hasNP) fail(`${SYNTAX} A statement cannot have both Principal and NotPrincipal.`, where);
  if (rules.principal !== 'prohibited' && !hasP && !hasNP) fail('Missing required field Principal', where);
  if (hasP) st.principal = principal(raw.Principal, where);
  if (hasNP) st.notPrincipal = principal(raw.NotPrincipal, where);
  if (rules.principal === 'star') {
    const p = st.principal;
    const star =
      p === '*' ||
      (p !== undefined && p.AWS?.length === 1 && p.AWS[0] === '*' && Object.keys(p).length === 1);
    if (!star) fail(`The Principal of ${kind.toUpperCase()} statements must be "*".`, where);
  }

  if (raw.Action !== undefined && raw.NotAction !== undefined) {
    fail(`${SYNTAX} A statement cannot have both Action and NotAction.`, where);
  }
  if (raw.Action !== undefined) st.action = actions(raw.Action, where);
  else if (raw.NotAction !== undefined) st.notAction = actions(raw.NotAction, where);
  else fail('Policy statement must contain actions.', where);

  if (rules.resource === 'prohibited') {
    if (raw.Resource !== undefined) fail('Has prohibited field Resource', where);
    if (raw.NotResource !== undefined) fail('Has prohibited field NotResource', where);
  } else {
    if (raw.Resource !== undefined && raw.NotResource !== undefined) {
      fail(`${SYNTAX} A statement cannot have both Resource and NotResource.`, where);
    }
    if (raw.Resource !== undefined) st.resource = resources(raw.Resource, where);
    else if (raw.NotResource !== undefined) st.notResource = resources(raw.NotResource, where);
    else fail('Policy statement must contain resources.', where);
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
    throw new PolicyValidationError('LimitExceeded', `Cannot exceed quota for ${rules.quota}: ${max}`);
  }
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail(SYNTAX);
  }
  if (!isRecord(doc)) return fail(SYNTAX);
  for (const field of Object.keys(doc)) {
    if (!TOP_FIELDS.has(field)) fail(`${SYNTAX} Unsupported top-level field ${field}.`);
  }
  // Without a Version, IAM applies the 2008 grammar, in which ${…} is literal text.
  const version = doc.Version === undefined ? '2008-10-17' : doc.Version;
  if (version !== '2012-10-17' && version !== '2008-10-17') return fail('The policy failed legacy parsing');
  if (doc.Id !== undefined && typeof doc.Id !== 'string') fail(`${SYNTAX} Id must be a string.`);
  const raw = doc.Statement;
  if (raw === undefined) return fail(`${SYNTAX} Missing required field Statement.`);
  const list = Array.isArray(raw) ? raw : [raw];
  const statements = list.map((s, i) => statement(s, i, rules, kind));
  const seen = new Set<string>();
  for (const s of statements) {
    if (s.sid === undefined || s.sid === '') continue;
    if (seen.has(s.sid)) fail('Statement IDs (SID) in a single policy must be unique.', s.sid);
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
    throw new PolicyValidationError('MalformedPolicyDocument', SYNTAX);
  }
}
