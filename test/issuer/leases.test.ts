// Leases on run phases, over real HTTP with an injected clock: an agent takes and renews the lease on
// its running phase; bad input to the lease endpoint is a clear error that changes nothing; a lapsed
// lease fails the phase, closes the run and stores the run's revocation (which another node's
// revocation set picks up from the store), and the issuer calls RevokeRun with a fresh token of the
// run at the STS endpoint the workspace names (a cloud side of another deployment).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeJwt } from 'jose';
import { Revocations } from '../../src/cloud/sessions/revocations.js';
import { privateTransport } from '../../src/core/private-transport.js';
import { REVOKE_RUN_AUDIENCE } from '../../src/core/revoke-audience.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTestSts } from '../agent/helpers/sts-server.js';
import { at, startTestServer, str, T0, type TestServer } from './server.js';

async function withServer(fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startTestServer({ runLeaseSeconds: 30 });
  // The reaper's own timer is stopped: the tests call its tick after moving the clock.
  await s.app.services.issuer?.stop();
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

async function setup(s: TestServer, org = 'acme') {
  assert.equal((await s.call('POST', '/api/v1/orgs', { body: { name: org } })).status, 201);
  const w = await s.call('POST', `/api/v1/orgs/${org}/workspaces`, { body: { name: 'networking' } });
  const t = await s.call('POST', `/api/v1/orgs/${org}/agent-tokens`, { body: { description: 'ci' } });
  return { wsId: str(w.json, 'id'), agent: str(t.json, 'token') };
}

const open = async (s: TestServer, agent: string, phase = 'plan'): Promise<string> =>
  str(
    (await s.call('POST', '/api/v1/runs', { token: agent, body: { workspace: 'networking', phase } })).json,
    'id',
  );

const lease = (s: TestServer, agent: string, runId: string, phase = 'plan', body: unknown = {}) =>
  s.call('POST', `/api/v1/runs/${runId}/phases/${phase}/lease`, { token: agent, body });

const reap = async (s: TestServer) => {
  const issuer = s.app.services.issuer;
  assert.ok(issuer, 'the issuer is mounted');
  return issuer.reaper.tick();
};

/** Set the workspace's environment variables (each must be created). */
async function setVars(
  s: TestServer,
  wsId: string,
  vars: ReadonlyArray<readonly [string, string]>,
): Promise<void> {
  for (const [key, value] of vars) {
    const r = await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, {
      body: { key, value, category: 'env' },
    });
    assert.equal(r.status, 201);
  }
}

/** A plan run whose agent took the lease and died: the lease runs out and the reaper lapses it. */
async function lapsedRun(s: TestServer, agent: string): Promise<string> {
  const runId = await open(s, agent);
  await lease(s, agent, runId);
  s.clock.advance(30_001);
  assert.deepEqual(await reap(s), [{ runId, phase: 'plan' }]);
  return runId;
}

test('the lease endpoint: an agent takes and renews the lease on its running phase', async () => {
  await withServer(async (s) => {
    const { agent } = await setup(s);
    const runId = await open(s, agent);
    const r = await lease(s, agent, runId);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json, {
      runId,
      phase: 'plan',
      expiresAt: T0 + 30_000,
      leaseSeconds: 30,
      renewEveryMs: 10_000,
    });
    s.clock.advance(10_000);
    assert.equal(at((await lease(s, agent, runId)).json, 'expiresAt'), T0 + 40_000, 'renewed from now');
    assert.equal(
      at((await s.call('GET', `/api/v1/runs/${runId}`)).json, 'phases', 'plan', 'leaseExpiresAt'),
      T0 + 40_000,
    );
    // Finishing the phase ends the lease: nothing is left for the reaper.
    await s.call('POST', `/api/v1/runs/${runId}/phases/plan/finish`, {
      token: agent,
      body: { status: 'succeeded' },
    });
    assert.equal(
      at((await s.call('GET', `/api/v1/runs/${runId}`)).json, 'phases', 'plan', 'leaseExpiresAt'),
      undefined,
    );
    s.clock.advance(3_600_000);
    assert.deepEqual(await reap(s), []);
  });
});

