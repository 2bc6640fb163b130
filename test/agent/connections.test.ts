// The agent's connections: a phase's requests share one keep-alive connection per origin, the
// connections runAgent opened are closed when it returns, the CLI exits with idle connections still
// open, and a server that stops answering still ends in a timed-out error with the run revoked.
// Between the agent and each server sits a TCP relay that counts connections and never closes one
// itself (so only the agent can), and can stop passing bytes (a server that stops answering).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AgentError } from '../../src/agent/errors.js';
import { type AgentOptions, runAgent } from '../../src/agent/run.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { startTestSts, type TestSts } from './helpers/sts-server.js';

const root = new URL('../..', import.meta.url).pathname;
const ROLE = 'arn:aws:iam::111122223333:role/run';

interface Relay {
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Connections the client (the agent) has not closed yet. */
  open: number;
  /** From now on, pass no byte either way: the server seems to stop answering. */
  stall(): void;
  /** Resolves once every accepted connection has been closed by the client. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

async function startRelay(target: string): Promise<Relay> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let stalled = false;
  let waiters: (() => void)[] = [];
  const server: Server = createServer((client) => {
    relay.connections += 1;
    relay.open += 1;
    const up = connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(up);
    client.on('data', (d) => {
      if (!stalled) up.write(d);
    });
    up.on('data', (d) => {
      if (!stalled) client.write(d);
    });
    // The server's own keep-alive timeout is not passed on: only the agent closes a connection.
    up.on('error', () => undefined);
    up.on('end', () => undefined);
    client.on('error', () => undefined);
    client.on('close', () => {
      relay.open -= 1;
      up.destroy();
      if (relay.open === 0) for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const relay: Relay = {
    url: `${upstream.protocol}//127.0.0.1:${port}`,
    connections: 0,
    open: 0,
    stall: () => {
      stalled = true;
    },
    allClosed: () =>
      relay.open === 0
        ? Promise.resolve()
        : new Promise((resolve) => {
            waiters.push(resolve);
          }),
    close: () => {
      for (const s of sockets) s.destroy();
      waiters = [];
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return relay;
}

/** Fails with `what` if `p` has not settled within `ms` (a liveness bound, not a measurement). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

let issuer: TestIssuer;
let sts: TestSts;
let scratch: string;
let n = 0;

before(async () => {
  [issuer, sts] = await Promise.all([startTestIssuer(), startTestSts()]);
  scratch = await mkdtemp(join(tmpdir(), 'gatepass-agent-conn-'));
});
after(async () => {
  await Promise.all([issuer.stop(), sts.close()]);
  await rm(scratch, { recursive: true, force: true });
});

/** Relays to the issuer and the STS, and a workspace whose STS is reached through its relay. */
async function withRelays(
  body: (r: { toIssuer: Relay; toSts: Relay; ws: string }) => Promise<void>,
): Promise<void> {
  const [toIssuer, toSts] = await Promise.all([startRelay(issuer.url), startRelay(sts.url)]);
  try {
    await body({ toIssuer, toSts, ws: await workspace(toSts.url) });
  } finally {
    await Promise.all([toIssuer.close(), toSts.close()]);
  }
}

/** A workspace whose phases mint two tokens (the AWS configuration and a generic one). */
async function workspace(stsUrl: string): Promise<string> {
  return issuer.addWorkspace(`conn-${n++}`, {
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: ROLE,
    TFC_WORKLOAD_IDENTITY_AUDIENCE: 'vault.workload.identity',
    GATEPASS_AWS_STS_ENDPOINT: stsUrl,
  });
}

function options(ws: string, issuerUrl: string, command: string[], extra: Partial<AgentOptions> = {}) {
  const lines: string[] = [];
  const o: AgentOptions = {
    organization: 'acme',
    workspace: ws,
    phase: 'apply',
    issuerUrl,
    agentToken: issuer.agentToken,
    refresh: false,
    keepFiles: false,
    command,
    env: { PATH: process.env.PATH },
    cwd: scratch,
    log: { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) },
    clock: systemClock,
    random: cryptoRandom,
    interactive: false,
    runDirBase: join(scratch, 'runs'),
    stdio: 'ignore',
    ...extra,
  };
  return { o, lines };
}

