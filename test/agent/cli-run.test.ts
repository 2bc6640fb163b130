// `gatepass run` as a user runs it: the real CLI in a child process, a real issuer node and a test
// STS on loopback, `node -e` commands.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startTestSts, type TestSts } from './helpers/sts-server.js';

const root = new URL('../..', import.meta.url).pathname;
const main = join(root, 'src/cli/main.ts');
/** The installed executable (package.json's bin): `gatepass run` as CommonJS, built by `npm run build`. */
const installed = join(
  root,
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { gatepass: string } }).bin
    .gatepass,
);
const FROM_SOURCE = ['--import', 'tsx', main];
const ROLE = 'arn:aws:iam::111122223333:role/run';

let issuer: TestIssuer;
let sts: TestSts;
let scratch: string;
let ws: string;

before(async () => {
  [issuer, sts] = await Promise.all([startTestIssuer(), startTestSts()]);
  scratch = await mkdtemp(join(tmpdir(), 'gatepass-agent-cli-'));
  ws = await issuer.addWorkspace('cli', {
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: ROLE,
    GATEPASS_AWS_STS_ENDPOINT: sts.url,
  });
});
after(async () => {
  await Promise.all([issuer.stop(), sts.close()]);
  await rm(scratch, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TMPDIR: scratch, ...extra };
  for (const key of Object.keys(e)) if (key.startsWith('GATEPASS_') && !(key in extra)) delete e[key];
  return e;
}

/** Runs the CLI; `ready.onReady` fires once `ready.path` exists (for signals). */
function cli(
  args: string[],
  e: NodeJS.ProcessEnv,
  ready?: { path: string; onReady: (pid: number) => void },
  start: readonly string[] = FROM_SOURCE,
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...start, ...args], { cwd: root, env: e });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    let timer: NodeJS.Timeout | undefined;
    if (ready) {
      let tries = 0;
      timer = setInterval(() => {
        tries += 1;
        if (existsSync(ready.path)) {
          clearInterval(timer);
          ready.onReady(child.pid ?? 0);
        } else if (tries > 3000) clearInterval(timer);
      }, 20);
    }
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const agentEnv = () => env({ GATEPASS_AGENT_TOKEN: issuer.agentToken, GATEPASS_URL: issuer.url });

