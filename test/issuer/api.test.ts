import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { plainVerify } from './helpers.js';
import { at, startTestServer, str, T0, type TestServer } from './server.js';

async function withServer(
  fn: (s: TestServer) => Promise<void>,
  flags: Record<string, unknown> = {},
): Promise<void> {
  const s = await startTestServer(flags);
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

/** An organization, a workspace in its Default Project and an agent token for it. */
async function setup(s: TestServer, org = 'acme', ws = 'networking', wsBody: Record<string, unknown> = {}) {
  const o = await s.call('POST', '/api/v1/orgs', { body: { name: org } });
  assert.equal(o.status, 201);
  const w = await s.call('POST', `/api/v1/orgs/${org}/workspaces`, { body: { name: ws, ...wsBody } });
  assert.equal(w.status, 201, JSON.stringify(w.json));
  const t = await s.call('POST', `/api/v1/orgs/${org}/agent-tokens`, { body: { description: 'ci' } });
  assert.equal(t.status, 201);
  return {
    orgId: str(o.json, 'organization', 'id'),
    projectId: str(o.json, 'project', 'id'),
    wsId: str(w.json, 'id'),
    agent: str(t.json, 'token'),
    agentId: str(t.json, 'agentToken', 'id'),
  };
}

async function mintCount(s: TestServer): Promise<number> {
  return s.app.store.count('mint');
}

test('first start writes the admin token and master key 0600; a restart keeps the same token', async () => {
  const s = await startTestServer();
  const dir = s.dataDir;
  try {
    assert.match(s.adminToken, /^gpadm_[A-Za-z0-9_-]{43}$/);
    assert.equal(statSync(join(dir, 'admin-token')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
    assert.ok(!s.logText().includes(s.adminToken), 'the admin token never reaches the log');
    const [rec] = await s.app.store.list('adminToken');
    assert.ok(rec && !JSON.stringify(rec).includes(s.adminToken), 'only the hash is stored');
  } finally {
    await s.stop();
  }
  const again = await startTestServer({}, dir);
  try {
    assert.equal(again.adminToken, s.adminToken);
    assert.equal((await again.call('GET', '/api/v1/orgs')).status, 200);
    assert.equal(await again.app.store.count('adminToken'), 1);
    assert.equal(await again.app.store.count('signingKey'), 1, 'the keyring survives a restart');
  } finally {
    await again.stop();
  }
});

test('API calls need a valid bearer token, and agent tokens cannot administer', async () => {
  await withServer(async (s) => {
    const none = await s.call('GET', '/api/v1/orgs', { token: '' });
    assert.equal(none.status, 401);
    assert.equal(at(none.json, 'error', 'code'), 'unauthorized');
    assert.equal((await s.call('GET', '/api/v1/orgs', { token: `gpadm_${'x'.repeat(43)}` })).status, 401);
    const { agent } = await setup(s);
    const forbidden = await s.call('GET', '/api/v1/orgs', { token: agent });
    assert.equal(forbidden.status, 403);
    assert.equal((await s.call('GET', '/api/v1/nowhere')).status, 404);
    assert.equal((await s.call('PUT', '/api/v1/orgs')).status, 405);
  });
});

test('an organization gets a Default Project; ids are immutable while names change', async () => {
  await withServer(async (s) => {
    const { orgId, projectId, wsId } = await setup(s);
    const projects = await s.call('GET', '/api/v1/orgs/acme/projects');
    assert.deepEqual(at(projects.json, 'items', 0, 'name'), 'Default Project');
    assert.match(orgId, /^org-[A-Za-z0-9]{16}$/);
    assert.match(projectId, /^prj-[A-Za-z0-9]{16}$/);
    assert.match(wsId, /^ws-[A-Za-z0-9]{16}$/);
    const renamed = await s.call('PATCH', `/api/v1/orgs/${orgId}`, { body: { name: 'acme-corp' } });
    assert.equal(renamed.status, 200);
    assert.equal(str(renamed.json, 'id'), orgId);
    assert.equal(str((await s.call('GET', '/api/v1/orgs/acme-corp')).json, 'id'), orgId);
    const dup = await s.call('POST', '/api/v1/orgs', { body: { name: 'ACME-corp' } });
    assert.equal(dup.status, 409);
    assert.equal(at(dup.json, 'error', 'field'), 'name');
  });
});

test('sensitive variable values are write-only: never returned by any endpoint', async () => {
  await withServer(async (s) => {
    const { wsId, agent } = await setup(s);
    const secret = 'do-not-return-this-value';
    const created = await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, {
      body: { key: 'DB_PASSWORD', value: secret, sensitive: true },
    });
    assert.equal(created.status, 201);
    assert.equal(at(created.json, 'value'), null);
    await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, {
      body: { key: 'TFC_AWS_PROVIDER_AUTH', value: 'true' },
    });
    const list = await s.call('GET', `/api/v1/workspaces/${wsId}/vars`);
    assert.ok(!JSON.stringify(list.json).includes(secret));
    const items = at(list.json, 'items') as { key: string; value: unknown }[];
    assert.equal(items.find((v) => v.key === 'TFC_AWS_PROVIDER_AUTH')?.value, 'true');
    const run = await s.call('POST', '/api/v1/runs', { token: agent, body: { workspace: 'networking' } });
    const vars = await s.call('GET', `/api/v1/runs/${str(run.json, 'id')}/variables`, { token: agent });
    assert.equal(vars.status, 200);
    assert.ok(!JSON.stringify(vars.json).includes(secret));
    const unmark = await s.call('PATCH', `/api/v1/vars/${str(created.json, 'id')}`, {
      body: { sensitive: false },
    });
    assert.equal(unmark.status, 400);
    assert.equal(at(unmark.json, 'error', 'field'), 'sensitive');
  });
});

test('a run mints an HCP-shaped token that verifies against the served JWKS with jose and node:crypto', async () => {
  await withServer(async (s) => {
    const { orgId, projectId, wsId, agent } = await setup(s);
    const run = await s.call('POST', '/api/v1/runs', {
      token: agent,
      body: { workspace: 'networking', phase: 'plan' },
    });
    assert.equal(run.status, 201);
    const runId = str(run.json, 'id');
    assert.match(runId, /^run-/);
    const minted = await s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: {} });
    assert.equal(minted.status, 201, JSON.stringify(minted.json));
    const token = str(minted.json, 'token');

    const discovery = await s.call('GET', '/.well-known/openid-configuration', { token: '' });
    assert.equal(discovery.status, 200);
    assert.match(String(discovery.headers['cache-control']), /^public, max-age=\d+$/);
    assert.equal(at(discovery.json, 'issuer'), s.url);
    assert.equal(at(discovery.json, 'jwks_uri'), `${s.url}/.well-known/jwks`);
    assert.deepEqual(at(discovery.json, 'id_token_signing_alg_values_supported'), ['RS256']);
    assert.deepEqual(at(discovery.json, 'response_types_supported'), ['id_token']);
    assert.deepEqual(at(discovery.json, 'subject_types_supported'), ['public']);
    assert.ok((at(discovery.json, 'claims_supported') as string[]).includes('terraform_run_phase'));

    const { payload, protectedHeader } = await jwtVerify(
      token,
      createRemoteJWKSet(new URL(str(discovery.json, 'jwks_uri'))),
      { currentDate: new Date(T0), issuer: s.url, audience: 'aws.workload.identity' },
    );
    assert.equal(protectedHeader.typ, 'JWT');
    assert.equal(protectedHeader.alg, 'RS256');
    const jwks = await s.call('GET', '/.well-known/jwks', { token: '' });
    const plain = plainVerify(token, at(jwks.json, 'keys') as Record<string, unknown>[]);
    assert.deepEqual(plain.payload, payload);
    const iat = Math.floor(T0 / 1000);
    assert.deepEqual(payload, {
      jti: str(minted.json, 'jti'),
      iss: s.url,
      aud: 'aws.workload.identity',
      iat,
      nbf: iat,
      exp: iat + 7200,
      sub: 'organization:acme:project:Default Project:workspace:networking:run_phase:plan',
      terraform_organization_id: orgId,
      terraform_organization_name: 'acme',
      terraform_project_id: projectId,
      terraform_project_name: 'Default Project',
      terraform_workspace_id: wsId,
      terraform_workspace_name: 'networking',
      terraform_full_workspace: 'organization:acme:project:Default Project:workspace:networking',
      terraform_run_id: runId,
      terraform_run_phase: 'plan',
    });
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);

    const records = await s.call('GET', `/api/v1/runs/${runId}/tokens`, { token: agent });
    assert.equal(at(records.json, 'items', 0, 'id'), payload.jti);
    assert.equal(at(records.json, 'items', 0, 'exp'), iat + 7200);
    assert.equal(at(records.json, 'items', 0, 'tag'), '');
    assert.ok(!JSON.stringify(records.json).includes(token), 'mint records never hold the token');
    assert.ok(!s.logText().includes(token), 'tokens never reach the log');
  });
});

