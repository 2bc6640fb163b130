// A lapsed lease reaches a cloud side on another deployment: node A is the issuer (HTTPS, 5-second
// run leases); node B is a separate gatepass deployment (its own store) whose cloud side trusts A's
// issuer. A run of a workspace whose STS endpoint is B gets a session from B, then its agent stops
// renewing the lease (as a killed one would): A's reaper mints a token for the run and calls
// RevokeRun at B, and B refuses the session and the run's token, with no help from the test.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { send } from '../../src/agent/http-client.js';
import { StsClient, StsError } from '../../src/agent/sts-client.js';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { thumbprintOf } from '../../src/issuer/local-ca.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { type App, startServer } from '../../src/server/app.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';
import { tempDir } from '../helpers/temp.js';
import { type AgentNode, startAgentNode } from './helpers/node.js';

const LEASE_SECONDS = 5;
/** The lease, the reaper's second, and a second for the RevokeRun call to the other deployment. */
const BOUND_MS = LEASE_SECONDS * 1000 + 2000;

let a: AgentNode;
let b: App;
let role = '';

before(async () => {
  a = await startAgentNode({ runLeaseSeconds: LEASE_SECONDS });
  b = await startServer(
    resolveConfig({
      env: {},
      flags: {
        port: 0,
        dataDir: await tempDir('gatepass-remote-cloud-'),
        logLevel: 'error',
        oidcCaFile: a.caFile,
      },
    }),
    { log: createJsonLogger({ level: 'error', stream: { write: () => true } }) },
  );
  const [account] = await b.store.list('account');
  const hub = account?.id ?? '';
  const host = a.url.replace(/^https:\/\//, '');
  role = `arn:aws:iam::${hub}:role/remote-plan`;
  const spec = {
    accounts: [
      {
        name: 'hub',
        id: hub,
        oidcProviders: [
          { url: a.url, clientIds: ['aws.workload.identity'], thumbprints: [thumbprintOf(a.caPem)] },
        ],
        roles: [
          {
            name: 'remote-plan',
            trustPolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Federated: `arn:aws:iam::${hub}:oidc-provider/${host}` },
                  Action: 'sts:AssumeRoleWithWebIdentity',
                  Condition: {
                    StringEquals: { [`${host}:aud`]: 'aws.workload.identity' },
                    StringLike: {
                      [`${host}:sub`]: 'organization:acme:project:*:workspace:remote:run_phase:plan',
                    },
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
  await applySetup(
    b.store,
    parseSetup(JSON.stringify(spec), 'remote.json'),
    { random: cryptoRandom, clock: systemClock },
    { file: 'remote.json' },
  );
  await b.services.cloud?.sync();
});
after(async () => {
  await b?.stop();
  await a?.stop();
});

/** The platform API of node A, as its agent token or its administrator. */
async function api(
  method: string,
  path: string,
  body: unknown,
  token: string,
): Promise<Record<string, unknown>> {
  const res = await send(
    new URL(`${a.url}/api/v1${path}`),
    {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    },
    { ca: [a.caPem] },
  );
  const json = JSON.parse(res.body.toString('utf8') || '{}') as Record<string, unknown>;
  if (res.status >= 300) throw new Error(`${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

test('a lapsed lease ends the run at a cloud side on another deployment: the issuer calls its RevokeRun', async (t) => {
  const admin = (await readFile(`${a.dataDir}/admin-token`, 'utf8')).trim();
  const ws = await api('POST', '/orgs/acme/workspaces', { name: 'remote' }, admin);
  await api(
    'POST',
    `/workspaces/${String(ws.id)}/vars`,
    { key: 'GATEPASS_AWS_STS_ENDPOINT', value: b.address.url, category: 'env' },
    admin,
  );
  // What `gatepass run` does first: open the run, take the lease, mint the token.
  const run = await api('POST', '/runs', { workspace: 'remote', phase: 'plan' }, a.agentToken);
  const runId = String(run.id);
  // The agent's heartbeat (every third of the lease), until it "dies".
  let lastRenewal = 0;
  const renew = async () => {
    await api('POST', `/runs/${runId}/phases/plan/lease`, {}, a.agentToken);
    lastRenewal = Date.now();
  };
  await renew();
  const beat = setInterval(() => void renew().catch(() => undefined), (LEASE_SECONDS * 1000) / 3);
  const { token } = (await api('POST', `/runs/${runId}/tokens`, {}, a.agentToken)) as { token: string };
  const atB = new StsClient({ endpoint: b.address.url, region: 'us-east-1', clock: systemClock });
  const { credentials } = await atB.assumeRoleWithWebIdentity({
    roleArn: role,
    roleSessionName: 'remote',
    webIdentityToken: token,
  });
  const session = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
  };
  const whoami = () =>
    new STSClient({ endpoint: b.address.url, region: 'us-east-1', credentials: session, maxAttempts: 1 })
      .send(new GetCallerIdentityCommand({}))
      .then(
        () => 'ok',
        (e: Error) => e.name,
      );
  try {
    assert.equal(await whoami(), 'ok');
  } finally {
    clearInterval(beat);
  }

  // The agent dies: no more renewals (a renewal in flight may still land). Node B is told by node
  // A alone; the bound counts from the last renewal's answer, after which the lease runs out.
  await new Promise((r) => setTimeout(r, 200));
  let code = 'ok';
  while (code === 'ok' && Date.now() - lastRenewal < BOUND_MS * 4) {
    await new Promise((r) => setTimeout(r, 100));
    code = await whoami();
  }
  const refusedAfter = Date.now() - lastRenewal;
  t.diagnostic(
    `another deployment refuses the session ${refusedAfter} ms after the last renewal (bound ${BOUND_MS} ms)`,
  );
  // The documented bound is the lease + a second + the call to the other deployment, whose time is
  // not ours to bound: the delay is reported, the refusal is asserted.
  assert.equal(code, 'InvalidClientTokenId');
  await assert.rejects(
    atB.assumeRoleWithWebIdentity({ roleArn: role, roleSessionName: 'again', webIdentityToken: token }),
    (e: unknown) => e instanceof StsError && e.code === 'IDPRejectedClaim',
  );
  // B's record names A's issuer and the run.
  const revocations = await b.store.list('revocation');
  assert.ok(revocations.some((r) => r.runId === runId && r.issuer === a.url && r.scope === 'run'));
});
