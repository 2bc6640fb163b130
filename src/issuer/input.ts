// Field readers for JSON request bodies: each returns a typed value or throws an invalid_field
// error naming the field, so every handler reports bad input the same way.
import type { TokenOptions } from '../store/records/platform.js';
import { checkSubTemplate } from './claims.js';
import { IssuerError, invalidField } from './errors.js';

export type Body = Record<string, unknown>;

export function asBody(value: unknown): Body {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new IssuerError('bad_request');
  return value as Body;
}

/** Reject fields the endpoint does not know, so a typo is not silently ignored. */
export function onlyFields(body: Body, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw invalidField(key, 'unknown field');
}

export function optString(body: Body, field: string, max: number): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidField(field, 'must be a string');
  if (v.length > max) throw invalidField(field, `too long (max ${max})`);
  return v;
}

export function reqString(body: Body, field: string, max: number): string {
  const v = optString(body, field, max);
  if (v === undefined || v === '') throw invalidField(field, 'is required');
  return v;
}

export function optInt(body: Body, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalidField(field, 'must be an integer');
  if (v < min || v > max) throw invalidField(field, `must be from ${min} to ${max}`);
  return v;
}

export function optBool(body: Body, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalidField(field, 'must be true or false');
  return v;
}

export function optStringArray(body: Body, field: string, maxItems: number): string[] | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw invalidField(field, 'must be an array of strings');
  if (v.length > maxItems) throw invalidField(field, `too many items (max ${maxItems})`);
  return v as string[];
}

export function optTokenOptions(body: Body, field: string): TokenOptions | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  const o = (() => {
    try {
      return asBody(v);
    } catch {
      throw invalidField(field, 'must be an object');
    }
  })();
  for (const key of Object.keys(o)) {
    if (!['subTemplate', 'sessionTags', 'sourceIdentity'].includes(key))
      throw invalidField(`${field}.${key}`, 'unknown field');
  }
  const out: TokenOptions = {};
  if (o.subTemplate !== undefined && o.subTemplate !== null) {
    out.subTemplate = checkSubTemplate(`${field}.subTemplate`, o.subTemplate);
  }
  // Re-keyed so errors name the nested field (tokenOptions.sessionTags).
  const nested = { [`${field}.sessionTags`]: o.sessionTags, [`${field}.sourceIdentity`]: o.sourceIdentity };
  const tags = optBool(nested, `${field}.sessionTags`);
  if (tags !== undefined) out.sessionTags = tags;
  const source = optBool(nested, `${field}.sourceIdentity`);
  if (source !== undefined) out.sourceIdentity = source;
  return out;
}
