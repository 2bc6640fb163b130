// `kill -9` of `gatepass run`, for real: the CLI in its own process against a gatepass node (issuer
// over HTTPS, STS/IAM) with a 5-second run lease. The command (JS SDK) captures its session keys, a
// chained member session and the token, then keeps running. After the agent is killed, the lease
// lapses and the node revokes the run: every captured credential and the token are refused within
// the documented bound (lease + 2 s), with no sync forced, and the watchdog removes the run directory.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { StsClient, StsError } from '../../src/agent/sts-client.js';
import { systemClock } from '../../src/runtime/clock.js';
import { type AgentNode, startAgentNode } from './helpers/node.js';

const root = new URL('../..', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');
const LEASE_SECONDS = 5;
/** What docs/security.md promises after a kill -9: the lease, then at most 2 seconds. */
const BOUND_MS = LEASE_SECONDS * 1000 + 2000;

let node: AgentNode;
let scratch: string;

before(async () => {
  node = await startAgentNode({ runLeaseSeconds: LEASE_SECONDS });
  scratch = await mkdtemp(join(tmpdir(), 'gatepass-lease-kill-'));
});
after(async () => {
  await node?.stop();
  await rm(scratch, { recursive: true, force: true });
});

/** Captures the default and member sessions and the token, reports them, then keeps running. */
const CHILD = `
import { STSClient } from '@aws-sdk/client-sts';
import { fromIni } from '@aws-sdk/credential-providers';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
const dyn = JSON.parse(process.env.TF_VAR_tfc_aws_dynamic_credentials);
const member = fromIni({ configFilepath: dyn.aliases.member.shared_config_file, filepath: process.env.AWS_SHARED_CREDENTIALS_FILE });
const keys = [await new STSClient({}).config.credentials(), await member()];
// The command never holds the run's token (the agent serves credentials), so it stands in for
// whoever captured one: another token of the same run and phase, minted while the phase is open.
const minted = await fetch(process.env.TEST_ISSUER + '/api/v1/runs/' + process.env.GATEPASS_RUN_ID + '/tokens', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + process.env.TEST_AGENT_TOKEN, 'content-type': 'application/json' },
  body: JSON.stringify({ phase: 'plan', tag: '', audience: 'aws.workload.identity' }),
});
const out = process.argv[1];
writeFileSync(out + '.tmp', JSON.stringify({
  keys: keys.map((k) => ({ accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey, sessionToken: k.sessionToken })),
  token: (await minted.json()).token,
  runDir: dirname(process.env.AWS_CONFIG_FILE),
  pid: process.pid,
}));
renameSync(out + '.tmp', out);
setInterval(() => {}, 1000);
`;

interface Captured {
  keys: Array<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }>;
  token: string;
  runDir: string;
  pid: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, limitMs: number): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('kill -9 of gatepass run: the lease lapses, every captured credential (chained too) and the token are refused within lease + 2 s, the run directory is removed', async (t) => {
  const out = join(scratch, 'captured.json');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: scratch,
    TMPDIR: scratch,
    NO_COLOR: '1',
    GATEPASS_AGENT_TOKEN: node.agentToken,
    TEST_AGENT_TOKEN: node.agentToken,
    TEST_ISSUER: node.url,
    NODE_EXTRA_CA_CERTS: node.caFile,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const args = ['run', 'acme/networking', '--phase', 'plan', '--server', node.url, '--ca', node.caFile, '--'];
  const command = [process.execPath, '--input-type=module', '-e', CHILD, out];
  const agent: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, ...args, ...command], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  agent.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((r) => agent.on('exit', () => r()));
  let captured: Captured | undefined;
  try {
    captured = await until(
      'the command to capture its credentials',
      async () => (existsSync(out) ? (JSON.parse(await readFile(out, 'utf8')) as Captured) : undefined),
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${stderr}`);
    });
    const c = captured;
    const sts = (k: Captured['keys'][number]) =>
      new STSClient({
        endpoint: node.url,
        region: 'us-east-1',
        credentials: k,
        maxAttempts: 1,
        requestHandler: { httpsAgent: new Agent({ ca: node.caPem }) },
      });
    const whoami = (k: Captured['keys'][number]) =>
      sts(k)
        .send(new GetCallerIdentityCommand({}))
        .then(
          () => 'ok',
          (e: Error) => e.name,
        );
    const ours = new StsClient({
      endpoint: node.url,
      region: 'us-east-1',
      clock: systemClock,
      http: { ca: [node.caPem] },
    });
    const tokenCode = () =>
      ours
        .assumeRoleWithWebIdentity({
          roleArn: `arn:aws:iam::${node.hub}:role/gp-plan`,
          roleSessionName: 'after-kill',
          webIdentityToken: c.token,
        })
        .then(
          () => 'ok',
          (e: unknown) => (e instanceof StsError ? e.code : 'error'),
        );
    assert.deepEqual(
      await Promise.all(c.keys.map(whoami)),
      ['ok', 'ok'],
      'the credentials work before the kill',
    );
    assert.ok(existsSync(c.runDir));

    agent.kill('SIGKILL');
    const killedAt = Date.now();
    await exited;
    // No sync forced: the node finds the lapsed lease and applies the revocation by itself. The run
    // directory is watched at the same time (the watchdog acts on the agent's death, not the lease).
    const [refusedAt, goneAt] = await Promise.all([
      until(
        'the captured credentials to be refused',
        async () => {
          const codes = await Promise.all(c.keys.map(whoami));
          return codes.every((x) => x === 'InvalidClientTokenId') ? Date.now() : undefined;
        },
        BOUND_MS * 4,
      ),
      until(
        'the run directory to be removed',
        async () => (existsSync(c.runDir) ? undefined : Date.now()),
        BOUND_MS * 4,
      ),
    ]);
    assert.equal(await tokenCode(), 'IDPRejectedClaim', 'the token mints nothing any more');
    t.diagnostic(
      `kill -9 → sessions refused after ${refusedAt - killedAt} ms (bound ${BOUND_MS} ms); run directory removed after ${goneAt - killedAt} ms`,
    );
    assert.ok(
      refusedAt - killedAt <= BOUND_MS,
      `refused ${refusedAt - killedAt} ms after the kill, bound ${BOUND_MS} ms`,
    );

    // The issuer's record: the phase failed because its lease lapsed, the run is closed.
    const runs = await node.app.store.list('run');
    const run = runs.find((r) => r.phases.plan.lapsed === true);
    assert.ok(run, 'a run whose plan phase lapsed');
    assert.equal(run.status, 'failed');
    const events = await node.app.store.queryAudit({ action: 'sts:RevokeRun' });
    assert.ok(events.some((e) => e.runId === run.id && e.detail?.reason === 'plan phase agent lease lapsed'));
  } finally {
    agent.kill('SIGKILL');
    if (captured?.pid) {
      try {
        process.kill(captured.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
