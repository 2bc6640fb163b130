// `gatepass demo`: the whole flow on this machine with the real parts. A node on SQLite with HTTPS
// (local CA) on loopback; the hub-and-spoke example applied to its cloud side; an organization,
// project and workspace with the TFC_AWS_* variables; then a plan and an apply of examples/terraform
// through the agent, whose command shows who the run is in each account, a write denied in the plan
// and allowed in the apply; after each phase, what the issuer recorded of its token (the command
// never holds it); finally the run's credentials, rejected after the run. Every step is idempotent, so the data directory can be demoed again or served afterwards.
import { createWriteStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAgent } from '../../agent/run.js';
import { StsClient, StsError } from '../../agent/sts-client.js';
import { bootstrapAccounts } from '../../cloud/offline/bootstrap.js';
import { applySetup } from '../../cloud/setup/apply.js';
import { parseSetup } from '../../cloud/setup/schema.js';
import { thumbprintOf } from '../../issuer/local-ca.js';
import { systemClock } from '../../runtime/clock.js';
import { cryptoRandom } from '../../runtime/random.js';
import { type App, startServer } from '../../server/app.js';
import { CREDENTIALS_FILE } from '../../server/cloud-mount.js';
import { resolveConfig } from '../../server/config.js';
import { createJsonLogger } from '../../server/log.js';
import { createClient } from '../lib/issuer-client.js';
import type { Output } from '../lib/output.js';
import type { ChildInput } from './child.js';
import { createNarrator, type Narrator } from './narrate.js';
import { ensureDemoPlatform, workspaceVariables } from './platform.js';
import { chooseTerraform, cliConfig, type TerraformSetup } from './terraform.js';

export const DEMO_HOST = '127.0.0.1';
export const DEMO_ORG = 'acme';
export const DEMO_PROJECT = 'Infra';
export const DEMO_WORKSPACE = 'networking';
const STEPS = 6;
/** The apply phase's member session, kept (0600) only for the after-run check. */
const SESSION_FILE = 'run-session.json';
/** The request id of the write the plan phase was denied. */
const DENIED_FILE = 'denied-request';

