// The command the demo runs under `gatepass run`, once per phase, as a separate process with the
// run's environment. It uses only what a real run gets (AWS_CONFIG_FILE, the alias files in
// TF_VAR_tfc_aws_dynamic_credentials, the endpoints) and unmodified clients: the AWS SDK for
// JavaScript v3, then Terraform on examples/terraform when the demo found it usable. It narrates
// what it proves and exits non-zero when an outcome is not the expected one.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createOutput } from '../lib/output.js';
import { createNarrator } from './narrate.js';

export interface ChildInput {
  phase: 'plan' | 'apply';
  /** The accounts the run reaches, by configuration tag ('' = default). */
  accounts: { name: string; id: string; tag: string }[];
  /** Tag of the member configuration that the write probe uses. */
  probeTag: string;
  /** Apply phase: where to leave the probe account's session for the after-run check (0600). */
  credentialsOut?: string;
  /** Plan phase: where to leave the denied write's request id (for `gatepass explain`). */
  deniedRequestOut?: string;
  terraform?: { binary: string; dir: string; logFile: string; cliConfig: string };
}

// What examples/terraform/main.tf manages, for the JS SDK variant of the same calls.
const POLICY = {
  name: 'network-readers',
  path: '/networking/',
  description: 'Read-only access for the networking team, managed by the networking workspace',
  document: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'ReadIam', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' }],
  }),
  tags: [{ Key: 'workspace', Value: 'networking' }],
};
const PROBE = { name: 'gatepass-demo-probe', path: '/demo/' };

const out = createOutput();
const say = createNarrator(out, 0);

class Unexpected extends Error {}

interface Sdk {
  sts: typeof import('@aws-sdk/client-sts');
  iam: typeof import('@aws-sdk/client-iam');
  fromIni: typeof import('@aws-sdk/credential-providers')['fromIni'];
}

async function loadSdk(): Promise<Sdk> {
  try {
    const [sts, iam, providers] = await Promise.all([
      import('@aws-sdk/client-sts'),
      import('@aws-sdk/client-iam'),
      import('@aws-sdk/credential-providers'),
    ]);
    return { sts, iam, fromIni: providers.fromIni };
  } catch {
    throw new Unexpected(
      'the AWS SDK for JavaScript is not installed here: run `npm ci` in the gatepass checkout (it is a development dependency)',
    );
  }
}

/** The configuration files the agent delivered, by tag. */
function deliveredFiles(env: NodeJS.ProcessEnv): Map<string, string> {
  const files = new Map<string, string>();
  if (env.AWS_CONFIG_FILE) files.set('', env.AWS_CONFIG_FILE);
  const dyn = JSON.parse(env.TF_VAR_tfc_aws_dynamic_credentials ?? '{}') as {
    aliases?: Record<string, { shared_config_file: string }>;
  };
  for (const [tag, v] of Object.entries(dyn.aliases ?? {})) files.set(tag, v.shared_config_file);
  return files;
}

const errorName = (err: unknown): string =>
  err && typeof err === 'object' && 'name' in err ? String((err as { name: unknown }).name) : 'Error';

async function probeWrite(sdk: Sdk, input: ChildInput, credentials: ReturnType<Sdk['fromIni']>) {
  const account = input.accounts.find((a) => a.tag === input.probeTag);
  const iam = new sdk.iam.IAMClient({ credentials });
  const what = `iam:CreatePolicy ${PROBE.path}${PROBE.name} in ${account?.name ?? input.probeTag}`;
  const create = new sdk.iam.CreatePolicyCommand({
    PolicyName: PROBE.name,
    Path: PROBE.path,
    PolicyDocument: POLICY.document,
    Description: 'Written and deleted by gatepass demo to show what each phase may do',
  });
  let arn: string | undefined;
  try {
    arn = (await iam.send(create)).Policy?.Arn;
  } catch (err) {
    if (input.phase === 'plan' && errorName(err) === 'AccessDenied') {
      const requestId = (err as { $metadata?: { requestId?: string } }).$metadata?.requestId;
      say.detail(
        `write denied in the plan phase: ${what} → AccessDenied${requestId ? ` (request ${requestId})` : ''}`,
        'ok',
      );
      if (requestId && input.deniedRequestOut !== undefined)
        await writeFile(input.deniedRequestOut, requestId);
      return;
    }
    throw new Unexpected(`${what} failed in the ${input.phase} phase: ${errorName(err)}`);
  }
  if (arn !== undefined) await iam.send(new sdk.iam.DeletePolicyCommand({ PolicyArn: arn }));
  if (input.phase === 'plan') throw new Unexpected(`${what} was allowed in the plan phase`);
  say.detail(`write allowed in the apply phase: ${what} → ${arn ?? '?'} (deleted again)`, 'ok');
}

