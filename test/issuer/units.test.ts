import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  buildClaims,
  checkSubTemplate,
  HCP_SUB_TEMPLATE,
  ID_SUB_TEMPLATE,
  renderSub,
  type TokenSubject,
} from '../../src/issuer/claims.js';
import { cacheSeconds, discoveryDocument } from '../../src/issuer/discovery.js';
import { IssuerError } from '../../src/issuer/errors.js';
import { checkConfigTag, checkName, NAME_RULES } from '../../src/issuer/names.js';
import { hashesEqual, hashSecret } from '../../src/issuer/secrets.js';
import { resolveConfigVar } from '../../src/issuer/variables.js';
import { ConfigError } from '../../src/server/config.js';
import { loadMasterKey } from '../../src/server/master-key.js';
import { tempDir } from '../helpers/temp.js';

const subject: TokenSubject = {
  organization: { id: 'org-GRNbCjYNpBB6NEH9', name: 'my-org' },
  project: { id: 'prj-vegSA59s1XPwMr2t', name: 'Default Project' },
  workspace: { id: 'ws-mbsd5E3Ktt5Rg2Xm', name: 'my-workspace' },
  runId: 'run-X3n1AUXNGWbfECsJ',
  phase: 'apply',
};

test('the default sub is exactly HCP Terraform format, by names', () => {
  assert.equal(
    renderSub(undefined, subject),
    'organization:my-org:project:Default Project:workspace:my-workspace:run_phase:apply',
  );
  assert.equal(renderSub(HCP_SUB_TEMPLATE, subject), renderSub(undefined, subject));
  assert.equal(
    renderSub(ID_SUB_TEMPLATE, subject),
    'organization:org-GRNbCjYNpBB6NEH9:project:prj-vegSA59s1XPwMr2t:workspace:ws-mbsd5E3Ktt5Rg2Xm:run_phase:apply',
  );
});

test('sub templates must use known placeholders, plain characters and anchor the organization', () => {
  assert.equal(checkSubTemplate('t', ID_SUB_TEMPLATE), ID_SUB_TEMPLATE);
  for (const [bad, reason] of [
    ['workspace:{workspace}', /organization/],
    ['organization:{organization}:{run_id}', /unknown placeholder/],
    ['organization:{organization}:*', /may contain only/],
    ['', /non-empty/],
  ] as const) {
    assert.throws(
      () => checkSubTemplate('t', bad),
      (err: unknown) => err instanceof IssuerError && err.field === 't' && reason.test(err.reason ?? ''),
    );
  }
});

test('claims match the HCP documented example shape; extras appear only when opted in', () => {
  const base = {
    ...subject,
    issuer: 'https://app.example.com',
    audience: 'my-example-audience',
    jti: '1192426d-b525-4fde-9d42-f238be437bbd',
    iat: 1650486122,
    exp: 1650486422,
  };
  const claims = buildClaims({ ...base, options: {} });
  assert.deepEqual(Object.keys(claims), [
    'jti',
    'iss',
    'aud',
    'iat',
    'nbf',
    'exp',
    'sub',
    'terraform_organization_id',
    'terraform_organization_name',
    'terraform_project_id',
    'terraform_project_name',
    'terraform_workspace_id',
    'terraform_workspace_name',
    'terraform_full_workspace',
    'terraform_run_id',
    'terraform_run_phase',
  ]);
  assert.equal(
    claims.terraform_full_workspace,
    'organization:my-org:project:Default Project:workspace:my-workspace',
  );
  assert.ok((claims.nbf as number) <= (claims.iat as number));
  const extra = buildClaims({ ...base, options: { sourceIdentity: true, sessionTags: true } });
  assert.equal(extra['https://aws.amazon.com/source_identity'], 'run-X3n1AUXNGWbfECsJ');
  assert.ok(extra['https://aws.amazon.com/tags']);
});

