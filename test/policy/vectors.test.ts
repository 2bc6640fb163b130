// Runs every policy conformance vector (test/vectors/policy/**/*.json) through the engine: parse,
// evaluate, and where a case asks, lint and explain.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  evaluate,
  explain,
  type IssuerInfo,
  lintTrustPolicy,
  type Policy,
  type PolicyKind,
  type PolicySet,
  PolicyValidationError,
  parsePolicy,
} from '../../src/core/policy/index.js';
import { loadVectors, type VectorPolicies } from './vectors.js';

const TERRAFORM: IssuerInfo = {
  prefix: 'app.terraform.io',
  claims: [
    'iss',
    'aud',
    'sub',
    'jti',
    'iat',
    'nbf',
    'exp',
    'terraform_run_phase',
    'terraform_workspace_id',
    'terraform_workspace_name',
    'terraform_organization_id',
    'terraform_organization_name',
    'terraform_project_id',
    'terraform_project_name',
    'terraform_run_id',
    'terraform_full_workspace',
  ],
  organizations: ['acme'],
};

const parse = (doc: unknown, kind: PolicyKind, label: string): Policy =>
  parsePolicy(JSON.stringify(doc), kind, {}, label);

function buildSet(p: VectorPolicies): PolicySet {
  const set: { -readonly [K in keyof PolicySet]: PolicySet[K] } = {};
  if (p.identity) set.identity = p.identity.map((d, i) => parse(d, 'identity', `identity policy ${i}`));
  if (p.boundary) set.boundary = parse(p.boundary, 'boundary', 'permissions boundary');
  if (p.session) set.session = p.session.map((d, i) => parse(d, 'session', `session policy ${i}`));
  if (p.scp) set.scp = p.scp.map((lvl, l) => lvl.map((d, i) => parse(d, 'scp', `SCP ${i} at level ${l}`)));
  if (p.rcp) set.rcp = p.rcp.map((lvl, l) => lvl.map((d, i) => parse(d, 'rcp', `RCP ${i} at level ${l}`)));
  if (p.resource) {
    const kind = p.resourceKind ?? 'trust';
    set.resource = parse(p.resource, kind, kind === 'trust' ? 'trust policy of role/r' : 'resource policy');
  }
  if (p.resourceAccount !== undefined) set.resourceAccount = p.resourceAccount;
  if (p.principalIsSession !== undefined) set.principalIsSession = p.principalIsSession;
  if (p.resourceMustAllow !== undefined) set.resourceMustAllow = p.resourceMustAllow;
  return set;
}

/** The documents of a case that must fail to parse, each with its kind. */
function documents(p: VectorPolicies, kind?: PolicyKind): [unknown, PolicyKind][] {
  const out: [unknown, PolicyKind][] = [];
  for (const d of p.identity ?? []) out.push([d, kind ?? 'identity']);
  if (p.boundary) out.push([p.boundary, 'boundary']);
  for (const d of p.session ?? []) out.push([d, 'session']);
  for (const d of (p.scp ?? []).flat()) out.push([d, 'scp']);
  for (const d of (p.rcp ?? []).flat()) out.push([d, 'rcp']);
  if (p.resource) out.push([p.resource, p.resourceKind ?? 'trust']);
  return out;
}

for (const { file, cases } of loadVectors()) {
  describe(file, () => {
    for (const c of cases) {
      test(c.name, () => {
        const expect = c.expect;
        if ('invalid' in expect) {
          const docs = documents(c.policies, expect.kind);
          assert.ok(docs.length > 0, 'an invalid case needs a document');
          for (const [doc, kind] of docs) {
            assert.throws(
              () => parse(doc, kind, 'invalid'),
              (err: unknown) => err instanceof PolicyValidationError && err.message.includes(expect.invalid),
              `expected a PolicyValidationError containing "${expect.invalid}" (${c.rule})`,
            );
          }
          return;
        }
        assert.ok(c.request, 'a request');
        const set = buildSet(c.policies);
        const d = evaluate(c.request, set);
        const why = `${c.rule}\n${explain(d)}`;
        assert.equal(d.effect, expect.effect, why);
        if (expect.layer !== undefined) assert.equal(d.layer, expect.layer, why);
        if (expect.reason !== undefined) assert.equal(d.reason, expect.reason, why);
        for (const text of c.explain ?? [])
          assert.ok(explain(d).includes(text), `explain lacks "${text}": ${explain(d)}`);
        if (c.lint !== undefined) {
          assert.ok(set.resource, 'a lint case needs a trust policy');
          const rules = [
            ...new Set(lintTrustPolicy(set.resource, c.issuers ?? [TERRAFORM]).map((f) => f.rule)),
          ].sort();
          assert.deepEqual(rules, [...c.lint].sort(), c.rule);
        }
      });
    }
  });
}
