// The run lifecycle against a real issuer node and a test STS on loopback, with real child
// processes (`node -e` scripts) as the run's command.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AgentError } from '../../src/agent/errors.js';
import { IssuerClient } from '../../src/agent/issuer-client.js';
import { type AgentOptions, type AgentOutcome, runAgent } from '../../src/agent/run.js';
import { MAX_MINTS_PER_REQUEST } from '../../src/core/mint-batch.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startTestSts, type TestSts } from './helpers/sts-server.js';

const ROLE = 'arn:aws:iam::111122223333:role/run';
const PLAN = 'arn:aws:iam::111122223333:role/plan';
const MEMBER = 'arn:aws:iam::444455556666:role/member';

/**
 * Writes what the command saw as JSON to argv[1]: env, token file, config file, cwd, and every file
 * of the run directory with its content.
 */
const REPORT = `
const fs = require('fs');
const path = require('path');
const e = process.env;
const read = (p) => (p && fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null);
const dir = path.dirname(e.AWS_CONFIG_FILE);
const files = Object.fromEntries(fs.readdirSync(dir).map((f) => [f, read(path.join(dir, f))]));
fs.writeFileSync(process.argv[1], JSON.stringify({
  env: e, cwd: process.cwd(), files,
  token: read(e.AWS_WEB_IDENTITY_TOKEN_FILE), config: read(e.AWS_CONFIG_FILE),
}));
process.exit(Number(process.argv[2] ?? 0));
`;

interface Report {
  env: Record<string, string>;
  files: Record<string, string>;
  token: string | null;
  config: string;
  cwd: string;
}

const JWT_SHAPE = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

let issuer: TestIssuer;
let sts: TestSts;
let scratch: string;
let runBase: string;
let n = 0;

before(async () => {
  [issuer, sts] = await Promise.all([startTestIssuer(), startTestSts()]);
  scratch = await mkdtemp(join(tmpdir(), 'gatepass-agent-run-'));
  runBase = join(scratch, 'runs');
});
after(async () => {
  await Promise.all([issuer.stop(), sts.close()]);
  await rm(scratch, { recursive: true, force: true });
});

interface Logged {
  outcome: AgentOutcome;
  lines: string[];
}

async function agent(
  workspace: string,
  command: string[],
  extra: Partial<AgentOptions> = {},
): Promise<Logged> {
  const lines: string[] = [];
  const outcome = await runAgent({
    organization: 'acme',
    workspace,
    phase: 'plan',
    issuerUrl: issuer.url,
    agentToken: issuer.agentToken,
    refresh: false,
    keepFiles: false,
    command,
    env: { PATH: process.env.PATH, GATEPASS_AGENT_TOKEN: issuer.agentToken, AWS_ACCESS_KEY_ID: 'AKIAOLD' },
    cwd: scratch,
    log: { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) },
    clock: systemClock,
    random: cryptoRandom,
    interactive: false,
    runDirBase: runBase,
    ...extra,
  });
  return { outcome, lines };
}

const outFile = (): string => join(scratch, `out-${n++}.json`);
const report = (out: string, code = 0): string[] => [process.execPath, '-e', REPORT, out, String(code)];

async function workspace(vars: Record<string, string>): Promise<string> {
  return issuer.addWorkspace(`test-${n++}`, { GATEPASS_AWS_STS_ENDPOINT: sts.url, ...vars });
}

/** Wait for the command to signal readiness; fails if the agent finishes first or after a minute. */
async function untilExists(path: string, running: Promise<unknown>): Promise<void> {
  let done = false;
  void running.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < 3000 && !existsSync(path); i++) {
    if (done) throw new Error('the agent finished before the command was ready');
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!existsSync(path)) throw new Error('the command never became ready');
}

const phaseStatus = async (runId: string, phase: 'plan' | 'apply'): Promise<unknown> =>
  ((await issuer.run(runId)).phases as Record<string, { status: string }>)[phase]?.status;