test('apply tokens expire at the apply deadline, capped by the organization maximum', async () => {
  await withServer(async (s) => {
    const { agent, orgId } = await setup(s, 'acme', 'app', { applyTimeoutSeconds: 50_000 });
    const iat = Math.floor(T0 / 1000);
    const open = async () => {
      const run = await s.call('POST', '/api/v1/runs', {
        token: agent,
        body: { workspace: 'app', phase: 'apply' },
      });
      return str(run.json, 'id');
    };
    const first = await s.call('POST', `/api/v1/runs/${await open()}/tokens`, { token: agent, body: {} });
    assert.equal(decodeJwt(str(first.json, 'token')).exp, iat + 50_000);
    await s.call('PATCH', `/api/v1/orgs/${orgId}`, { body: { maxPhaseTimeoutSeconds: 3600 } });
    const capped = await s.call('POST', `/api/v1/runs/${await open()}/tokens`, { token: agent, body: {} });
    assert.equal(decodeJwt(str(capped.json, 'token')).exp, iat + 3600);
    assert.equal(
      decodeJwt(str(capped.json, 'token')).sub,
      'organization:acme:project:Default Project:workspace:app:run_phase:apply',
    );
  });
});

test('opt-in claims: ID-based sub template, AWS session tags and source identity', async () => {
  await withServer(async (s) => {
    const { orgId, projectId, wsId, agent } = await setup(s, 'acme', 'net', {
      tokenOptions: {
        subTemplate:
          'organization:{organization_id}:project:{project_id}:workspace:{workspace_id}:run_phase:{run_phase}',
        sessionTags: true,
        sourceIdentity: true,
      },
    });
    const run = await s.call('POST', '/api/v1/runs', {
      token: agent,
      body: { workspace: wsId, phase: 'plan' },
    });
    const minted = await s.call('POST', `/api/v1/runs/${str(run.json, 'id')}/tokens`, {
      token: agent,
      body: {},
    });
    const claims = decodeJwt(str(minted.json, 'token'));
    assert.equal(claims.sub, `organization:${orgId}:project:${projectId}:workspace:${wsId}:run_phase:plan`);
    assert.equal(claims['https://aws.amazon.com/source_identity'], str(run.json, 'id'));
    assert.deepEqual(claims['https://aws.amazon.com/tags'], {
      principal_tags: {
        terraform_organization: ['acme'],
        terraform_project: ['Default Project'],
        terraform_workspace: ['net'],
        terraform_run_phase: ['plan'],
      },
      transitive_tag_keys: [
        'terraform_organization',
        'terraform_project',
        'terraform_workspace',
        'terraform_run_phase',
      ],
    });
    const bad = await s.call('POST', '/api/v1/orgs/acme/workspaces', {
      body: { name: 'loose', tokenOptions: { subTemplate: 'workspace:{workspace}' } },
    });
    assert.equal(bad.status, 400);
    assert.equal(at(bad.json, 'error', 'field'), 'tokenOptions.subTemplate');
  });
});

