// The run agent's overhead: `gatepass run … -- true` against `true` and a bare `node -e 0`, on one
// machine with a real gatepass node (issuer over HTTPS with its local CA, STS/IAM mounted) on
// loopback. Each agent run is a full apply phase: open the run, read variables, mint two tokens,
// assume the role and serve the credentials on loopback, write the files, start `true`, delete the
// files, RevokeRun at the STS, close the run. The processes compared with each other (the CLIs and
// `node -e 0`) run in turns, one of each per round, so a machine that drifts moves them alike.
// Bounded: --runs N (default 20).
//   node --import tsx bench/agent/bench.ts [--runs 20] [--cli [--against FILE]] [--cpu-prof DIR]
// --cli measures only the installed CLI, its loading alone and `node -e 0` (the target's figures);
// --against FILE adds another build's CLI entry (e.g. the previous build's main.js) to the turns.
// --cpu-prof DIR measures nothing: it writes a V8 CPU profile of one `gatepass run` into DIR.
// Prints JSON lines: one per measured variant, with median, p90 and mean wall time in ms and, for
// spawned processes, the mean CPU time (user + system, of the process and the children it waited
// for), then one line with the target: the installed CLI's median minus `node -e 0`'s.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
import { removeTempDir } from '../../test/helpers/temp.js';
import { scratchDir } from '../lib/scratch.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = Math.min(200, Math.max(3, runsArg > 0 ? Number(process.argv[runsArg + 1] ?? '20') : 20));
const profileArg = process.argv.indexOf('--cpu-prof');
const PROFILE_DIR = profileArg > 0 ? process.argv[profileArg + 1] : undefined;
/** With --cpu-prof: one profile per run, of --runs runs when given (sampled every 100 µs). */
const PROFILE_RUNS = runsArg > 0 ? RUNS : 1;
/** --cli: only the installed CLI, its loading and `node -e 0`, in turns (the target's figures). */
const CLI_ONLY = process.argv.includes('--cli');
/** --against FILE (with --cli): another build's CLI entry (e.g. the previous one's), in the same turns. */
const againstArg = process.argv.indexOf('--against');
const AGAINST = againstArg > 0 ? process.argv[againstArg + 1] : undefined;
const root = new URL('../..', import.meta.url).pathname;

/**
 * CPU milliseconds (user + system) of the children this process has waited for, and their minor page
 * faults (each a fresh page of memory from the kernel), from /proc.
 */
function children(): { cpuMs: number; faults: number } {
  const text = readFileSync('/proc/self/stat', 'utf8');
  // After the name: state(0) … cminflt(8) … cutime(13) cstime(14), times in clock ticks (USER_HZ, 100).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { cpuMs: (Number(fields[13]) + Number(fields[14])) * 10, faults: Number(fields[8]) };
}

function spawnWait(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env, cwd: root });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

interface Variant {
  name: string;
  fn: () => Promise<void>;
  /** Report the CPU time of the children it waits for (a spawned process). */
  cpu?: boolean;
}

interface Figures {
  median_ms: number;
  p90_ms: number;
  mean_ms: number;
  cpu_mean_ms?: number;
  /** Minor page faults per run: on a VM where each costs ~15 µs, a large share of a process start. */
  page_faults_mean?: number;
}

const round = (x: number) => Math.round(x * 10) / 10;

/** Each variant once to warm up, then RUNS rounds of one run of each, in turn. */
async function measure(...variants: Variant[]): Promise<Map<string, Figures>> {
  for (const v of variants) await v.fn();
  const wall = variants.map(() => [] as number[]);
  const cpu = variants.map(() => [] as number[]);
  const faults = variants.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) {
    for (const [k, v] of variants.entries()) {
      const c = children();
      const t = performance.now();
      await v.fn();
      wall[k]?.push(performance.now() - t);
      const after = children();
      cpu[k]?.push(after.cpuMs - c.cpuMs);
      faults[k]?.push(after.faults - c.faults);
    }
  }
  const figures = new Map<string, Figures>();
  for (const [k, v] of variants.entries()) {
    const ms = (wall[k] ?? []).sort((a, b) => a - b);
    const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const f: Figures = { median_ms: round(at(0.5)), p90_ms: round(at(0.9)), mean_ms: round(mean(ms)) };
    if (v.cpu) {
      f.cpu_mean_ms = round(mean(cpu[k] ?? []));
      f.page_faults_mean = Math.round(mean(faults[k] ?? []));
    }
    figures.set(v.name, f);
    process.stdout.write(`${JSON.stringify({ name: v.name, runs: RUNS, ...f })}\n`);
  }
  return figures;
}