test('bad input to the lease endpoint gets a clear error and changes nothing', async () => {
  await withServer(async (s) => {
    const { agent } = await setup(s);
    const other = await setup(s, 'globex');
    const runId = await open(s, agent);
    const closed = await open(s, agent);
    await s.call('POST', `/api/v1/runs/${closed}/cancel`, { token: agent });
    const before = JSON.stringify((await s.call('GET', `/api/v1/runs/${runId}`)).json);
    const cases: Array<[string, Promise<{ status: number; json: unknown }>, number, string | undefined]> = [
      ['unknown phase', lease(s, agent, runId, 'deploy'), 400, 'invalid_field'],
      ['phase not running', lease(s, agent, runId, 'apply'), 409, 'phase_not_open'],
      ['unknown field', lease(s, agent, runId, 'plan', { ttlSeconds: 5 }), 400, 'invalid_field'],
      ['body not an object', lease(s, agent, runId, 'plan', [1]), 400, 'bad_request'],
      ['unknown run', lease(s, agent, 'run-doesnotexist'), 404, 'not_found'],
      ['closed run', lease(s, agent, closed), 409, 'run_closed'],
      ["another organization's agent", lease(s, other.agent, runId), 403, 'forbidden'],
      ['no token', lease(s, '', runId), 401, 'unauthorized'],
    ];
    for (const [name, pending, status, code] of cases) {
      const r = await pending;
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
      assert.equal(at(r.json, 'error', 'code'), code, name);
    }
    assert.equal(JSON.stringify((await s.call('GET', `/api/v1/runs/${runId}`)).json), before);
  });
});

test('runLeaseSeconds is validated: out-of-range and non-integer values are configuration errors', () => {
  for (const bad of [0, 2, 3601, 1.5, 'soon']) {
    assert.throws(
      () => resolveConfig({ env: {}, flags: { runLeaseSeconds: bad } }),
      (e: Error) => /runLeaseSeconds/.test(e.message) || /run-lease-seconds/.test(JSON.stringify(e)),
      String(bad),
    );
  }
  assert.equal(resolveConfig({ env: { GATEPASS_RUN_LEASE_SECONDS: '3' }, flags: {} }).runLeaseSeconds, 3);
  assert.equal(resolveConfig({ env: {}, flags: {} }).runLeaseSeconds, 30);
});

test('a lapsed lease fails the phase, closes the run and revokes it in the store (another node sees it); a renewed lease and an unleased run stay', async () => {
  await withServer(async (s) => {
    const { agent } = await setup(s);
    const lapsing = await open(s, agent);
    const renewed = await open(s, agent);
    const unleased = await open(s, agent);
    await lease(s, agent, lapsing);
    await lease(s, agent, renewed);
    const mint = await s.call('POST', `/api/v1/runs/${lapsing}/tokens`, { token: agent, body: {} });
    assert.equal(mint.status, 201);
    s.clock.advance(20_000);
    await lease(s, agent, renewed);
    s.clock.advance(10_001);
    assert.deepEqual(await reap(s), [{ runId: lapsing, phase: 'plan' }]);
    assert.deepEqual(await reap(s), [], 'lapsed once');

    const run = (await s.call('GET', `/api/v1/runs/${lapsing}`)).json;
    assert.equal(at(run, 'status'), 'failed');
    assert.equal(at(run, 'phases', 'plan', 'status'), 'failed');
    assert.equal(at(run, 'phases', 'plan', 'lapsed'), true);
    assert.equal(at((await s.call('GET', `/api/v1/runs/${renewed}`)).json, 'status'), 'open');
    assert.equal(at((await s.call('GET', `/api/v1/runs/${unleased}`)).json, 'status'), 'open');
    const again = await s.call('POST', `/api/v1/runs/${lapsing}/tokens`, { token: agent, body: {} });
    assert.equal(at(again.json, 'error', 'code'), 'run_closed');
    assert.equal(at((await lease(s, agent, lapsing)).json, 'error', 'code'), 'run_closed');

    // The revocation is a store row keyed by (this issuer, run id): another node loads it.
    const iss = s.app.issuerUrl;
    const elsewhere = new Revocations(s.app.store);
    await elsewhere.load();
    assert.equal(elsewhere.isRunRevoked({ issuer: iss, runId: lapsing }), true);
    assert.equal(elsewhere.isRunRevoked({ issuer: 'https://another.example', runId: lapsing }), false);
    assert.equal(elsewhere.isRunRevoked({ issuer: iss, runId: renewed }), false);
    const record = (await s.app.store.list('revocation')).find((r) => r.runId === lapsing);
    // It outlives the phase's tokens (their exp is the phase deadline) by the longest session.
    assert.equal(record?.expiresAt, T0 + 7200 * 1000 + 43_200_000);
    // …and this node's cloud side applies it from the change feed.
    await s.app.services.cloud?.sync();
    assert.equal(s.app.services.cloud?.revocations.isRunRevoked({ issuer: iss, runId: lapsing }), true);
    const events = await s.app.store.queryAudit({ action: 'sts:RevokeRun' });
    assert.equal(events[0]?.runId, lapsing);
    assert.equal(events[0]?.detail?.reason, 'plan phase agent lease lapsed');
  });
});