export interface DemoOptions {
  dataDir: string;
  port: number;
  terraformMirror?: string;
  noTerraform: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

/** A demo step whose outcome was not the expected one (exit 1, with the reason). */
export class DemoError extends Error {
  override readonly name = 'DemoError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The gatepass checkout or package this module runs from (it holds examples/). */
export function packageRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new DemoError('cannot find the examples/ folder: run the demo from a gatepass checkout');
}

/** argv that runs the demo's child module with this Node (through tsx when running from source). */
function childCommand(inputFile: string): string[] {
  const self = fileURLToPath(import.meta.url);
  if (self.endsWith('.ts')) {
    return [
      process.execPath,
      '--import',
      import.meta.resolve('tsx'),
      join(self, '..', 'child.ts'),
      inputFile,
    ];
  }
  return [process.execPath, join(self, '..', 'child.js'), inputFile];
}

interface Context {
  out: Output;
  say: Narrator;
  options: DemoOptions;
  dataDir: string;
  work: string;
  app: App;
  url: string;
  caFile: string;
  caPem: string;
}

export async function runDemo(options: DemoOptions, out: Output): Promise<void> {
  const started = systemClock.now();
  const say = createNarrator(out, STEPS);
  const root = packageRoot();
  const dataDir = resolve(options.dataDir);
  const work = join(dataDir, 'demo');
  await mkdir(work, { recursive: true, mode: 0o700 });
  const shown = relative(process.cwd(), dataDir) || '.';
  out.line(`gatepass demo: issuer, cloud side and agent on this machine; state in ${shown}/`);

  say.step('Starting gatepass: SQLite store, HTTPS on loopback with a local CA …');
  const app = await startNode(dataDir, work, options.port);
  try {
    const url = app.address.url;
    const caFile = join(dataDir, 'tls', 'ca.pem');
    const caPem = await readFile(caFile, 'utf8');
    say.detail(`listening on ${url} (issuer and AWS endpoint); CA ${relative(process.cwd(), caFile)}`, 'ok');
    const ctx: Context = { out, say, options, dataDir, work, app, url, caFile, caPem };

    const accounts = await applyHubAndSpoke(ctx, root);
    const agentToken = await setUpPlatform(ctx, accounts);
    const tf = await prepareTerraform(ctx, root);
    const runId = await runPhases(ctx, accounts, agentToken, tf);
    await checkAfterRun(ctx);
    const seconds = ((systemClock.now() - started) / 1000).toFixed(1);
    out.line();
    out.success(`Done in ${seconds}s: run ${runId} planned, applied and revoked.`);
    const denied = await readFile(join(work, DENIED_FILE), 'utf8').catch(() => undefined);
    nextSteps(out, shown, options.port, accounts, denied?.trim());
  } finally {
    // The kept session never outlives the demo, whatever step failed.
    await rm(join(work, SESSION_FILE), { force: true });
    await app.stop();
  }
}

async function startNode(dataDir: string, work: string, port: number): Promise<App> {
  const config = resolveConfig({
    // The demo is the embedded default on purpose: GATEPASS_* settings of the shell do not apply.
    env: {},
    flags: { dataDir, port, tlsAutoHost: DEMO_HOST, logLevel: 'info' },
  });
  const stream = createWriteStream(join(work, 'server.log'), { flags: 'a', mode: 0o600 });
  try {
    return await startServer(config, { log: createJsonLogger({ level: 'info', stream }) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new DemoError(`port ${port} on ${DEMO_HOST} is in use`, [
        'stop what listens there (a `gatepass serve` on this data directory?), or pass --port',
      ]);
    throw err;
  }
}

export interface DemoAccounts {
  hub: string;
  dev: string;
  prod: string;
}

async function applyHubAndSpoke(ctx: Context, root: string): Promise<DemoAccounts> {
  const file = join(root, 'examples', 'hub-and-spoke', 'setup.yaml');
  ctx.say.step(`Applying the hub-and-spoke setup (${relative(root, file)}) …`);
  const host = ctx.url.replace(/^https:\/\//, '');
  const spec = parseSetup(await readFile(file, 'utf8'), file, {
    GATEPASS_ISSUER_URL: ctx.app.issuerUrl,
    GATEPASS_ISSUER_HOST: host,
    GATEPASS_ISSUER_THUMBPRINT: thumbprintOf(ctx.caPem),
  });
  const result = await applySetup(
    ctx.app.store,
    spec,
    { random: cryptoRandom, clock: systemClock },
    { file: relative(root, file) },
  );
  const { cloud } = ctx.app.services;
  await cloud.sync();
  // New accounts get their bootstrap administrator, as `gatepass apply` gives them.
  const credentialsFile = join(ctx.dataDir, CREDENTIALS_FILE);
  await bootstrapAccounts(ctx.app.store, cloud.iamDeps, { credentialsFile });
  const id = (name: string): string => {
    const found = result.accounts.find((a) => a.name === name)?.id;
    if (found === undefined) throw new DemoError(`the setup has no account ${name}`);
    return found;
  };
  const accounts = { hub: id('hub'), dev: id('dev'), prod: id('prod') };
  const changed = result.changes.filter((c) => c.op !== 'unchanged').length;
  ctx.say.detail(
    `organization: management account ${id('management')}; OU tooling (hub), OU workloads (dev, prod); SCP hub-chaining-only on tooling`,
  );
  ctx.say.detail(
    `hub  ${accounts.hub}: OIDC provider ${ctx.app.issuerUrl}; roles runs/tfc-plan, runs/tfc-apply`,
  );
  for (const name of ['dev', 'prod'] as const)
    ctx.say.detail(
      `${name.padEnd(4)} ${accounts[name]}: roles terraform-plan (read), terraform-apply (write), trusting only the hub roles`,
    );
  ctx.say.detail(
    `${changed} of ${result.changes.length} entities changed (the rest were already there)`,
    'ok',
  );
  return accounts;
}

async function setUpPlatform(ctx: Context, accounts: DemoAccounts): Promise<string> {
  ctx.say.step(`Creating organization ${DEMO_ORG}, project ${DEMO_PROJECT}, workspace ${DEMO_WORKSPACE} …`);
  const admin = (await readFile(join(ctx.dataDir, 'admin-token'), 'utf8')).trim();
  const client = createClient({ server: ctx.url, token: admin, ca: ctx.caFile }, {});
  const vars = workspaceVariables(accounts, ctx.url);
  const result = await ensureDemoPlatform(client, {
    org: DEMO_ORG,
    project: DEMO_PROJECT,
    workspace: DEMO_WORKSPACE,
    variables: vars,
    agentTokenFile: join(ctx.work, 'agent-token'),
  });
  const width = Math.max(...Object.keys(vars).map((k) => k.length));
  ctx.say.detail(
    'workspace variables (environment), as HCP Terraform names them plus gatepass chain targets:',
  );
  for (const [key, value] of Object.entries(vars)) ctx.say.detail(`  ${key.padEnd(width)}  ${value}`);
  ctx.say.detail(
    `${result.created.length ? `set up ${result.created.join(', ')}` : 'everything was already there'}; agent token in ${relative(process.cwd(), join(ctx.work, 'agent-token'))}`,
    'ok',
  );
  return result.agentToken;
}

/** Terraform's working directory when Terraform is usable, else why not. */
async function prepareTerraform(ctx: Context, root: string): Promise<ChildInput['terraform'] | string> {
  const choice = chooseTerraform(ctx.options.env, {
    ...(ctx.options.terraformMirror !== undefined ? { mirror: ctx.options.terraformMirror } : {}),
    disabled: ctx.options.noTerraform,
  });
  if ('skip' in choice) return `Terraform not used (${choice.skip}): a JS SDK script makes the same calls`;
  return terraformDir(ctx, root, choice.use);
}

async function terraformDir(
  ctx: Context,
  root: string,
  tf: TerraformSetup,
): Promise<ChildInput['terraform']> {
  const dir = join(ctx.work, 'terraform');
  await mkdir(dir, { recursive: true });
  // The example as shipped, copied each time so edits to it are picked up; state stays here.
  await copyFile(join(root, 'examples', 'terraform', 'main.tf'), join(dir, 'main.tf'));
  const cliConfigFile = join(ctx.work, 'terraformrc');
  await writeFile(cliConfigFile, cliConfig(tf.mirror));
  const logFile = join(ctx.work, 'terraform.log');
  await writeFile(logFile, '');
  return { binary: tf.binary, dir, logFile, cliConfig: cliConfigFile };
}

const credentialsOut = (ctx: Context): string => join(ctx.work, SESSION_FILE);

async function runPhases(
  ctx: Context,
  accounts: DemoAccounts,
  agentToken: string,
  prepared: ChildInput['terraform'] | string,
): Promise<string> {
  const tf = typeof prepared === 'string' ? undefined : prepared;
  const what = tf ? 'terraform' : 'a JS SDK script';
  let runId: string | undefined;
  for (const phase of ['plan', 'apply'] as const) {
    const verb = phase === 'plan' ? 'plan -out=tfplan' : 'apply tfplan';
    ctx.say.step(
      `${phase === 'plan' ? 'Plan' : 'Apply'} phase: gatepass run ${DEMO_ORG}/${DEMO_WORKSPACE} --phase ${phase}${runId ? ` --run ${runId}` : ''} -- ${tf ? `terraform ${verb}` : what} …`,
    );
    if (typeof prepared === 'string' && phase === 'plan') ctx.say.detail(prepared);
    const input: ChildInput = {
      phase,
      accounts: [
        { name: 'hub', id: accounts.hub, tag: '' },
        { name: 'dev', id: accounts.dev, tag: 'member' },
        { name: 'prod', id: accounts.prod, tag: 'prod' },
      ],
      probeTag: 'member',
      ...(phase === 'apply'
        ? { credentialsOut: credentialsOut(ctx) }
        : { deniedRequestOut: join(ctx.work, DENIED_FILE) }),
      ...(tf ? { terraform: tf } : {}),
    };
    const inputFile = join(ctx.work, `${phase}-input.json`);
    await writeFile(inputFile, JSON.stringify(input));
    const outcome = await runAgent({
      organization: DEMO_ORG,
      workspace: DEMO_WORKSPACE,
      phase,
      ...(runId !== undefined ? { runId } : {}),
      issuerUrl: ctx.url,
      agentToken,
      refresh: false,
      keepFiles: false,
      command: childCommand(inputFile),
      env: {
        // The run's clients trust the local CA because the agent does (http.ca, as --ca does).
        ...ctx.options.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      cwd: ctx.work,
      log: {
        info: (m) => ctx.say.aside(`gatepass run: ${m}`),
        warn: (m) => ctx.say.aside(`gatepass run: ${m}`),
      },
      clock: systemClock,
      random: cryptoRandom,
      interactive: process.stdin.isTTY === true,
      http: { ca: [ctx.caPem] },
    });
    runId = outcome.runId;
    if (outcome.exitCode !== 0 || outcome.status !== 'succeeded') {
      const problems = outcome.error ? [outcome.error.message, ...outcome.error.problems] : [];
      throw new DemoError(`the ${phase} phase did not succeed (exit ${outcome.exitCode})`, problems);
    }
    await showTokenRecord(ctx, runId ?? '', phase);
    if (phase === 'apply' && !outcome.revoked) throw new DemoError('the run was not revoked at the STS');
  }
  return runId ?? '';
}

/** The phase's default token as the issuer recorded it: the agent exchanged it, the command never held it. */
async function showTokenRecord(ctx: Context, runId: string, phase: 'plan' | 'apply'): Promise<void> {
  const mints = await ctx.app.store.list('mint', { index: { name: 'run', value: runId } });
  const mint = mints.find((m) => m.phase === phase && m.tag === '');
  if (!mint) return;
  const time = (s: number) => `${s} (${new Date(s * 1000).toISOString()})`;
  const rows: Array<[string, string]> = [
    ['sub', mint.sub],
    ['aud', mint.aud],
    ['jti', mint.id],
    ['kid', mint.kid],
    ['iat', time(mint.iat)],
    ['exp', time(mint.exp)],
  ];
  ctx.say.detail(
    `the ${phase} token, as the issuer recorded it (the agent exchanged it; the command never held it):`,
  );
  for (const [key, value] of rows) ctx.say.detail(`  ${key.padEnd(3)}  ${value}`);
}

async function checkAfterRun(ctx: Context): Promise<void> {
  ctx.say.step("After the run: using the run's credentials again …");
  const file = credentialsOut(ctx);
  let session: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  try {
    session = JSON.parse(await readFile(file, 'utf8')) as typeof session;
  } finally {
    await rm(file, { force: true });
  }
  const sts = new StsClient({
    region: 'us-east-1',
    clock: systemClock,
    endpoint: ctx.url,
    http: { ca: [ctx.caPem] },
  });
  try {
    const who = await sts.getCallerIdentity(session);
    throw new DemoError(`the run's session still works after the run (${who.arn})`);
  } catch (err) {
    if (!(err instanceof StsError)) throw err;
    ctx.say.detail(
      `sts:GetCallerIdentity with the apply session of dev (${session.accessKeyId}) → ${err.code}: the run was revoked`,
      'ok',
    );
  }
}

function nextSteps(
  out: Output,
  dir: string,
  port: number,
  accounts: DemoAccounts,
  deniedRequest: string | undefined,
): void {
  const url = `https://${DEMO_HOST}:${port}`;
  out.line();
  out.line('What to try next:');
  out.line(`  # keep using this data directory (same port, so the tokens' issuer stays the same):`);
  out.line(`  npx gatepass serve --data-dir ${dir} --tls-auto-host ${DEMO_HOST} --port ${port}`);
  out.line(`  # in another shell: the platform API and a run of your own`);
  out.line(
    `  export GATEPASS_SERVER=${url} GATEPASS_CA_FILE=${dir}/tls/ca.pem AWS_CA_BUNDLE=${dir}/tls/ca.pem GATEPASS_DATA_DIR=${dir}`,
  );
  out.line(`  npx gatepass var list ${DEMO_ORG}/${DEMO_WORKSPACE}`);
  // Only an id that is safe to paste into a shell line and a URL.
  const denied = deniedRequest !== undefined && /^[\w-]+$/.test(deniedRequest) ? deniedRequest : undefined;
  if (denied) out.line(`  npx gatepass explain ${denied}   # why the plan phase could not write`);
  out.line(
    `  # the same in a browser, with the admin token in ${dir}/admin-token: ${url}/ui${denied ? `#request=${denied}` : ''}`,
  );
  out.line(
    `  npx gatepass run ${DEMO_ORG}/${DEMO_WORKSPACE} --phase plan --agent-token-file ${dir}/demo/agent-token -- aws sts get-caller-identity`,
  );
  out.line(`  # the member account as its administrator, with any AWS client:`);
  out.line(
    `  AWS_SHARED_CREDENTIALS_FILE=${dir}/${CREDENTIALS_FILE} AWS_DEFAULT_REGION=us-east-1 aws --profile gatepass-dev --endpoint-url ${url} iam list-policies --scope Local`,
  );
  out.line(`  # accounts: hub ${accounts.hub}, dev ${accounts.dev}, prod ${accounts.prod}`);
  out.line('  # docs/getting-started.md explains each step; docs/ has the rest.');
}