test('organization token options apply to every workspace; a workspace overrides them field by field', async () => {
  await withServer(async (s) => {
    const { orgId, agent } = await setup(s, 'acme', 'inherits');
    const patched = await s.call('PATCH', `/api/v1/orgs/${orgId}`, {
      body: {
        tokenOptions: {
          subTemplate: 'organization:{organization_id}:workspace:{workspace_id}',
          sourceIdentity: true,
        },
      },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.json));
    const own = await s.call('POST', '/api/v1/orgs/acme/workspaces', {
      body: { name: 'overrides', tokenOptions: { sourceIdentity: false, sessionTags: true } },
    });
    assert.equal(own.status, 201, JSON.stringify(own.json));
    const mint = async (workspace: string) => {
      const run = await s.call('POST', '/api/v1/runs', { token: agent, body: { workspace, phase: 'plan' } });
      const minted = await s.call('POST', `/api/v1/runs/${str(run.json, 'id')}/tokens`, {
        token: agent,
        body: {},
      });
      return { runId: str(run.json, 'id'), claims: decodeJwt(str(minted.json, 'token')) };
    };
    const inherited = await mint('inherits');
    assert.match(String(inherited.claims.sub), new RegExp(`^organization:${orgId}:workspace:ws-\\w+$`));
    assert.equal(inherited.claims['https://aws.amazon.com/source_identity'], inherited.runId);
    assert.equal(inherited.claims['https://aws.amazon.com/tags'], undefined);
    const overridden = await mint('overrides');
    assert.equal(overridden.claims.sub, `organization:${orgId}:workspace:${str(own.json, 'id')}`);
    assert.equal(overridden.claims['https://aws.amazon.com/source_identity'], undefined);
    assert.ok(overridden.claims['https://aws.amazon.com/tags'], 'session tags opted in by the workspace');
  });
});