const RESOURCE = 'aws_iam_policy.network_readers';

/** The ARN of the example's policy and whether it exists (read with the member configuration). */
async function examplePolicy(sdk: Sdk, input: ChildInput, member: ReturnType<Sdk['fromIni']>) {
  const account = input.accounts.find((a) => a.tag === input.probeTag);
  const iam = new sdk.iam.IAMClient({ credentials: member });
  const arn = `arn:aws:iam::${account?.id ?? ''}:policy${POLICY.path}${POLICY.name}`;
  try {
    await iam.send(new sdk.iam.GetPolicyCommand({ PolicyArn: arn }));
    return { iam, arn, exists: true };
  } catch (err) {
    if (errorName(err) !== 'NoSuchEntityException' && errorName(err) !== 'NoSuchEntity')
      throw new Unexpected(`iam:GetPolicy ${arn}: ${errorName(err)}`);
    return { iam, arn, exists: false };
  }
}

/** The JS SDK variant of examples/terraform: read both identities, create the policy when absent. */
async function sdkConfiguration(sdk: Sdk, input: ChildInput, member: ReturnType<Sdk['fromIni']>) {
  const { iam, arn, exists } = await examplePolicy(sdk, input, member);
  if (input.phase === 'plan') {
    say.detail(`JS SDK plan: ${exists ? 'no changes' : `1 to add (${arn})`}`, 'ok');
    return;
  }
  if (!exists) {
    await iam.send(
      new sdk.iam.CreatePolicyCommand({
        PolicyName: POLICY.name,
        Path: POLICY.path,
        Description: POLICY.description,
        PolicyDocument: POLICY.document,
        Tags: POLICY.tags,
      }),
    );
  }
  say.detail(`JS SDK apply: ${exists ? 'nothing to change' : 'created'} ${arn}`, 'ok');
}

