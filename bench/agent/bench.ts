// The run agent's overhead: `gatepass run … -- true` against `true`, on one machine with a real
// gatepass node (issuer over HTTPS with its local CA, STS/IAM mounted) on loopback. Each agent run
// is a full apply phase: open the run, read variables, mint two tokens, assume the role and serve
// the credentials on loopback, write the files, start `true`, delete the files, RevokeRun at the
// STS, close the run. Bounded: --runs N (default 20).
//   node --import tsx bench/agent/bench.ts [--runs 20]
// Prints JSON lines: one per measured variant, with median, p90 and mean wall time in ms.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send } from '../../src/agent/http-client.js';
import { runAgent } from '../../src/agent/run.js';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { thumbprintOf } from '../../src/issuer/local-ca.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { startServer } from '../../src/server/app.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = Math.min(200, Math.max(3, runsArg > 0 ? Number(process.argv[runsArg + 1] ?? '20') : 20));
const root = new URL('../..', import.meta.url).pathname;

function spawnWait(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env, cwd: root });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function measure(name: string, fn: () => Promise<void>): Promise<void> {
  await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  const round = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({
      name,
      runs: RUNS,
      median_ms: round(at(0.5)),
      p90_ms: round(at(0.9)),
      mean_ms: round(ms.reduce((a, b) => a + b, 0) / ms.length),
    })}\n`,
  );
}

const dataDir = await mkdtemp(join(tmpdir(), 'gatepass-bench-agent-'));
const app = await startServer(
  resolveConfig({ env: {}, flags: { port: 0, dataDir, logLevel: 'error', tlsAutoHost: '127.0.0.1' } }),
  { log: createJsonLogger({ level: 'error', stream: { write: () => true } }) },
);
try {
  const url = app.address.url;
  const caFile = join(dataDir, 'tls', 'ca.pem');
  const caPem = await readFile(caFile, 'utf8');
  const [account] = await app.store.list('account');
  const hub = account?.id ?? '';
  // The OIDC provider is what RevokeRun verifies the run's token against.
  const spec = parseSetup(
    JSON.stringify({
      accounts: [
        {
          name: 'hub',
          id: hub,
          oidcProviders: [{ url, clientIds: ['aws.workload.identity'], thumbprints: [thumbprintOf(caPem)] }],
          // The agent assumes the role itself before the command (it serves the credentials).
          roles: [
            {
              name: 'run',
              trustPolicy: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: {
                      Federated: `arn:aws:iam::${hub}:oidc-provider/${url.replace(/^https:\/\//, '')}`,
                    },
                    Action: 'sts:AssumeRoleWithWebIdentity',
                    Condition: {
                      StringEquals: {
                        [`${url.replace(/^https:\/\//, '')}:aud`]: 'aws.workload.identity',
                        [`${url.replace(/^https:\/\//, '')}:sub`]:
                          'organization:acme:project:Default Project:workspace:networking:run_phase:apply',
                      },
                    },
                  },
                ],
              },
            },
          ],
        },
      ],
    }),
    'bench.json',
  );
  await applySetup(app.store, spec, { random: cryptoRandom, clock: systemClock }, { file: 'bench.json' });
  await app.services.cloud?.sync();

  const admin = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const api = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const text = JSON.stringify(body);
    const res = await send(
      new URL(`${url}/api/v1${path}`),
      {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: text,
      },
      { ca: [caPem] },
    );
    if (res.status >= 300) throw new Error(`${path} → ${res.status}`);
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  };
  await api('/orgs', { name: 'acme' });
  const ws = await api('/orgs/acme/workspaces', { name: 'networking' });
  const vars = {
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: `arn:aws:iam::${hub}:role/run`,
    TFC_WORKLOAD_IDENTITY_AUDIENCE: 'vault.workload.identity',
    GATEPASS_AWS_STS_ENDPOINT: url,
  };
  for (const [key, value] of Object.entries(vars)) {
    await api(`/workspaces/${String(ws.id)}/vars`, { key, value, category: 'env' });
  }
  const agentToken = String((await api('/orgs/acme/agent-tokens', { description: 'bench' })).token);

  await measure('true', async () => {
    await spawnWait('true', []);
  });

  /** One apply phase of the agent, in-process, with `command`; resolves whether it was revoked. */
  const apply = async (command: string[]): Promise<boolean> => {
    const outcome = await runAgent({
      organization: 'acme',
      workspace: 'networking',
      phase: 'apply',
      issuerUrl: url,
      agentToken,
      refresh: false,
      keepFiles: false,
      command,
      env: { PATH: process.env.PATH },
      cwd: root,
      log: { info: () => {}, warn: () => {} },
      clock: systemClock,
      random: cryptoRandom,
      interactive: false,
      http: { ca: [caPem] },
      stdio: 'ignore',
    });
    if (outcome.exitCode !== 0) throw new Error(`agent exit ${outcome.exitCode} for ${command.join(' ')}`);
    return outcome.revoked;
  };

  let revoked = 0;
  await measure('runAgent (in-process) apply -- true', async () => {
    if (await apply(['true'])) revoked++;
  });
  if (revoked === 0) throw new Error('runs were not revoked; the measurement would miss RevokeRun');

  // The command fetches the default configuration's credentials once, the way an SDK reading the
  // shared config file does (credential_process: a Node process asking the agent's endpoint).
  const fetchOnce = 'eval "$(sed -n "s/^credential_process = //p" "$AWS_CONFIG_FILE")" >/dev/null';
  await measure('runAgent (in-process) apply -- credential_process once', async () => {
    await apply(['sh', '-ec', fetchOnce]);
  });

  const cliEnv = {
    ...process.env,
    GATEPASS_AGENT_TOKEN: agentToken,
    GATEPASS_URL: url,
    GATEPASS_CA_FILE: caFile,
  };
  const main = join(root, 'src/cli/main.ts');
  await measure('gatepass run (CLI via tsx) apply -- true', async () => {
    const code = await spawnWait(
      process.execPath,
      ['--import', 'tsx', main, 'run', 'acme/networking', '--phase', 'apply', '--', 'true'],
      cliEnv,
    );
    if (code !== 0) throw new Error(`cli exit ${code}`);
  });
  // What `npx gatepass` runs after `npm ci` (whose prepare step builds dist/).
  const built = join(root, 'dist/src/cli/main.js');
  if (!existsSync(built)) throw new Error('build first: npm run build');
  await measure('gatepass run (built CLI) apply -- true', async () => {
    const code = await spawnWait(
      process.execPath,
      [built, 'run', 'acme/networking', '--phase', 'apply', '--', 'true'],
      cliEnv,
    );
    if (code !== 0) throw new Error(`cli exit ${code}`);
  });
  await measure('node -e 0 (startup only, for reference)', async () => {
    await spawnWait(process.execPath, ['-e', '0']);
  });
  await measure('node --import tsx (startup only, for reference)', async () => {
    await spawnWait(process.execPath, ['--import', 'tsx', '-e', '0']);
  });
} finally {
  await app.stop();
  await rm(dataDir, { recursive: true, force: true });
}