test('audiences come from TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE[_TAG], then a variable set TFC_DEFAULT_ form', async () => {
  await withServer(async (s) => {
    const { wsId, agent } = await setup(s);
    const set = await s.call('POST', '/api/v1/orgs/acme/varsets', {
      body: { name: 'aws defaults', global: true },
    });
    await s.call('POST', `/api/v1/varsets/${str(set.json, 'id')}/vars`, {
      body: { key: 'TFC_DEFAULT_AWS_WORKLOAD_IDENTITY_AUDIENCE', value: 'org.default.aud' },
    });
    await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, {
      body: { key: 'TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE_PROD', value: 'prod.aud' },
    });
    const run = await s.call('POST', '/api/v1/runs', {
      token: agent,
      body: { workspace: 'networking', phase: 'plan' },
    });
    const runId = str(run.json, 'id');
    const mint = async (body: Record<string, unknown>) =>
      decodeJwt(
        str((await s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body })).json, 'token'),
      ).aud;
    assert.equal(await mint({}), 'org.default.aud');
    assert.equal(await mint({ tag: 'PROD' }), 'prod.aud');
    assert.equal(await mint({ tag: 'STAGING' }), 'org.default.aud');
    const tags = (await s.call('GET', `/api/v1/runs/${runId}/tokens`, { token: agent })).json;
    assert.deepEqual(
      (at(tags, 'items') as { tag: string; aud: string }[]).map((m) => [m.tag, m.aud]).sort(),
      [
        ['', 'org.default.aud'],
        ['PROD', 'prod.aud'],
        ['STAGING', 'org.default.aud'],
      ],
    );
  });
});

test('bad input gets a clear error naming the field, and mints nothing', async () => {
  await withServer(async (s) => {
    const { agent, wsId } = await setup(s);
    const other = await setup(s, 'globex', 'web');
    const run = await s.call('POST', '/api/v1/runs', {
      token: agent,
      body: { workspace: 'networking', phase: 'plan' },
    });
    const runId = str(run.json, 'id');
    const before = await mintCount(s);
    const cases: Array<[string, Promise<{ status: number; json: unknown }>, number, string, string?]> = [
      [
        'unknown workspace',
        s.call('POST', '/api/v1/runs', { token: agent, body: { workspace: 'nope', phase: 'plan' } }),
        400,
        'invalid_field',
        'workspace',
      ],
      [
        'workspace of another org',
        s.call('POST', '/api/v1/runs', { token: agent, body: { workspace: 'web' } }),
        400,
        'invalid_field',
        'workspace',
      ],
      [
        'agent token of another org',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: other.agent, body: {} }),
        403,
        'forbidden',
        'run',
      ],
      [
        'bad tag name',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: { tag: 'PROD-1' } }),
        400,
        'invalid_field',
        'tag',
      ],
      [
        'reserved tag',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: { tag: 'TYPE' } }),
        400,
        'invalid_field',
        'tag',
      ],
      [
        'bad audience',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: { audience: 'a b' } }),
        400,
        'invalid_field',
        'audience',
      ],
      [
        'unknown field',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: { ttl: 5 } }),
        400,
        'invalid_field',
        'ttl',
      ],
      [
        'phase not open',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: { phase: 'apply' } }),
        409,
        'phase_not_open',
        'phase',
      ],
      [
        'bad phase',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: { phase: 'destroy' } }),
        400,
        'invalid_field',
        'phase',
      ],
      [
        'not JSON',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, raw: '{"tag":' }),
        400,
        'bad_request',
      ],
      [
        'JSON array',
        s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, raw: '[]' }),
        400,
        'bad_request',
      ],
      [
        'unknown run',
        s.call('POST', '/api/v1/runs/run-AAAAAAAAAAAAAAAA/tokens', { token: agent, body: {} }),
        404,
        'not_found',
        'run',
      ],
      [
        'oversized workspace name',
        s.call('POST', '/api/v1/orgs/acme/workspaces', { body: { name: 'w'.repeat(91) } }),
        400,
        'invalid_field',
        'name',
      ],
      [
        'oversized org name',
        s.call('POST', '/api/v1/orgs', { body: { name: 'o'.repeat(41) } }),
        400,
        'invalid_field',
        'name',
      ],
      [
        'colon in a name',
        s.call('POST', '/api/v1/orgs/acme/projects', { body: { name: 'a:b' } }),
        400,
        'invalid_field',
        'name',
      ],
      [
        'bad variable key',
        s.call('POST', `/api/v1/workspaces/${wsId}/vars`, { body: { key: '1X', value: 'v' } }),
        400,
        'invalid_field',
        'key',
      ],
      [
        'bad timeout',
        s.call('POST', '/api/v1/orgs/acme/workspaces', { body: { name: 'x', planTimeoutSeconds: 5 } }),
        400,
        'invalid_field',
        'planTimeoutSeconds',
      ],
    ];
    for (const [name, pending, status, code, field] of cases) {
      const r = await pending;
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
      assert.equal(at(r.json, 'error', 'code'), code, name);
      if (field !== undefined) assert.equal(at(r.json, 'error', 'field'), field, name);
    }
    // A sub that AWS could not return (over 255 characters) is refused when the names are set.
    await s.call('POST', '/api/v1/orgs', { body: { name: 'o'.repeat(40) } });
    await s.call('POST', `/api/v1/orgs/${'o'.repeat(40)}/projects`, { body: { name: 'p'.repeat(40) } });
    const long = await s.call('POST', `/api/v1/orgs/${'o'.repeat(40)}/workspaces`, {
      body: {
        name: 'w'.repeat(90),
        project: 'p'.repeat(40),
        tokenOptions: {
          subTemplate:
            'organization:{organization}:{organization}:{organization}:{project}:{workspace}:{run_phase}',
        },
      },
    });
    assert.equal(long.status, 400);
    assert.equal(at(long.json, 'error', 'field'), 'sub');
    assert.equal(await mintCount(s), before, 'nothing was minted');
  });
});