test("after a lapse the issuer calls RevokeRun at the workspace's STS endpoint with a fresh revoke-only token of the run", async () => {
  const sts = await startTestSts();
  try {
    await withServer(async (s) => {
      const { agent, wsId } = await setup(s);
      await s.call('POST', `/api/v1/workspaces/${wsId}/vars`, {
        body: { key: 'GATEPASS_AWS_STS_ENDPOINT', value: sts.url, category: 'env' },
      });
      const runId = await open(s, agent);
      await lease(s, agent, runId);
      s.clock.advance(30_001);
      assert.deepEqual(await reap(s), [{ runId, phase: 'plan' }]);
      assert.equal(sts.revoked.length, 1);
      assert.equal(sts.revokedScopes[0], 'Run');
      const claims = decodeJwt(sts.revoked[0] ?? '');
      assert.equal(claims.terraform_run_id, runId);
      assert.equal(claims.terraform_run_phase, 'plan');
      assert.equal(claims.iss, s.app.issuerUrl);
      assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 300, 'a five-minute token');
      // Revoke-only: a web identity token nowhere (the cloud side refuses its audience for sessions).
      assert.equal(claims.aud, REVOKE_RUN_AUDIENCE);
      // Recorded like every mint, never the token itself.
      const mints = (await s.call('GET', `/api/v1/runs/${runId}/tokens`)).json;
      assert.equal(at(mints, 'items', 0, 'id'), claims.jti);
      assert.ok(
        !JSON.stringify(await s.app.store.queryAudit({ limit: 1000 })).includes(sts.revoked[0] ?? '-'),
      );
    });
  } finally {
    await sts.close();
  }
});

test('after a lapse a remote STS that could not revoke just then (503 twice) is asked again, and the run ends revoked there', async () => {
  const sts = await startTestSts();
  sts.revokeRunFailures = 2;
  try {
    await withServer(async (s) => {
      const { agent, wsId } = await setup(s);
      await setVars(s, wsId, [['GATEPASS_AWS_STS_ENDPOINT', sts.url]]);
      await lapsedRun(s, agent);
      assert.equal(sts.revokeRunCalls, 3, 'two 503s, then the revocation');
      assert.equal(sts.revoked.length, 1);
    });
  } finally {
    await sts.close();
  }
});

test('after a lapse the revoke-only token travels only over https or to loopback: a plain-http remote endpoint is skipped', async () => {
  const sts = await startTestSts();
  try {
    await withServer(async (s) => {
      const { agent, wsId } = await setup(s);
      await setVars(s, wsId, [
        ['GATEPASS_AWS_STS_ENDPOINT', 'http://sts.gatepass-revoke.invalid'],
        ['GATEPASS_AWS_STS_ENDPOINT_LOCAL', sts.url],
      ]);
      await lapsedRun(s, agent);
      assert.equal(sts.revoked.length, 1, 'the loopback endpoint got the revocation');
    });
  } finally {
    await sts.close();
  }
});

test('privateTransport: https anywhere, plain http to loopback only, anything else refused', () => {
  for (const ok of [
    'https://sts.example.com',
    'http://127.0.0.1:8787',
    'http://localhost:1',
    'http://[::1]:2',
  ])
    assert.equal(privateTransport(ok), true, ok);
  for (const no of [
    'http://sts.example.com',
    'http://10.0.0.1',
    'ftp://127.0.0.1',
    'not a url',
    'http://127.0.0.1.evil.com',
  ])
    assert.equal(privateTransport(no), false, no);
});

