// Input rules for platform names and identifiers. Names end up inside the `sub` claim, whose
// fields are separated by ':', so no name may contain one; limits follow HCP Terraform's.
import { invalidField } from './errors.js';

export interface NameRule {
  pattern: RegExp;
  max: number;
  /** Shown as the reason when the pattern fails. */
  allowed: string;
}

export const NAME_RULES = {
  organization: { pattern: /^[A-Za-z0-9_-]+$/, max: 40, allowed: 'letters, digits, "-" and "_"' },
  project: {
    pattern: /^[A-Za-z0-9_-](?:[A-Za-z0-9 _-]*[A-Za-z0-9_-])?$/,
    max: 40,
    allowed: 'letters, digits, spaces (not at the ends), "-" and "_"',
  },
  workspace: { pattern: /^[A-Za-z0-9_-]+$/, max: 90, allowed: 'letters, digits, "-" and "_"' },
  variableSet: {
    pattern: /^[A-Za-z0-9_-](?:[A-Za-z0-9 _.-]*[A-Za-z0-9_.-])?$/,
    max: 90,
    allowed: 'letters, digits, spaces, ".", "-" and "_"',
  },
} as const satisfies Record<string, NameRule>;

export function checkName(field: string, value: unknown, rule: NameRule): string {
  if (typeof value !== 'string') throw invalidField(field, 'must be a string');
  if (value.length === 0) throw invalidField(field, 'must not be empty');
  if (value.length > rule.max) throw invalidField(field, `too long (max ${rule.max})`);
  if (!rule.pattern.test(value)) throw invalidField(field, `may contain only ${rule.allowed}`);
  return value;
}

/** Environment variable names; Terraform variables also allow '-'. */
export function checkVariableKey(field: string, value: unknown, category: 'env' | 'terraform'): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidField(field, 'must be a non-empty string');
  if (value.length > 128) throw invalidField(field, 'too long (max 128)');
  const pattern = category === 'env' ? /^[A-Za-z_][A-Za-z0-9_]*$/ : /^[A-Za-z_][A-Za-z0-9_-]*$/;
  if (!pattern.test(value))
    throw invalidField(field, 'must start with a letter or "_" and contain only letters, digits and "_"');
  return value;
}

/**
 * Configuration tags (the `<TAG>` of `TFC_AWS_RUN_ROLE_ARN_<TAG>`): letters, digits and '_' only,
 * and `TYPE` is reserved (HCP Terraform's rule). The empty string is the default configuration.
 */
export function checkConfigTag(field: string, value: unknown): string {
  if (value === undefined || value === '') return '';
  if (typeof value !== 'string') throw invalidField(field, 'must be a string');
  if (value.length > 64) throw invalidField(field, 'too long (max 64)');
  if (!/^[A-Za-z0-9_]+$/.test(value)) throw invalidField(field, 'may contain only letters, digits and "_"');
  if (value.toUpperCase() === 'TYPE') throw invalidField(field, '"TYPE" is reserved');
  return value;
}

/** An `aud` value: printable ASCII without spaces, 1–255 (the limit of an IAM client id). */
export function checkAudience(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidField(field, 'must be a non-empty string');
  if (value.length > 255) throw invalidField(field, 'too long (max 255)');
  if (!/^[\x21-\x7e]+$/.test(value)) throw invalidField(field, 'must be printable ASCII without spaces');
  return value;
}