const dataDir = scratchDir('gatepass-bench-agent-');
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

  const cliEnv = {
    ...process.env,
    GATEPASS_AGENT_TOKEN: agentToken,
    GATEPASS_URL: url,
    GATEPASS_CA_FILE: caFile,
  };
  // Without an agent token the CLI loads everything `run` needs, then stops before the agent
  // starts (exit 2, a usage error): what loading costs, apart from the agent's work.
  const { GATEPASS_AGENT_TOKEN: _, ...noTokenEnv } = cliEnv;
  const cliRun = (
    script: string,
    name: string,
    env: NodeJS.ProcessEnv = cliEnv,
    expected = 0,
    nodeArgs: string[] = [],
  ): Variant => ({
    name,
    cpu: true,
    fn: async () => {
      const code = await spawnWait(
        process.execPath,
        [...nodeArgs, script, 'run', 'acme/networking', '--phase', 'apply', '--', 'true'],
        env,
      );
      if (code !== expected) throw new Error(`${name}: exit ${code}`);
    },
  });
  // What `npx gatepass` runs after `npm ci` (whose prepare step builds dist/): the package's bin,
  // the bundled CLI; and the per-module build of the same sources that it replaced.
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: { gatepass: string } };
  const bin = join(root, pkg.bin.gatepass);
  const modules = join(root, 'dist/src/cli/main.js');
  if (!existsSync(bin) || !existsSync(modules)) throw new Error('build first: npm run build');
  const nodeAnchor: Variant = {
    name: 'node -e 0 (startup only, for reference)',
    cpu: true,
    fn: async () => {
      await spawnWait(process.execPath, ['-e', '0']);
    },
  };
  const installed = 'gatepass run (installed CLI: bundle) apply -- true';
  const median = (figures: Map<string, Figures>, name: string) => figures.get(name)?.median_ms ?? Number.NaN;
  const target = (cli: Map<string, Figures>, extra: Record<string, number> = {}) => {
    const over = median(cli, installed) - median(cli, nodeAnchor.name);
    process.stdout.write(
      `${JSON.stringify({
        target: '`gatepass run -- true` <= `node -e 0` + 100 ms (medians, same rounds)',
        over_node_ms: round(over),
        met: over <= 100,
        ...extra,
      })}\n`,
    );
  };
  async function measureCli(): Promise<void> {
    const cli = await measure(
      cliRun(bin, installed),
      ...(AGAINST !== undefined ? [cliRun(AGAINST, `gatepass run (${AGAINST}) apply -- true`)] : []),
      cliRun(bin, 'gatepass run (bundle) loading only, no agent token', noTokenEnv, 2),
      nodeAnchor,
    );
    target(
      cli,
      AGAINST !== undefined
        ? {
            against_over_node_ms: round(
              median(cli, `gatepass run (${AGAINST}) apply -- true`) - median(cli, nodeAnchor.name),
            ),
          }
        : {},
    );
  }
  async function measureAll(): Promise<void> {
    let revoked = 0;
    const agent = await measure(
      {
        name: 'true',
        fn: async () => {
          await spawnWait('true', []);
        },
      },
      {
        name: 'runAgent (in-process) apply -- true',
        fn: async () => {
          if (await apply(['true'])) revoked++;
        },
      },
    );
    if (revoked === 0) throw new Error('runs were not revoked; the measurement would miss RevokeRun');

    // The command fetches the default configuration's credentials once, the way an SDK reading the
    // shared config file does (credential_process: a Node process asking the agent's endpoint).
    const fetchOnce = 'eval "$(sed -n "s/^credential_process = //p" "$AWS_CONFIG_FILE")" >/dev/null';
    await measure({
      name: 'runAgent (in-process) apply -- credential_process once',
      fn: async () => {
        await apply(['sh', '-ec', fetchOnce]);
      },
    });

    const cli = await measure(
      cliRun(bin, installed),
      cliRun(modules, 'gatepass run (per-module build, dist/src) apply -- true'),
      cliRun(bin, 'gatepass run (bundle) loading only, no agent token', noTokenEnv, 2),
      cliRun(modules, 'gatepass run (per-module build) loading only, no agent token', noTokenEnv, 2),
      nodeAnchor,
    );
    target(cli, { agent_in_process_ms: median(agent, 'runAgent (in-process) apply -- true') });

    // From source, as a developer starts it (slow: tsx transpiles on start), for reference.
    const main = join(root, 'src/cli/main.ts');
    await measure(
      {
        name: 'gatepass run (CLI via tsx) apply -- true',
        fn: async () => {
          const code = await spawnWait(
            process.execPath,
            ['--import', 'tsx', main, 'run', 'acme/networking', '--phase', 'apply', '--', 'true'],
            cliEnv,
          );
          if (code !== 0) throw new Error(`cli exit ${code}`);
        },
      },
      {
        name: 'node --import tsx (startup only, for reference)',
        fn: async () => {
          await spawnWait(process.execPath, ['--import', 'tsx', '-e', '0']);
        },
      },
    );
  }

  if (PROFILE_DIR !== undefined) {
    // One apply phase of the installed CLI under V8's CPU profiler, after one run to warm the caches.
    const profiled = (args: string[]) => cliRun(bin, 'profile', cliEnv, 0, args).fn();
    await profiled([]);
    for (let i = 0; i < PROFILE_RUNS; i++)
      await profiled(['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', PROFILE_DIR]);
    process.stdout.write(`${JSON.stringify({ profile: PROFILE_DIR })}\n`);
  } else if (CLI_ONLY) {
    await measureCli();
  } else {
    await measureAll();
  }
} finally {
  await app.stop();
  removeTempDir(dataDir);
}