for (const [how, start] of [
  ['from source', FROM_SOURCE],
  ['from the installed executable', [installed]],
] as const) {
  test(`gatepass run ${how} exits with the command exit code and prints the run id on stderr, never the token`, async () => {
    const r = await cli(
      [
        'run',
        `acme/${ws}`,
        '--phase',
        'plan',
        '--',
        process.execPath,
        '-e',
        'console.log("hello from the run"); process.exit(7)',
      ],
      agentEnv(),
      undefined,
      start,
    );
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'hello from the run\n');
    assert.match(
      r.stderr,
      /gatepass: run run-\w+ plan phase started \(join the next phase with --run run-\w+\)/,
    );
    assert.match(r.stderr, /plan failed in [\d.]+s \(exit 7\)/);
    assert.ok(!r.stderr.includes(issuer.agentToken));
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(r.stderr), 'no JWT on stderr');
  });

  test(`plan then apply with --run ${how}: the same run, both phases succeed`, async () => {
    const plan = await cli(
      ['run', `acme/${ws}`, '--phase', 'plan', '--', process.execPath, '-e', ''],
      agentEnv(),
      undefined,
      start,
    );
    assert.equal(plan.code, 0, plan.stderr);
    const runId = /--run (run-\w+)/.exec(plan.stderr)?.[1] ?? '';
    const tokenFile = join(scratch, 'agent-token');
    await writeFile(tokenFile, `${issuer.agentToken}\n`);
    const e = env({ GATEPASS_URL: issuer.url });
    const apply = await cli(
      [
        'run',
        `acme/${ws}`,
        '--phase',
        'apply',
        '--run',
        runId,
        '--agent-token-file',
        tokenFile,
        '--',
        process.execPath,
        '-e',
        '',
      ],
      e,
      undefined,
      start,
    );
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stderr, new RegExp(`run ${runId} apply succeeded`));
    const run = await issuer.run(runId);
    assert.equal(run.status, 'succeeded');
  });

  test(`gatepass run ${how} whose log reader goes away still finishes the phase: files deleted, phase revoked, run closed`, async () => {
    const revokedBefore = sts.revoked.length;
    const child = spawn(
      process.execPath,
      [
        ...start,
        'run',
        `acme/${ws}`,
        '--phase',
        'apply',
        '--',
        process.execPath,
        '-e',
        'setTimeout(() => {}, 300)',
      ],
      { cwd: root, env: agentEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // The reader of gatepass's stderr (`… 2>&1 | head -1`) leaves after the first line.
    let first = '';
    child.stderr.once('data', (d: Buffer) => {
      first = d.toString();
      child.stderr.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 0);
    const runId = /run (run-\w+)/.exec(first)?.[1] ?? '';
    assert.ok(runId !== '', first);
    const run = await issuer.run(runId);
    assert.equal(run.status, 'succeeded', 'the agent closed the phase after its stderr closed');
    assert.equal(sts.revoked.length, revokedBefore + 1, 'and revoked the run at the STS');
  });

  test(`SIGTERM to gatepass run ${how} is relayed to the command: exit 143, run cancelled`, async () => {
    const ready = join(await mkdtemp(join(scratch, 'sigterm-')), 'ready');
    const script = `require('fs').writeFileSync(${JSON.stringify(ready)}, 'x'); setInterval(() => {}, 1000);`;
    const r = await cli(
      ['run', `acme/${ws}`, '--phase', 'plan', '--', process.execPath, '-e', script],
      agentEnv(),
      {
        path: ready,
        onReady: (pid) => process.kill(pid, 'SIGTERM'),
      },
      start,
    );
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /received SIGTERM/);
    const runId = /--run (run-\w+)/.exec(r.stderr)?.[1] ?? '';
    assert.equal((await issuer.run(runId)).status, 'cancelled');
  });
}

test('usage problems exit 2: no agent token, a malformed target, a missing phase', async () => {
  const noToken = await cli(
    ['run', `acme/${ws}`, '--phase', 'plan', '--', 'true'],
    env({ GATEPASS_URL: issuer.url }),
  );
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /An agent token is required/);
  const badTarget = await cli(['run', 'acme', '--phase', 'plan', '--', 'true'], agentEnv());
  assert.equal(badTarget.code, 2);
  assert.match(badTarget.stderr, /expected <organization>\/<workspace>/);
  const noPhase = await cli(['run', `acme/${ws}`, '--', 'true'], agentEnv());
  assert.equal(noPhase.code, 2);
});

test('run takes --server like every other command; the old --url and --token-file spellings still work, out of the help', async () => {
  const tokenFile = join(scratch, 'agent-token-aliases');
  await writeFile(tokenFile, `${issuer.agentToken}\n`);
  const nothing = [process.execPath, '-e', ''];
  const server = await cli(
    [
      'run',
      `acme/${ws}`,
      '--phase',
      'plan',
      '--server',
      issuer.url,
      '--agent-token-file',
      tokenFile,
      '--',
      ...nothing,
    ],
    env(),
  );
  assert.equal(server.code, 0, server.stderr);
  const old = await cli(
    [
      'run',
      `acme/${ws}`,
      '--phase',
      'plan',
      '--url',
      issuer.url,
      '--token-file',
      tokenFile,
      '--',
      ...nothing,
    ],
    env(),
  );
  assert.equal(old.code, 0, old.stderr);
  // GATEPASS_SERVER, as the other commands read it, names the node too.
  const fromEnv = await cli(
    ['run', `acme/${ws}`, '--phase', 'plan', '--', ...nothing],
    env({ GATEPASS_AGENT_TOKEN: issuer.agentToken, GATEPASS_SERVER: issuer.url }),
  );
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  const help = await cli(['run', '--help'], env());
  assert.match(help.stdout, /--server <url>/);
  assert.doesNotMatch(help.stdout, /--url|--token-file/);
});
