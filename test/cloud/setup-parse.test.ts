// Setup files: what parses, and how every problem is reported (path and line, all at once).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseSetup, SetupError } from '../../src/cloud/setup/schema.js';

const ISSUER_ENV = {
  GATEPASS_ISSUER_URL: 'https://issuer.example.com',
  GATEPASS_ISSUER_HOST: 'issuer.example.com',
  GATEPASS_ISSUER_THUMBPRINT: 'a'.repeat(40),
};

function problems(text: string, env = {}): string[] {
  try {
    parseSetup(text, 'setup.yaml', env);
  } catch (err) {
    assert.ok(err instanceof SetupError, String(err));
    return err.lines();
  }
  assert.fail('expected a SetupError');
}

test('the hub-and-spoke example parses: four accounts, two OUs, one SCP, member roles from a YAML anchor', () => {
  const spec = parseSetup(
    readFileSync('examples/hub-and-spoke/setup.yaml', 'utf8'),
    'setup.yaml',
    ISSUER_ENV,
  );
  assert.deepEqual(
    spec.accounts.map((a) => a.name),
    ['management', 'hub', 'dev', 'prod'],
  );
  assert.deepEqual(
    spec.accounts[3]?.roles.map((r) => r.name),
    ['terraform-plan', 'terraform-apply'],
  );
  assert.equal(spec.organization?.policies[0]?.type, 'SERVICE_CONTROL_POLICY');
  const hub = spec.accounts[1];
  assert.equal(hub?.oidcProviders[0]?.url, 'https://issuer.example.com');
  assert.match(hub?.roles[0]?.trustPolicy ?? '', /issuer\.example\.com:sub/);
  assert.equal(JSON.parse(hub?.roles[0]?.trustPolicy ?? '{}').Statement[0].Sid, 'RunPhasePlan');
});

test('an unset environment placeholder is reported with its line', () => {
  assert.deepEqual(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: setup-file placeholder syntax, not a template.
    problems('accounts:\n  - name: a\n    oidcProviders:\n      - url: ${env:NOPE_NOT_SET}\n'),
    ['setup.yaml:4: (document): environment variable NOPE_NOT_SET is not set'],
  );
});

test('every bad field is reported at once with its path and line', () => {
  const text = [
    'accounts:',
    '  - name: Hub_Bad', // 2: bad name
    '    id: "123"', // 3: bad id
    '    colour: blue', // 4: unknown key
    '    roles:',
    '      - name: r',
    '        maxSessionDuration: 60', // 7: out of range
    '        trustPolicy: "{not json"', // 8: bad JSON
    '  - name: ok',
  ].join('\n');
  assert.deepEqual(problems(text), [
    'setup.yaml:4: accounts[0].colour: unknown key (expected one of name, id, alias, oidcGuardRail, oidcProviders, policies, roles, users)',
    'setup.yaml:2: accounts[0].name: must match lower-case letters, digits and dashes',
    'setup.yaml:3: accounts[0].id: must match 12 digits',
    'setup.yaml:8: accounts[0].roles[0].trustPolicy: is not valid JSON',
    'setup.yaml:7: accounts[0].roles[0].maxSessionDuration: must be an integer from 3600 to 43200',
  ]);
});

test('an unknown key whose value is a block is reported on the line of the key, not the next', () => {
  const text = [
    'accounts:',
    '  - name: hub',
    '    rolez:', // 3: the unknown key; its value starts on line 4
    '      - name: r',
    '    roles:',
    '      - name: ok',
    '        trustPolicy: {}',
    '        extra:', // 8: unknown key inside a role, block value below
    '          a: b',
  ].join('\n');
  assert.deepEqual(problems(text), [
    'setup.yaml:3: accounts[0].rolez: unknown key (expected one of name, id, alias, oidcGuardRail, oidcProviders, policies, roles, users)',
    'setup.yaml:8: accounts[0].roles[0].extra: unknown key (expected one of name, path, description, trustPolicy, maxSessionDuration, inlinePolicies, attachedPolicies, permissionsBoundary, tags)',
  ]);
});

test('references are checked: duplicate names, unknown OU accounts, unknown policy targets, missing management', () => {
  const text = [
    'organization:',
    '  management: nobody',
    '  units:',
    '    - name: w',
    '      accounts: [a, ghost]',
    '  policies:',
    '    - { name: p, type: scp, targets: [ou:missing], document: { Version: "2012-10-17", Statement: [] } }',
    'accounts:',
    '  - name: a',
    '    roles: [{ name: R, trustPolicy: {} }, { name: r, trustPolicy: {} }]',
    '  - name: a',
  ].join('\n');
  assert.deepEqual(problems(text), [
    'setup.yaml:10: accounts[0].roles[1].name: duplicate role name r',
    'setup.yaml:11: accounts[1].name: duplicate account name a',
    'setup.yaml:2: organization.management: no account named nobody',
    'setup.yaml:5: organization.units[0].accounts[1]: no account named ghost',
    'setup.yaml:7: organization.policies[0].targets[0]: unknown target ou:missing (root, ou:<name> or an account name)',
  ]);
});

test('one account id under two account names is a problem at its line, not a store conflict at apply', () => {
  const text = [
    'accounts:',
    '  - name: hub',
    '    id: "111111111111"',
    '  - name: spoke',
    '    id: "111111111111"',
  ].join('\n');
  assert.deepEqual(problems(text), [
    "setup.yaml:5: accounts[1].id: account id 111111111111 is already account hub's",
  ]);
});

test('YAML syntax errors and duplicate keys are reported with their line; an empty file needs accounts', () => {
  assert.match(
    problems('accounts:\n  - name: a\n  - name: [\n')[0] ?? '',
    /^setup\.yaml:\d+: \(document\): /,
  );
  assert.match(
    problems('accounts: []\naccounts: []\n')[0] ?? '',
    /^setup\.yaml:2: \(document\): .*[Mm]ap keys must be unique/,
  );
  assert.deepEqual(problems('accounts: []\n'), ['setup.yaml:1: accounts: at least one account is required']);
});