test('names reject colons, oversize and empty values; configuration tags follow HCP rules', () => {
  assert.equal(checkName('name', 'Default Project', NAME_RULES.project), 'Default Project');
  assert.throws(() => checkName('name', 'a:b', NAME_RULES.workspace), /invalid/);
  assert.throws(() => checkName('name', ' lead', NAME_RULES.project), /invalid/);
  assert.throws(() => checkName('name', 'x'.repeat(91), NAME_RULES.workspace), /invalid/);
  assert.throws(() => checkName('name', '', NAME_RULES.organization), /invalid/);
  assert.equal(checkConfigTag('tag', undefined), '');
  assert.equal(checkConfigTag('tag', 'ALIAS_1'), 'ALIAS_1');
  for (const bad of ['a-b', 'TYPE', 'type', 'x'.repeat(65), 7])
    assert.throws(() => checkConfigTag('tag', bad));
});

test('configuration values resolve TFC_<NAME>_<TAG>, else TFC_<NAME>, else TFC_DEFAULT_<NAME>', () => {
  const vars = new Map(
    Object.entries({
      TFC_AWS_RUN_ROLE_ARN: { value: 'default-role' },
      TFC_AWS_RUN_ROLE_ARN_PROD: { value: 'prod-role' },
      TFC_DEFAULT_AWS_RUN_ROLE_ARN: { value: 'set-role' },
    }),
  );
  assert.equal(resolveConfigVar(vars, 'AWS_RUN_ROLE_ARN', ''), 'default-role');
  assert.equal(resolveConfigVar(vars, 'AWS_RUN_ROLE_ARN', 'PROD'), 'prod-role');
  assert.equal(resolveConfigVar(vars, 'AWS_RUN_ROLE_ARN', 'DEV'), 'set-role');
  assert.equal(resolveConfigVar(vars, 'AWS_PLAN_ROLE_ARN', ''), undefined);
});

test('discovery names the issuer without a trailing slash and caches well inside publish-ahead', () => {
  const doc = discoveryDocument('https://id.example.com/acme/', ['RS256', 'ES256', 'RS256']);
  assert.equal(doc.issuer, 'https://id.example.com/acme');
  assert.equal(doc.jwks_uri, 'https://id.example.com/acme/.well-known/jwks');
  assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256', 'RS256']);
  assert.equal(cacheSeconds(3_600_000), 300);
  assert.equal(cacheSeconds(60_000), 15);
});

test('secret hashes compare in constant time and only equal hashes match', () => {
  assert.ok(hashesEqual(hashSecret('a'), hashSecret('a')));
  assert.ok(!hashesEqual(hashSecret('a'), hashSecret('b')));
  assert.ok(!hashesEqual('', ''));
});

test('the master key comes from GATEPASS_MASTER_KEY, else a 0600 file generated once', async () => {
  const dir = await tempDir('gatepass-mk-');
  const fromEnv = loadMasterKey({
    dataDir: dir,
    env: { GATEPASS_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') },
  });
  assert.deepEqual(Buffer.from(fromEnv), Buffer.alloc(32, 9));
  assert.throws(
    () => loadMasterKey({ dataDir: dir, env: { GATEPASS_MASTER_KEY: 'c2hvcnQ=' } }),
    (err: unknown) => err instanceof ConfigError && !String(err.message).includes('c2hvcnQ='),
  );
  const first = loadMasterKey({ dataDir: dir, env: {} });
  assert.equal(first.length, 32);
  const path = join(dir, 'master.key');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(loadMasterKey({ dataDir: dir, env: {} }), first);
  chmodSync(path, 0o644);
  loadMasterKey({ dataDir: dir, env: {} });
  assert.equal(statSync(path).mode & 0o777, 0o600, 'a readable key file is tightened');
  const custom = join(dir, 'custom.key');
  writeFileSync(custom, Buffer.alloc(32, 1).toString('base64'), { mode: 0o600 });
  assert.deepEqual(
    Buffer.from(loadMasterKey({ dataDir: dir, masterKeyFile: custom, env: {} })),
    Buffer.alloc(32, 1),
  );
  assert.match(await readFile(path, 'utf8'), /^[A-Za-z0-9+/]{43}=\n$/);
});