test('finished, cancelled and expired phases mint nothing; a revoked agent token stops working', async () => {
  await withServer(async (s) => {
    const { agent, agentId } = await setup(s);
    const open = async (phase: string) =>
      str(
        (await s.call('POST', '/api/v1/runs', { token: agent, body: { workspace: 'networking', phase } }))
          .json,
        'id',
      );
    const mint = (runId: string) =>
      s.call('POST', `/api/v1/runs/${runId}/tokens`, { token: agent, body: {} });

    const finished = await open('plan');
    assert.equal(
      (
        await s.call('POST', `/api/v1/runs/${finished}/phases/plan/finish`, {
          token: agent,
          body: { status: 'failed' },
        })
      ).status,
      200,
    );
    const r1 = await mint(finished);
    assert.equal(r1.status, 409);
    assert.equal(at(r1.json, 'error', 'code'), 'run_closed');

    const cancelled = await open('apply');
    assert.equal(
      at((await s.call('POST', `/api/v1/runs/${cancelled}/cancel`, { token: agent })).json, 'status'),
      'cancelled',
    );
    assert.equal(at((await mint(cancelled)).json, 'error', 'code'), 'run_closed');
    assert.equal(
      (await s.call('POST', `/api/v1/runs/${cancelled}/phases/apply/start`, { token: agent })).status,
      409,
    );

    const expiring = await open('plan');
    s.clock.advance(7200 * 1000);
    assert.equal(at((await mint(expiring)).json, 'error', 'code'), 'phase_not_open');

    const sequence = await open('plan');
    await s.call('POST', `/api/v1/runs/${sequence}/phases/plan/finish`, {
      token: agent,
      body: { status: 'succeeded' },
    });
    assert.equal(at((await mint(sequence)).json, 'error', 'code'), 'phase_not_open');
    assert.equal(
      (await s.call('POST', `/api/v1/runs/${sequence}/phases/apply/start`, { token: agent })).status,
      200,
    );
    assert.equal((await mint(sequence)).status, 201);
    const count = await mintCount(s);
    assert.equal(count, 1);

    assert.equal((await s.call('DELETE', `/api/v1/agent-tokens/${agentId}`)).status, 200);
    assert.equal((await mint(sequence)).status, 401);
    assert.equal(await mintCount(s), count);
  });
});