test('a plan phase against a gatepass STS: the command gets served credentials and never the token; files are gone and the phase revoked afterwards', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE, TF_LOG: 'info' });
  const out = outFile();
  const before = sts.calls.length;
  const { outcome, lines } = await agent(ws, report(out));
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.status, 'succeeded');
  assert.ok(outcome.runId?.startsWith('run-'));
  const seen = JSON.parse(await readFile(out, 'utf8')) as Report;
  assert.match(seen.env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? '', /^http:\/\/127\.0\.0\.1:\d+\/default$/);
  assert.match(seen.env.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? '', /^[\w-]{43}$/);
  for (const gone of [
    'AWS_ROLE_ARN',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ACCESS_KEY_ID',
    'GATEPASS_AGENT_TOKEN',
  ])
    assert.equal(seen.env[gone], undefined, gone);
  assert.equal(seen.env.AWS_ENDPOINT_URL_STS, sts.url);
  assert.equal(seen.env.TF_LOG, 'info');
  assert.equal(seen.env.TFC_RUN_ID, outcome.runId);
  assert.equal(seen.cwd, scratch);
  assert.match(
    seen.config,
    /^\[default\]\ncredential_process = \S+ \S+\/credential-process\.mjs http:\/\/127\.0\.0\.1:\d+\/default\nregion = us-east-1\nservices = gatepass\n/,
  );
  assert.ok(
    seen.config.endsWith(
      `[services gatepass]\nsts =\n  endpoint_url = ${sts.url}\niam =\n  endpoint_url = ${sts.url}\n`,
    ),
  );
  // The token is nowhere the command can look: not in its environment, not in the run directory.
  assert.equal(seen.token, null);
  assert.deepEqual(Object.keys(seen.files).sort(), [
    'agent.pid',
    'aws.config',
    'aws.credentials',
    'credential-endpoint.token',
    'credential-process.mjs',
  ]);
  for (const [name, text] of [...Object.entries(seen.env), ...Object.entries(seen.files)])
    assert.doesNotMatch(text ?? '', JWT_SHAPE, name);
  // The agent walked the role itself, before the command started.
  const web = sts.calls.slice(before).filter((c) => c.action === 'AssumeRoleWithWebIdentity');
  assert.deepEqual(
    web.map((c) => c.params.RoleArn),
    [ROLE],
  );
  // Files deleted, plan phase closed as succeeded and revoked at the STS (its phase only: the run
  // stays open for apply).
  assert.deepEqual(await readdir(runBase), []);
  assert.equal(await phaseStatus(outcome.runId ?? '', 'plan'), 'succeeded');
  assert.equal(outcome.revoked, true);
  assert.match(sts.revoked.at(-1) ?? '', JWT_SHAPE, 'RevokeRun presents one of the phase’s tokens');
  assert.equal(sts.revokedScopes.at(-1), 'Phase');
  for (const token of sts.revoked)
    assert.ok(!lines.join('\n').includes(token), 'the token never reaches the log');
  assert.ok(lines.some((l) => l.includes(`join the next phase with --run ${outcome.runId}`)));
});

test('a RevokeRun the STS could not do just then (503 ServiceUnavailable) is asked again, and the phase ends revoked', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const calls = sts.revokeRunCalls;
  const revoked = sts.revoked.length;
  sts.revokeRunFailures = 2;
  const { outcome, lines } = await agent(ws, report(outFile()));
  assert.equal(outcome.exitCode, 0);
  assert.equal(sts.revokeRunCalls - calls, 3, 'two 503s, then the revocation');
  assert.equal(sts.revoked.length, revoked + 1);
  assert.equal(outcome.revoked, true);
  assert.equal(outcome.revocation?.method, 'RevokeRun');
  assert.ok(!lines.some((l) => l.startsWith('warn run revocation failed')), lines.join('\n'));
});

test('an STS that keeps failing RevokeRun is asked three times, then the run says its sessions expire on their own', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const calls = sts.revokeRunCalls;
  sts.revokeRunFailures = 1_000;
  try {
    const { outcome, lines } = await agent(ws, report(outFile()));
    assert.equal(outcome.exitCode, 0);
    assert.equal(sts.revokeRunCalls - calls, 3, 'bounded: three attempts for the phase’s one token');
    assert.equal(outcome.revoked, false);
    assert.equal(outcome.revocation?.method, 'none');
    assert.ok(
      lines.includes('warn run revocation failed (ServiceUnavailable); the sessions expire on their own'),
      lines.join('\n'),
    );
  } finally {
    sts.revokeRunFailures = 0;
  }
});