test("a phase's requests share one connection per origin: open, lease, variables, both mints and finish on one to the issuer; AssumeRole and RevokeRun on one to the STS", async () => {
  await withRelays(async ({ toIssuer, toSts, ws }) => {
    const before = sts.calls.length;
    const { o, lines } = options(ws, toIssuer.url, ['true']);
    const outcome = await runAgent(o);
    assert.equal(outcome.exitCode, 0, lines.join('\n'));
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.revoked, true);
    assert.ok(
      lines.some((l) => l.includes('TFC_WORKLOAD_IDENTITY_TOKEN')),
      'the generic token was minted',
    );
    const actions = sts.calls.slice(before).map((c) => c.action);
    assert.deepEqual(actions, ['AssumeRoleWithWebIdentity', 'RevokeRun']);
    assert.equal(toIssuer.connections, 1, 'one connection to the issuer');
    assert.equal(toSts.connections, 1, 'one connection to the STS');
  });
});

test('when runAgent returns, the agent has closed the connections it opened (nothing idle is left behind)', async () => {
  await withRelays(async ({ toIssuer, toSts, ws }) => {
    const { o, lines } = options(ws, toIssuer.url, ['true']);
    const outcome = await runAgent(o);
    assert.equal(outcome.exitCode, 0, lines.join('\n'));
    // The relays never close a connection, and the servers' keep-alive closes are not passed on.
    await within(
      Promise.all([toIssuer.allClosed(), toSts.allClosed()]),
      20_000,
      'the agent left its connections open',
    );
    assert.equal(toIssuer.open + toSts.open, 0);
  });
});

test('gatepass run exits as soon as the phase is closed, its idle keep-alive connections still open (they do not hold the process)', async () => {
  await withRelays(async ({ toIssuer, toSts, ws }) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TMPDIR: scratch };
    for (const key of Object.keys(env)) if (key.startsWith('GATEPASS_')) delete env[key];
    env.GATEPASS_AGENT_TOKEN = issuer.agentToken;
    env.GATEPASS_URL = toIssuer.url;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'src/cli/main.ts'),
        'run',
        `acme/${ws}`,
        '--phase',
        'apply',
        '--',
        'true',
      ],
      { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await within(
      new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c))),
      60_000,
      'gatepass run did not exit while its idle connections stayed open',
    );
    assert.equal(code, 0, stderr);
    assert.match(stderr, /apply succeeded/);
    assert.equal(toIssuer.connections, 1);
    assert.equal(toSts.connections, 1);
  });
});

test('an issuer that stops answering from the start: the run fails with issuer_unreachable (timed out), nothing minted', async () => {
  const toIssuer = await startRelay(issuer.url);
  try {
    const ws = await workspace(sts.url);
    toIssuer.stall();
    const { o } = options(ws, toIssuer.url, ['true'], { http: { timeoutMs: 500 } });
    await assert.rejects(runAgent(o), (e: unknown) => {
      assert.ok(e instanceof AgentError);
      assert.equal(e.code, 'issuer_unreachable');
      assert.match(e.problems.join('\n'), /timed out/);
      return true;
    });
  } finally {
    await toIssuer.close();
  }
});

test('an issuer that stops answering while the command runs: the phase is still revoked at the STS, and closing it at the issuer times out with a warning', async () => {
  const toIssuer = await startRelay(issuer.url);
  try {
    const ws = await workspace(sts.url);
    const started = join(scratch, `started-${n}`);
    const go = join(scratch, `go-${n++}`);
    // The command says it started, then waits until the issuer has stopped answering.
    const script = `
      const fs = require('fs');
      fs.writeFileSync(process.argv[1], '');
      const nap = new Int32Array(new SharedArrayBuffer(4));
      while (!fs.existsSync(process.argv[2])) Atomics.wait(nap, 0, 0, 20);
    `;
    const revokedBefore = sts.revoked.length;
    const { o, lines } = options(ws, toIssuer.url, [process.execPath, '-e', script, started, go], {
      http: { timeoutMs: 500 },
    });
    const running = runAgent(o);
    await within(
      (async () => {
        while (!existsSync(started)) await new Promise((r) => setTimeout(r, 20));
      })(),
      30_000,
      'the command never started',
    );
    toIssuer.stall();
    await writeFile(go, '');
    const outcome = await running;
    assert.equal(outcome.exitCode, 0, lines.join('\n'));
    assert.equal(outcome.revoked, true);
    assert.equal(sts.revoked.length, revokedBefore + 1, 'RevokeRun reached the STS');
    assert.ok(
      lines.some((l) => /^warn could not close the apply phase at the issuer: .*timed out/.test(l)),
      lines.join('\n'),
    );
  } finally {
    await toIssuer.close();
  }
});