test('an agent token with a workspace allowlist opens runs only there', async () => {
  await withServer(async (s) => {
    await setup(s);
    await s.call('POST', '/api/v1/orgs/acme/workspaces', { body: { name: 'other' } });
    const t = await s.call('POST', '/api/v1/orgs/acme/agent-tokens', { body: { workspaces: ['other'] } });
    const token = str(t.json, 'token');
    const denied = await s.call('POST', '/api/v1/runs', { token, body: { workspace: 'networking' } });
    assert.equal(denied.status, 403);
    assert.equal((await s.call('POST', '/api/v1/runs', { token, body: { workspace: 'other' } })).status, 201);
    const listed = await s.call('GET', '/api/v1/orgs/acme/agent-tokens');
    assert.ok(!JSON.stringify(listed.json).includes(token), 'agent token secrets are never listed');
    assert.equal(at(listed.json, 'items', 0, 'hash'), undefined);
  });
});

test('keys rotate and trim through the API; the JWKS publishes the pending key ahead of use', async () => {
  await withServer(
    async (s) => {
      const { agent } = await setup(s);
      const before = (await s.call('GET', '/api/v1/keys')).json;
      const oldKid = str(before, 'items', 0, 'kid');
      const rotated = await s.call('POST', '/api/v1/keys/rotate', { body: {} });
      assert.equal(rotated.status, 201);
      assert.equal(at(rotated.json, 'state'), 'pending');
      assert.equal(at(rotated.json, 'alg'), 'ES256');
      const jwks = (await s.call('GET', '/.well-known/jwks', { token: '' })).json;
      assert.deepEqual(
        (at(jwks, 'keys') as { kid: string }[]).map((k) => k.kid),
        [oldKid, str(rotated.json, 'kid')],
      );
      const run = str(
        (
          await s.call('POST', '/api/v1/runs', {
            token: agent,
            body: { workspace: 'networking', phase: 'plan' },
          })
        ).json,
        'id',
      );
      const early = await s.call('POST', `/api/v1/runs/${run}/tokens`, { token: agent, body: {} });
      assert.equal(at(early.json, 'kid'), oldKid);
      s.clock.advance(600_000);
      const late = await s.call('POST', `/api/v1/runs/${run}/tokens`, { token: agent, body: {} });
      assert.equal(at(late.json, 'kid'), str(rotated.json, 'kid'));
      const keys = at((await s.call('GET', '/.well-known/jwks', { token: '' })).json, 'keys') as Record<
        string,
        unknown
      >[];
      plainVerify(str(early.json, 'token'), keys);
      await jwtVerify(str(late.json, 'token'), createLocalJWKSet({ keys }), {
        currentDate: new Date(s.clock.now()),
      });
      const trim = await s.call('POST', '/api/v1/keys/trim', { body: {} });
      assert.deepEqual(at(trim.json, 'removed'), [], 'the old key still covers a valid token');
      s.clock.advance(7200 * 1000);
      assert.deepEqual(at((await s.call('POST', '/api/v1/keys/trim', { body: {} })).json, 'removed'), [
        oldKid,
      ]);
    },
    { keyAlg: 'ES256', keyPublishAheadSeconds: 600 },
  );
});

test('an issuer URL with a path serves discovery under that path, without a trailing slash', async () => {
  await withServer(
    async (s) => {
      const d = await s.call('GET', '/acme/.well-known/openid-configuration', { token: '' });
      assert.equal(d.status, 200);
      assert.equal(at(d.json, 'issuer'), 'https://id.example.com/acme');
      assert.equal(at(d.json, 'jwks_uri'), 'https://id.example.com/acme/.well-known/jwks');
      assert.equal((await s.call('GET', '/acme/.well-known/jwks', { token: '' })).status, 200);
      const master = await readFile(join(s.dataDir, 'master.key'), 'utf8');
      assert.equal(Buffer.from(master.trim(), 'base64').length, 32);
    },
    { issuerUrl: 'https://id.example.com/acme/' },
  );
});

test("a phase's finish carries the agent's revocation report onto the audit record; a malformed report is refused and changes nothing", async () => {
  await withServer(async (s) => {
    const { agent } = await setup(s);
    const run = str(
      (
        await s.call('POST', '/api/v1/runs', {
          token: agent,
          body: { workspace: 'networking', phase: 'plan' },
        })
      ).json,
      'id',
    );
    const finish = (body: Record<string, unknown>) =>
      s.call('POST', `/api/v1/runs/${run}/phases/plan/finish`, { token: agent, body });
    for (const [revocation, field] of [
      [{ method: 'Magic', detail: '' }, 'revocation.method'],
      [{ method: 'none', detail: 'x'.repeat(1001) }, 'revocation.detail'],
      [{ method: 'none', detail: 'x', token: 'eyJ' }, 'revocation.token'],
      ['DenyList', 'revocation'],
    ] as const) {
      const bad = await finish({ status: 'succeeded', revocation });
      assert.equal(bad.status, 400, JSON.stringify(bad.json));
      assert.equal(at(bad.json, 'error', 'field'), field);
    }
    assert.equal(
      (await s.app.store.queryAudit({ runId: run, action: 'gatepass:ReportRevocation' })).length,
      0,
    );
    const ok = await finish({
      status: 'succeeded',
      revocation: { method: 'none', detail: 'the workspace names no deny list' },
    });
    assert.equal(ok.status, 200);
    const [event] = await s.app.store.queryAudit({ runId: run, action: 'gatepass:ReportRevocation' });
    assert.deepEqual(event?.detail, {
      phase: 'plan',
      method: 'none',
      detail: 'the workspace names no deny list',
    });
  });
});