test("after a lapse where the STS has no RevokeRun, the reaper assumes the workspace's revoker role with a revoker-audience token of the run and audits the deny-list outcome; a workspace with a deny list always gets source identity", async () => {
  const sts = await startTestSts();
  sts.noRevokeRun = true;
  try {
    await withServer(async (s) => {
      // No sourceIdentity option: a workspace with a deny list gets it anyway (checked below).
      const org = await s.call('POST', '/api/v1/orgs', { body: { name: 'denied' } });
      assert.equal(org.status, 201);
      const w = await s.call('POST', '/api/v1/orgs/denied/workspaces', { body: { name: 'networking' } });
      const agent = str(
        (await s.call('POST', '/api/v1/orgs/denied/agent-tokens', { body: { description: 'ci' } })).json,
        'token',
      );
      const revoker = 'arn:aws:iam::111111111111:role/gatepass-revoker';
      await setVars(s, str(w.json, 'id'), [
        ['GATEPASS_AWS_STS_ENDPOINT', sts.url],
        ['GATEPASS_AWS_DENY_LIST_POLICY_IDS', 'p-12345678'],
        ['GATEPASS_AWS_REVOKER_ROLE_ARN', revoker],
      ]);
      const runId = await lapsedRun(s, agent);

      const assumed = sts.calls.filter((c) => c.action === 'AssumeRoleWithWebIdentity');
      assert.equal(assumed.length, 1, 'the revoker role was assumed');
      assert.equal(assumed[0]?.params.RoleArn, revoker);
      const claims = decodeJwt(assumed[0]?.params.WebIdentityToken ?? '');
      assert.equal(claims.aud, 'gatepass-revoker');
      assert.equal(claims.terraform_run_id, runId);
      assert.equal(claims['https://aws.amazon.com/source_identity'], runId);
      // The test STS has no Organizations API: the write fails, and the reaper says so.
      const [report] = await s.app.store.queryAudit({ runId, action: 'gatepass:ReportRevocation' });
      assert.equal(report?.detail?.by, 'lease reaper');
      assert.equal(report?.detail?.method, 'none');
      assert.match(String(report?.detail?.detail), /^the deny list could not be written/);
      assert.ok(!JSON.stringify(report).includes(assumed[0]?.params.WebIdentityToken ?? '-'), 'no token');

      // Without a deny list, the same organization's tokens carry no source identity (the option is off).
      await s.call('POST', '/api/v1/orgs/denied/workspaces', { body: { name: 'plain' } });
      const plain = str(
        (await s.call('POST', '/api/v1/runs', { token: agent, body: { workspace: 'plain', phase: 'plan' } }))
          .json,
        'id',
      );
      const minted = await s.call('POST', `/api/v1/runs/${plain}/tokens`, { token: agent, body: {} });
      assert.equal(minted.status, 201, JSON.stringify(minted.json));
      assert.equal(decodeJwt(str(minted.json, 'token'))['https://aws.amazon.com/source_identity'], undefined);
    });
  } finally {
    await sts.close();
  }
});

test("a closed run's revoker token is never minted with a session audience of its workspace (default, a tag's, the shared one)", async () => {
  await withServer(async (s) => {
    const { agent, wsId } = await setup(s);
    await setVars(s, wsId, [
      ['TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE_network', 'network.audience'],
      ['TFC_DEFAULT_WORKLOAD_IDENTITY_AUDIENCE', 'shared.audience'],
    ]);
    const runId = await lapsedRun(s, agent);
    const runs = s.app.services.issuer?.runs;
    assert.ok(runs);
    for (const audience of ['aws.workload.identity', 'network.audience', 'shared.audience'])
      await assert.rejects(
        runs.revocationToken(runId, 'plan', audience),
        (e: { reason?: string }) => /session audience/.test(e.reason ?? ''),
        audience,
      );
    const mintsBefore = (await s.call('GET', `/api/v1/runs/${runId}/tokens`)).json;
    const { token } = await runs.revocationToken(runId, 'plan', 'gatepass-revoker');
    assert.equal(decodeJwt(token).aud, 'gatepass-revoker');
    const mintsAfter = (await s.call('GET', `/api/v1/runs/${runId}/tokens`)).json;
    assert.equal(
      (at(mintsAfter, 'items') as unknown[]).length,
      (at(mintsBefore, 'items') as unknown[]).length + 1,
      'only the allowed one was minted',
    );
  });
});
