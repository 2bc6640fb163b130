// Loader for the policy conformance vectors in test/vectors/policy/<topic>/*.json: reads every file,
// checks the shape, and turns each case into a typed request, policy set and expectation.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AuthzRequest, Effect, IssuerInfo, Layer, PolicyKind } from '../../src/core/policy/index.js';

export const VECTOR_ROOT = new URL('../vectors/policy/', import.meta.url).pathname;

type Doc = Record<string, unknown>;

export interface VectorPolicies {
  identity?: Doc[];
  boundary?: Doc;
  session?: Doc[];
  scp?: Doc[][];
  rcp?: Doc[][];
  resource?: Doc;
  resourceKind?: Extract<PolicyKind, 'trust' | 'resource'>;
  resourceAccount?: string;
  principalIsSession?: boolean;
  resourceMustAllow?: boolean;
}

export interface VectorCase {
  name: string;
  rule: string;
  request?: AuthzRequest;
  policies: VectorPolicies;
  expect: { effect: Effect; layer?: Layer | null; reason?: string } | { invalid: string; kind?: PolicyKind };
  /** Rule ids the trust-policy lint must report (exactly this set). */
  lint?: string[];
  /** Issuers for the lint; defaults to HCP Terraform-style app.terraform.io. */
  issuers?: IssuerInfo[];
  /** Substrings explain() must contain. */
  explain?: string[];
}

export interface VectorFile {
  file: string;
  cases: VectorCase[];
}

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else if (name.endsWith('.json')) out.push(p);
  }
  return out;
}

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

function checkCase(c: unknown, where: string): VectorCase {
  if (!isRecord(c)) throw new Error(`${where}: a case must be an object`);
  if (typeof c.name !== 'string' || c.name === '') throw new Error(`${where}: case without a name`);
  if (typeof c.rule !== 'string' || c.rule === '')
    throw new Error(`${where}: case "${c.name}" names no AWS rule`);
  if (!isRecord(c.policies)) throw new Error(`${where}: case "${c.name}" has no policies`);
  if (!isRecord(c.expect)) throw new Error(`${where}: case "${c.name}" has no expectation`);
  if (!('invalid' in c.expect) && !isRecord(c.request))
    throw new Error(`${where}: case "${c.name}" has no request`);
  // The remaining fields are used as typed; a wrong shape fails the case itself with a clear error.
  return c as unknown as VectorCase;
}

export function loadVectors(): VectorFile[] {
  return files(VECTOR_ROOT).map((path) => {
    const file = relative(VECTOR_ROOT, path);
    const data: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!isRecord(data) || !Array.isArray(data.cases))
      throw new Error(`${file}: expected { "cases": [...] }`);
    return { file, cases: data.cases.map((c, i) => checkCase(c, `${file}#${i}`)) };
  });
}