test("a phase starts with the agent's lease and the workspace's variables in one request; its fields are checked and a refused start changes nothing", async () => {
  await withServer(async (s) => {
    const { agent, wsId } = await setup(s);
    const secret = 'never-in-a-run-start';
    await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, { body: { key: 'REGION', value: 'eu-west-1' } });
    await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, {
      body: { key: 'DB_PASSWORD', value: secret, sensitive: true },
    });
    const open = await s.call('POST', '/api/v1/runs', {
      token: agent,
      body: { workspace: 'networking', phase: 'plan', lease: true, include: ['variables'] },
    });
    assert.equal(open.status, 201, JSON.stringify(open.json));
    const runId = str(open.json, 'id');
    const leaseSeconds = at(open.json, 'lease', 'leaseSeconds') as number;
    assert.ok(leaseSeconds > 0);
    assert.equal(at(open.json, 'lease', 'expiresAt'), T0 + leaseSeconds * 1000);
    assert.equal(at(open.json, 'lease', 'renewEveryMs'), Math.floor((leaseSeconds * 1000) / 3));
    // The lease is in the stored run itself (the reaper's index), written with the start.
    assert.equal((await s.app.store.get('run', runId))?.phases.plan.leaseExpiresAt, T0 + leaseSeconds * 1000);
    const vars = at(open.json, 'variables') as { key: string; value: unknown }[];
    assert.equal(vars.find((v) => v.key === 'REGION')?.value, 'eu-west-1');
    assert.equal(vars.find((v) => v.key === 'DB_PASSWORD')?.value, null);
    assert.ok(!JSON.stringify(open.json).includes(secret));

    // Joining the run for its apply: the same, through the phase's start.
    await s.call('POST', `/api/v1/runs/${runId}/phases/plan/finish`, {
      token: agent,
      body: { status: 'succeeded' },
    });
    s.clock.advance(1000);
    const apply = await s.call('POST', `/api/v1/runs/${runId}/phases/apply/start`, {
      token: agent,
      body: { lease: true, include: ['variables'] },
    });
    assert.equal(apply.status, 200, JSON.stringify(apply.json));
    assert.equal(at(apply.json, 'lease', 'phase'), 'apply');
    assert.equal(at(apply.json, 'lease', 'expiresAt'), T0 + 1000 + leaseSeconds * 1000);
    assert.ok(Array.isArray(at(apply.json, 'variables')));

    // Without them the answers are the run alone, as before.
    const plain = await s.call('POST', '/api/v1/runs', {
      token: agent,
      body: { workspace: 'networking', phase: 'plan' },
    });
    assert.equal(at(plain.json, 'lease'), undefined);
    assert.equal(at(plain.json, 'variables'), undefined);
    assert.equal(
      (await s.app.store.get('run', str(plain.json, 'id')))?.phases.plan.leaseExpiresAt,
      undefined,
    );

    const runsBefore = await s.app.store.count('run');
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ workspace: 'networking', lease: true }, 'lease'],
      [{ workspace: 'networking', phase: 'plan', lease: 'yes' }, 'lease'],
      [{ workspace: 'networking', phase: 'plan', include: ['secrets'] }, 'include'],
      [{ workspace: 'networking', phase: 'plan', include: 'variables' }, 'include'],
    ];
    for (const [body, field] of refused) {
      const r = await s.call('POST', '/api/v1/runs', { token: agent, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(at(r.json, 'error', 'field'), field, JSON.stringify(body));
    }
    assert.equal(await s.app.store.count('run'), runsBefore, 'a refused open opens no run');
    const badStart = await s.call('POST', `/api/v1/runs/${str(plain.json, 'id')}/phases/apply/start`, {
      token: agent,
      body: { lease: true, phase: 'plan' },
    });
    assert.equal(at(badStart.json, 'error', 'field'), 'phase');
    assert.equal((await s.app.store.get('run', str(plain.json, 'id')))?.phases.apply.status, 'pending');
  });
});