/** One Terraform command, output to the log file; resolves to its exit code. */
function terraform(tf: NonNullable<ChildInput['terraform']>, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(tf.logFile, { flags: 'a' });
    log.write(`\n$ terraform ${args.join(' ')}\n`);
    const child = spawn(tf.binary, args, {
      cwd: tf.dir,
      env: {
        ...process.env,
        TF_CLI_CONFIG_FILE: tf.cliConfig,
        TF_IN_AUTOMATION: '1',
        CHECKPOINT_DISABLE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', reject);
    child.on('close', (code) => log.end(() => resolve(code ?? 1)));
  });
}

const OUTPUTS_ONLY = 'No resource changes (only output values change).';

/** The summary lines Terraform prints (plan totals, apply result, outputs). */
async function terraformSummary(logFile: string, since: number): Promise<string[]> {
  const text = (await readFile(logFile, 'utf8')).slice(since);
  return text
    .split('\n')
    .map((l) => l.trim())
    .map((l) => (l.startsWith('You can apply this plan to save these new output values') ? OUTPUTS_ONLY : l))
    .filter(
      (l) =>
        /^(Plan: |No changes\.|Apply complete!|Import successful!|policy_arn = )/.test(l) ||
        l === OUTPUTS_ONLY,
    );
}

/** Whether Terraform's local state already manages the example's policy. */
async function inState(dir: string): Promise<boolean> {
  try {
    const state = JSON.parse(await readFile(join(dir, 'terraform.tfstate'), 'utf8')) as {
      resources?: { type?: string; name?: string }[];
    };
    return (state.resources ?? []).some((r) => `${r.type}.${r.name}` === RESOURCE);
  } catch {
    return false;
  }
}

async function terraformConfiguration(
  tf: NonNullable<ChildInput['terraform']>,
  phase: 'plan' | 'apply',
  adopt: () => Promise<string | undefined>,
) {
  const steps: string[][] = [];
  if (phase === 'plan') {
    steps.push(['init', '-input=false', '-no-color']);
    // A policy made by an earlier JS SDK run is adopted (a read, allowed in the plan), not duplicated.
    const arn = (await inState(tf.dir)) ? undefined : await adopt();
    if (arn !== undefined) steps.push(['import', '-input=false', '-no-color', RESOURCE, arn]);
    steps.push(['plan', '-input=false', '-no-color', '-out=tfplan']);
  } else steps.push(['apply', '-input=false', '-no-color', 'tfplan']);
  for (const args of steps) {
    const since = await readFile(tf.logFile, 'utf8').then(
      (t) => t.length,
      () => 0,
    );
    const code = await terraform(tf, args);
    if (code !== 0)
      throw new Unexpected(`terraform ${args[0]} exited ${code}; its output is in ${tf.logFile}`);
    const summary = await terraformSummary(tf.logFile, since);
    say.detail(`terraform ${args[0]}${summary.length ? `: ${summary.join(' ')}` : ''}`, 'ok');
  }
}

async function main(inputFile: string): Promise<void> {
  const input = JSON.parse(await readFile(inputFile, 'utf8')) as ChildInput;
  const files = deliveredFiles(process.env);
  const defaultFile = files.get('');
  if (defaultFile === undefined) throw new Unexpected('the run delivered no default configuration');

  const sdk = await loadSdk();
  const credentialsFile = process.env.AWS_SHARED_CREDENTIALS_FILE ?? '';
  const providers = new Map<string, ReturnType<Sdk['fromIni']>>();
  for (const account of input.accounts) {
    const file = files.get(account.tag);
    if (file === undefined) throw new Unexpected(`no configuration ${account.tag} was delivered`);
    providers.set(account.tag, sdk.fromIni({ configFilepath: file, filepath: credentialsFile }));
  }
  say.detail(`who the run is in each account (sts:GetCallerIdentity with the JS SDK):`);
  for (const account of input.accounts) {
    const credentials = providers.get(account.tag);
    if (credentials === undefined) continue;
    const sts = new sdk.sts.STSClient({ credentials });
    const who = await sts.send(new sdk.sts.GetCallerIdentityCommand({}));
    if (who.Account !== account.id)
      throw new Unexpected(`${account.name}: expected account ${account.id}, got ${who.Account}`);
    const via = account.tag === '' ? 'default configuration' : `alias ${account.tag}`;
    say.detail(`${account.name.padEnd(4)} ${account.id}  ${who.Arn}  (${via})`, 'ok');
  }

  const member = providers.get(input.probeTag);
  if (member === undefined) throw new Unexpected(`no configuration ${input.probeTag}`);
  await probeWrite(sdk, input, member);
  if (input.terraform) {
    const adopt = async () => {
      const found = await examplePolicy(sdk, input, member);
      return found.exists ? found.arn : undefined;
    };
    await terraformConfiguration(input.terraform, input.phase, adopt);
  } else await sdkConfiguration(sdk, input, member);

  if (input.credentialsOut !== undefined) {
    // Kept for the demo's after-run check only (0600 in the demo's private directory, then deleted).
    const c = await member();
    const session = {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
    };
    await writeFile(input.credentialsOut, JSON.stringify(session), { mode: 0o600 });
  }
}

try {
  await main(process.argv[2] ?? '');
} catch (err) {
  const message = err instanceof Unexpected ? err.message : `${errorName(err)}: ${(err as Error).message}`;
  say.detail(message, 'fail');
  process.exitCode = 3;
}