test('apply joins the same run, mints per configuration, exits with the command code and revokes the run', async () => {
  const ws = await workspace({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_PLAN_ROLE_ARN: PLAN,
    TFC_AWS_APPLY_ROLE_ARN: ROLE,
    TFC_AWS_PROVIDER_AUTH_member: 'true',
    TFC_AWS_RUN_ROLE_ARN_member: ROLE,
    GATEPASS_AWS_CHAIN_ROLE_ARN_member: MEMBER,
    TFC_WORKLOAD_IDENTITY_AUDIENCE: 'vault.workload.identity',
  });
  const plan = await agent(ws, report(outFile()));
  assert.equal(plan.outcome.status, 'succeeded');
  const runId = plan.outcome.runId ?? '';
  const out = outFile();
  const revokedBefore = sts.revoked.length;
  const callsBefore = sts.calls.length;
  const { outcome } = await agent(ws, report(out, 3), { phase: 'apply', runId });
  assert.equal(outcome.runId, runId);
  assert.equal(outcome.exitCode, 3);
  assert.equal(outcome.status, 'failed');
  const seen = JSON.parse(await readFile(out, 'utf8')) as Report;
  assert.equal(seen.env.AWS_ROLE_ARN, undefined);
  assert.match(seen.config, /^\[default\]\ncredential_process = .+\/default\n/);
  // The alias's file names the agent's endpoint for this configuration, through credential_process.
  assert.match(
    seen.files['aws-member.config'] ?? '',
    /^\[default\]\ncredential_process = \S+ \S+\/credential-process\.mjs http:\/\/127\.0\.0\.1:\d+\/member\n/,
  );
  assert.match(
    seen.env.TFC_WORKLOAD_IDENTITY_TOKEN ?? '',
    JWT_SHAPE,
    'generic tokens are for the command itself',
  );
  const dyn = JSON.parse(seen.env.TF_VAR_tfc_aws_dynamic_credentials ?? '{}') as {
    aliases: Record<string, unknown>;
  };
  assert.deepEqual(Object.keys(dyn.aliases), ['member']);
  // Both configurations were walked by the agent before the command: apply role, then the chain.
  assert.deepEqual(
    sts.calls
      .slice(callsBefore)
      .filter((c) => c.action.startsWith('AssumeRole'))
      .map((c) => `${c.action} ${c.params.RoleArn}`),
    [`AssumeRoleWithWebIdentity ${ROLE}`, `AssumeRoleWithWebIdentity ${ROLE}`, `AssumeRole ${MEMBER}`],
  );
  assert.equal(await phaseStatus(runId, 'apply'), 'failed');
  assert.equal((await issuer.run(runId)).status, 'failed');
  assert.equal(outcome.revoked, true);
  assert.equal(sts.revoked.length, revokedBefore + 1);
  assert.equal(sts.revokedScopes.at(-1), 'Run', 'the run ends with its apply');
  // Three mints in apply (default, member, generic) after two in plan... plus the plan's generic.
  const mints = await issuer.call('GET', `/runs/${runId}/tokens`);
  const items = (mints.json as { items: Array<{ phase: string; tag: string; aud: string }> }).items;
  assert.deepEqual(
    items
      .filter((m) => m.phase === 'apply')
      .map((m) => `${m.tag}/${m.aud}`)
      .sort(),
    ['/aws.workload.identity', '/vault.workload.identity', 'member/aws.workload.identity'],
  );
});