test("another organization's agent token gets neither a run nor the variables of a workspace through a leased start", async () => {
  await withServer(async (s) => {
    const { wsId } = await setup(s);
    const other = await setup(s, 'globex', 'web');
    await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, {
      body: { key: 'ACME_ONLY', value: 'acme-value' },
    });
    const open = await s.call('POST', '/api/v1/runs', {
      token: other.agent,
      body: { workspace: 'networking', phase: 'plan', lease: true, include: ['variables'] },
    });
    assert.equal(open.status, 400);
    assert.ok(!JSON.stringify(open.json).includes('acme-value'));
    const acme = await setup(s, 'initech', 'ops');
    const run = await s.call('POST', '/api/v1/runs', { token: acme.agent, body: { workspace: 'ops' } });
    const start = await s.call('POST', `/api/v1/runs/${str(run.json, 'id')}/phases/plan/start`, {
      token: other.agent,
      body: { lease: true, include: ['variables'] },
    });
    assert.equal(start.status, 403);
    assert.equal((await s.app.store.get('run', str(run.json, 'id')))?.phases.plan.status, 'pending');
  });
});

test('several tokens mint in one request and one write, in the order asked; a bad item, a closed run or another organization mints none', async () => {
  await withServer(async (s) => {
    const { agent } = await setup(s);
    const other = await setup(s, 'globex', 'web');
    const open = await s.call('POST', '/api/v1/runs', {
      token: agent,
      body: { workspace: 'networking', phase: 'apply' },
    });
    const runId = str(open.json, 'id');
    const minted = await s.call('POST', `/api/v1/runs/${runId}/tokens`, {
      token: agent,
      body: {
        tokens: [
          { audience: 'aws.workload.identity' },
          { tag: 'prod', audience: 'aws.workload.identity' },
          { audience: 'vault' },
        ],
      },
    });
    assert.equal(minted.status, 201, JSON.stringify(minted.json));
    const items = at(minted.json, 'items') as {
      token: string;
      jti: string;
      tag: string;
      aud: string;
      phase: string;
    }[];
    assert.deepEqual(
      items.map((t) => [t.tag, t.aud, t.phase]),
      [
        ['', 'aws.workload.identity', 'apply'],
        ['prod', 'aws.workload.identity', 'apply'],
        ['', 'vault', 'apply'],
      ],
    );
    assert.equal(new Set(items.map((t) => t.jti)).size, 3);
    for (const t of items) assert.equal(decodeJwt(t.token).jti, t.jti);
    const recorded = await s.call('GET', `/api/v1/runs/${runId}/tokens`, { token: agent });
    assert.deepEqual(
      (at(recorded.json, 'items') as { id: string }[]).map((m) => m.id).sort(),
      items.map((t) => t.jti).sort(),
    );

    const before = await mintCount(s);
    const refused: Array<[string, string, unknown, number, string]> = [
      ['a bad tag among good items', agent, { tokens: [{}, { tag: 'no spaces' }] }, 400, 'tokens[1].tag'],
      ['an unknown field in an item', agent, { tokens: [{ scope: 'all' }] }, 400, 'tokens[0].scope'],
      ['an item that is not an object', agent, { tokens: ['prod'] }, 400, 'tokens[0]'],
      ['no items', agent, { tokens: [] }, 400, 'tokens'],
      ['too many items', agent, { tokens: Array.from({ length: 33 }, () => ({})) }, 400, 'tokens'],
      ['tokens beside other fields', agent, { tokens: [{}], tag: 'x' }, 400, 'tag'],
      ['another organization', other.agent, { tokens: [{}] }, 403, 'run'],
    ];
    for (const [name, token, body, status, field] of refused) {
      const r = await s.call('POST', `/api/v1/runs/${runId}/tokens`, { token, body });
      assert.equal(r.status, status, name);
      assert.equal(at(r.json, 'error', 'field'), field, name);
    }
    await s.call('POST', `/api/v1/runs/${runId}/cancel`, { token: agent });
    const closed = await s.call('POST', `/api/v1/runs/${runId}/tokens`, {
      token: agent,
      body: { tokens: [{}, {}] },
    });
    assert.equal(at(closed.json, 'error', 'code'), 'run_closed');
    assert.equal(await mintCount(s), before, 'a refused request mints nothing');
  });
});