/** Requests the issuer answered, by route and status, from its own /metrics. */
async function issuerRoutes(): Promise<Map<string, number>> {
  const text = await (await fetch(`${issuer.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^gatepass_http_requests_total\{([^}]*)\} (\d+)$/gm)) {
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(m[1] ?? '')?.[1] ?? '';
    if (label('route').startsWith('api ')) out.set(`${label('route')} ${label('status')}`, Number(m[2]));
  }
  return out;
}

test('a phase talks to the issuer three times: start (lease and variables in the same request), every token in one mint, finish', async () => {
  const ws = await workspace({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: ROLE,
    TFC_AWS_PROVIDER_AUTH_member: 'true',
    TFC_AWS_RUN_ROLE_ARN_member: ROLE,
    TFC_WORKLOAD_IDENTITY_AUDIENCE: 'vault.workload.identity',
  });
  let runId: string | undefined;
  for (const phase of ['plan', 'apply'] as const) {
    const before = await issuerRoutes();
    const joined = runId === undefined ? {} : { runId };
    const { outcome } = await agent(ws, [process.execPath, '-e', ''], { phase, ...joined });
    assert.equal(outcome.status, 'succeeded');
    runId = outcome.runId ?? '';
    const after = await issuerRoutes();
    const made = [...after]
      .map(([route, count]) => [route, count - (before.get(route) ?? 0)] as const)
      .filter(([, count]) => count > 0);
    const start = phase === 'plan' ? 'api POST /runs 201' : 'api POST /runs/:id/phases/:phase/start 200';
    assert.deepEqual(
      new Map(made),
      new Map([
        [start, 1],
        ['api POST /runs/:id/tokens 201', 1],
        ['api POST /runs/:id/phases/:phase/finish 200', 1],
      ]),
      phase,
    );
    // Three configurations' tokens (default, member, generic) from that one mint, all recorded.
    const mints = await issuer.call('GET', `/runs/${runId}/tokens`);
    const items = (mints.json as { items: Array<{ phase: string }> }).items;
    assert.equal(items.filter((m) => m.phase === phase).length, 3);
  }
});

test('more tokens than one request may mint go in batches, in the order asked, each recorded once', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const client = new IssuerClient({ url: issuer.url, agentToken: issuer.agentToken });
  const { run } = await client.startLeased({ organization: 'acme', workspace: ws }, 'plan');
  const asked = Array.from({ length: MAX_MINTS_PER_REQUEST + 3 }, (_, i) => ({
    phase: 'plan' as const,
    tag: `c${i}`,
    audience: `aud-${i}`,
  }));
  const before = await issuerRoutes();
  const minted = await client.mintAll(run.id, asked);
  const after = await issuerRoutes();
  const route = 'api POST /runs/:id/tokens 201';
  assert.equal((after.get(route) ?? 0) - (before.get(route) ?? 0), 2, 'two requests');
  assert.deepEqual(
    minted.map((t) => [t.tag, t.aud]),
    asked.map((a) => [a.tag, a.audience]),
  );
  const mints = await issuer.call('GET', `/runs/${run.id}/tokens`);
  const ids = (mints.json as { items: Array<{ id: string }> }).items.map((m) => m.id).sort();
  assert.deepEqual(ids, minted.map((t) => t.jti).sort());
  await client.cancelRun(run.id);
});

test('a run directory path that credential_process cannot carry stops the run before the command, with the files gone', async () => {
  const ws = await workspace({
    TFC_AWS_PROVIDER_AUTH_member: 'true',
    TFC_AWS_RUN_ROLE_ARN_member: ROLE,
  });
  const base = join(scratch, 'runs with space');
  const out = outFile();
  const { outcome } = await agent(ws, report(out), { runDirBase: base });
  assert.equal(outcome.error?.code, 'unsafe_path');
  assert.match(outcome.error?.problems[0] ?? '', /runs with space.*cannot carry/);
  assert.equal(outcome.exitCode, 1);
  assert.equal(existsSync(out), false, 'the command never ran');
  assert.deepEqual(await readdir(base), []);
  assert.equal((await issuer.run(outcome.runId ?? '')).status, 'failed');
});

test('a bad configuration stops the run before anything is minted and reports every problem', async () => {
  const ws = await workspace({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_PROVIDER_AUTH_TYPE: 'true',
    TFC_AWS_PROVIDER_AUTH_m: 'true',
    TFC_AWS_RUN_ROLE_ARN_m: 'arn:aws:iam::12:role/x',
  });
  const out = outFile();
  const { outcome } = await agent(ws, report(out));
  assert.ok(outcome.error instanceof AgentError);
  assert.equal(outcome.error.code, 'invalid_configuration');
  assert.equal(outcome.error.problems.length, 3);
  assert.equal(outcome.exitCode, 2);
  assert.equal(existsSync(out), false, 'the command never ran');
  const mints = await issuer.call('GET', `/runs/${outcome.runId}/tokens`);
  assert.deepEqual((mints.json as { items: unknown[] }).items, []);
  assert.equal((await issuer.run(outcome.runId ?? '')).status, 'failed');
});

test('the allowed-account guard fails fast: no command, files removed, run revoked and failed', async () => {
  const ws = await workspace({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: ROLE,
    GATEPASS_AWS_CHAIN_ROLE_ARN: MEMBER,
    GATEPASS_AWS_ALLOWED_ACCOUNT_IDS: '111122223333',
  });
  const out = outFile();
  const revokedBefore = sts.revoked.length;
  const { outcome } = await agent(ws, report(out));
  assert.equal(outcome.error?.code, 'account_not_allowed');
  assert.match(outcome.error?.problems[0] ?? '', /resolves to account 444455556666/);
  assert.equal(outcome.exitCode, 1);
  assert.equal(existsSync(out), false);
  assert.deepEqual(await readdir(runBase), []);
  assert.equal(sts.revoked.length, revokedBefore + 1);
  assert.equal((await issuer.run(outcome.runId ?? '')).status, 'failed');
});

test('the guard passes for an allowed account and the command runs', async () => {
  const ws = await workspace({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: ROLE,
    GATEPASS_AWS_ALLOWED_ACCOUNT_IDS: '111122223333',
  });
  const { outcome } = await agent(ws, report(outFile()));
  assert.equal(outcome.status, 'succeeded');
  assert.ok(sts.calls.some((c) => c.action === 'GetCallerIdentity' && c.caller === ROLE));
});

test('an STS refusal is a clear agent error naming the configuration and the AWS code', async () => {
  const denied = 'arn:aws:iam::111122223333:role/denied';
  sts.denied.add(denied);
  const ws = await workspace({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: denied,
    GATEPASS_AWS_ALLOWED_ACCOUNT_IDS: '111122223333',
  });
  const { outcome } = await agent(ws, report(outFile()));
  assert.equal(outcome.error?.code, 'sts_refused');
  assert.match(outcome.error?.problems[0] ?? '', /^default configuration: AccessDenied: /);
});

test('SIGTERM to the agent is relayed: the command dies by it, the agent reports 143 and cancels the run', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const ready = join(scratch, `ready-${n++}`);
  const script = `require('fs').writeFileSync(process.argv[1], 'x'); setInterval(() => {}, 1000);`;
  const running = agent(ws, [process.execPath, '-e', script, ready]);
  await untilExists(ready, running);
  process.kill(process.pid, 'SIGTERM');
  const { outcome } = await running;
  assert.equal(outcome.exitCode, 143);
  assert.equal(outcome.status, 'cancelled');
  assert.equal((await issuer.run(outcome.runId ?? '')).status, 'cancelled');
  assert.equal(outcome.revoked, true);
  assert.deepEqual(await readdir(runBase), []);
});

test('a command that handles SIGINT and exits 0 still leaves the run cancelled, with its own exit code', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const ready = join(scratch, `ready-${n++}`);
  const got = join(scratch, `got-${n++}`);
  const script = `const fs = require('fs');
process.on('SIGINT', () => { fs.writeFileSync(process.argv[2], 'SIGINT'); process.exit(0); });
fs.writeFileSync(process.argv[1], 'x'); setInterval(() => {}, 1000);`;
  const running = agent(ws, [process.execPath, '-e', script, ready, got]);
  await untilExists(ready, running);
  process.kill(process.pid, 'SIGINT');
  const { outcome } = await running;
  assert.equal(await readFile(got, 'utf8'), 'SIGINT');
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.status, 'cancelled');
});

test('a command that cannot be started exits 127 and fails the phase', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const { outcome, lines } = await agent(ws, [join(scratch, 'no-such-command')]);
  assert.equal(outcome.exitCode, 127);
  assert.equal(outcome.status, 'failed');
  assert.ok(lines.some((l) => l.includes('ENOENT')));
});

test("against AWS's own STS the SDK assumes from the token file; without a deny list the run is not revoked (AWS has no RevokeRun) and says so", async () => {
  const ws = await issuer.addWorkspace(`aws-${n++}`, {
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: ROLE,
  });
  const out = outFile();
  const { outcome, lines } = await agent(ws, report(out), { phase: 'plan' });
  assert.equal(outcome.status, 'succeeded');
  const seen = JSON.parse(await readFile(out, 'utf8')) as Report;
  assert.match(seen.token ?? '', JWT_SHAPE);
  assert.equal(seen.env.AWS_ROLE_ARN, ROLE);
  assert.equal(seen.env.AWS_ROLE_SESSION_NAME, `gatepass-${outcome.runId}-plan`);
  assert.equal(seen.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, undefined);
  assert.equal(seen.env.AWS_ENDPOINT_URL_STS, undefined);
  assert.match(seen.config, /^\[default\]\nrole_arn = arn:aws:iam::111122223333:role\/run\n/);
  assert.ok(!lines.join('\n').includes(seen.token ?? ''), 'the token never reaches the log');
  const failed = await agent(ws, report(outFile(), 1));
  assert.equal(failed.outcome.revoked, false);
  assert.ok(
    failed.lines.some((l) => l.startsWith("warn run revocation not possible: AWS's STS has no RevokeRun")),
  );
  assert.equal(failed.outcome.revocation?.method, 'none');
  assert.equal(outcome.revoked, false);
  assert.ok(lines.some((l) => l.startsWith("warn run revocation not possible: AWS's STS has no RevokeRun")));
});

test('--keep-files leaves the credential files (with a warning); the next phase removes them as stale', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  const { outcome, lines } = await agent(ws, report(outFile()), { keepFiles: true });
  const dir = join(runBase, outcome.runId ?? '');
  assert.ok(existsSync(join(dir, 'aws.config')));
  assert.ok(lines.some((l) => l.startsWith('warn --keep-files')));
  // The plan's agent process has exited by the time the apply starts (here it is this process).
  await rm(join(dir, 'agent.pid'));
  await writeFile(join(dir, 'agent.pid'), '999999');
  const apply = await agent(ws, report(outFile()), { phase: 'apply', runId: outcome.runId ?? '' });
  assert.equal(apply.outcome.status, 'succeeded');
  assert.equal(existsSync(dir), false);
});

test('an unexpected error after the run opened still cleans up and closes the run', async () => {
  const ws = await workspace({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: ROLE });
  // A run-dir base that is a regular file: creating the run directory fails with ENOTDIR.
  const notADir = join(scratch, `file-${n++}`);
  await writeFile(notADir, '');
  await assert.rejects(agent(ws, report(outFile()), { runDirBase: join(notADir, 'runs') }), /ENOTDIR/);
  const wsId = (await issuer.app.store.list('workspace')).find((w) => w.name === ws)?.id;
  const runs = (await issuer.app.store.list('run')).filter((r) => r.workspaceId === wsId);
  assert.deepEqual(
    runs.map((r) => r.status),
    ['failed'],
  );
});

test('stale run directories of dead agents are removed on start', async () => {
  const stale = join(runBase, 'run-dead-plan-abc');
  await mkdir(stale, { recursive: true });
  await writeFile(join(stale, 'agent.pid'), '999999');
  await writeFile(join(stale, 'aws.token'), 'old');
  const ws = await workspace({ TFC_WORKLOAD_IDENTITY_AUDIENCE: 'x.example' });
  const { outcome, lines } = await agent(ws, report(outFile()));
  assert.equal(outcome.status, 'succeeded');
  assert.equal(existsSync(stale), false);
  assert.ok(lines.some((l) => l.includes('removed 1 stale run directory')));
});

test('an unknown workspace or a bad agent token fails before anything else', async () => {
  await assert.rejects(agent('no-such-ws', report(outFile())), (e: unknown) => {
    assert.ok(e instanceof AgentError);
    assert.equal(e.code, 'issuer_refused');
    assert.match(e.problems[0] ?? '', /POST \/api\/v1\/runs → 400 invalid_field/);
    return true;
  });
  await assert.rejects(agent('networking', report(outFile()), { agentToken: 'gpat_wrong' }), (e: unknown) => {
    assert.ok(e instanceof AgentError);
    assert.match(e.problems[0] ?? '', /401 unauthorized/);
    assert.ok(!e.problems.join('').includes('gpat_wrong'));
    return true;
  });
  await assert.rejects(
    agent('networking', report(outFile()), { issuerUrl: 'http://127.0.0.1:1' }),
    (e: unknown) => {
      return e instanceof AgentError && e.code === 'issuer_unreachable';
    },
  );
});
