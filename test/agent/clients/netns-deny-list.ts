// The world of deny-list-clients.test.ts, run inside a network namespace that has only loopback.
// It starts one gatepass node with RevokeRun switched off and the deny-list organization
// (helpers/deny-list-node.ts), opens a concurrent run in another workspace, then runs the JS SDK v3,
// Debian's boto3 and Terraform as the command of the real `gatepass run ... --phase plan` CLI. Each
// child reads in the hub and in the chained member account (the `member` alias) and saves the
// credentials it used to a 0600 file; once the phase has ended the world makes the next call with
// them and with the concurrent run's, and writes one JSON report (no secret in it):
//   node --import tsx netns-deny-list.ts <job.json> <report.json>
// Nothing here asserts; the test does.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SigningCredentials } from '../../../src/agent/sigv4-sign.js';
import { type ChildResult, runChild } from '../../helpers/child.js';
import { type DenyListNode, signedQuery, startDenyListNode } from '../helpers/deny-list-node.js';
import type { DenyClientRun, DenyWorldJob, DenyWorldReport, Probe } from './deny-world.js';
import { clientEnv } from './netns.js';

const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/;
const CHILD_TIMEOUT_S = 300;
const root = new URL('../../..', import.meta.url).pathname;

/**
 * The JS SDK v3 child: the default configuration and the member alias, each read (caller identity,
 * ListRoles) with the credentials the SDK resolved, which it saves to argv[1]; then waits for the
 * file argv[2], if given (the concurrent run).
 */
const JS_CHILD = `
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { fromIni } from '@aws-sdk/credential-providers';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
const [keysFile, go] = process.argv.slice(1);
const dyn = JSON.parse(process.env.TF_VAR_tfc_aws_dynamic_credentials);
const use = async (provider) => {
  const sts = new STSClient(provider ? { credentials: provider } : {});
  const c = await sts.config.credentials();
  const arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
  const roles = (await new IAMClient({ credentials: c }).send(new ListRolesCommand({}))).Roles.length;
  return { arn, roles, keys: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } };
};
const d = await use();
const m = await use(fromIni({ configFilepath: dyn.aliases.member.shared_config_file }));
writeFileSync(keysFile + '.part', JSON.stringify([d.keys, m.keys]), { mode: 0o600, flag: 'wx' });
renameSync(keysFile + '.part', keysFile);
console.log(JSON.stringify({ default: d.arn, member: m.arn, defaultRoles: d.roles, memberRoles: m.roles }));
for (let i = 0; go && !existsSync(go) && i < 6000; i++) await new Promise((r) => setTimeout(r, 50));
`;

/** The boto3 child (Debian's 1.26 takes the endpoints as arguments: it ignores AWS_ENDPOINT_URL_*). */
const BOTO3_CHILD = `import boto3, json, os, sys
def use(config):
    if config:
        os.environ['AWS_CONFIG_FILE'] = config
    s = boto3.session.Session()
    arn = s.client('sts', endpoint_url=os.environ['AWS_ENDPOINT_URL_STS']).get_caller_identity()['Arn']
    roles = len(s.client('iam', endpoint_url=os.environ['AWS_ENDPOINT_URL_IAM']).list_roles()['Roles'])
    c = s.get_credentials().get_frozen_credentials()
    return arn, roles, {'accessKeyId': c.access_key, 'secretAccessKey': c.secret_key, 'sessionToken': c.token}
dyn = json.loads(os.environ['TF_VAR_tfc_aws_dynamic_credentials'])
d = use(None)
m = use(dyn['aliases']['member']['shared_config_file'])
with os.fdopen(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as f:
    json.dump([d[2], m[2]], f)
print(json.dumps({'default': d[0], 'member': m[0], 'defaultRoles': d[1], 'memberRoles': m[1]}))`;

/**
 * Terraform: one apply that reads in the hub (default provider) and the member account (the alias);
 * then the credentials of the same configurations, which the agent serves for the whole phase, are
 * saved by the JS child ($1: its script, $2: keys file, $3: the configuration).
 */
const TERRAFORM_CHILD = `terraform -chdir="$3" init -input=false -no-color >&2
terraform -chdir="$3" apply -auto-approve -input=false -no-color >&2
"$NODE" --input-type=module -e "$1" "$2" >&2
terraform -chdir="$3" output -json | "$NODE" -e "let s='';process.stdin.on('data',(d)=>s+=d).on('end',()=>{const o=JSON.parse(s);console.log(JSON.stringify(Object.fromEntries(Object.entries(o).map(([k,v])=>[k,v.value]))))})"`;

/** Runs a program bounded in time; its exit code and output. */
const start = (args: readonly string[], env: Record<string, string>): Promise<ChildResult> =>
  runChild('timeout', ['-k', '5', String(CHILD_TIMEOUT_S), ...args], { env, cwd: root });

async function main(): Promise<void> {
  const [jobFile, reportFile] = process.argv.slice(2);
  if (!jobFile || !reportFile) throw new Error('usage: netns-deny-list.ts <job.json> <report.json>');
  const job = JSON.parse(await readFile(jobFile, 'utf8')) as DenyWorldJob;
  const report: DenyWorldReport = {
    ipRoute: '',
    concurrent: { runId: '', during: [], after: [], reported: [], exitCode: -1 },
    clients: {},
  };
  let node: DenyListNode | undefined;
  let go = '';
  let concurrent: Promise<ChildResult> | undefined;
  try {
    const route = await start(['ip', 'route', 'show'], { PATH: process.env.PATH ?? '' });
    report.ipRoute = route.stdout.trim();
    node = await startDenyListNode();
    const n = node;
    const env = {
      ...clientEnv(job.work, job.terraformRc),
      GATEPASS_AGENT_TOKEN: n.agentToken,
    };
    const cli = (workspace: string, command: readonly string[]) => [
      process.execPath,
      '--import',
      'tsx',
      join(root, 'src/cli/main.ts'),
      'run',
      `acme/${workspace}`,
      '--phase',
      'plan',
      '--server',
      n.url,
      '--ca',
      n.caFile,
      '--',
      ...command,
    ];
    const listRoles = (k: SigningCredentials) => signedQuery(n, k, { Action: 'ListRoles' });
    const readKeys = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as SigningCredentials[];
    const reported = async (runId: string) =>
      (await n.app.store.queryAudit({ runId, action: 'gatepass:ReportRevocation' })).map((e) =>
        String(e.detail?.method),
      );
    const runIdOf = (stderr: string) => /run (run-\w+) plan phase started/.exec(stderr)?.[1] ?? '';

    // The concurrent run: open (its command waiting) while every client's run comes and goes.
    const concurrentKeys = join(job.work, 'keys-concurrent.json');
    go = join(job.work, 'go');
    concurrent = start(
      cli('other', [process.execPath, '--input-type=module', '-e', JS_CHILD, concurrentKeys, go]),
      env,
    );
    let concurrentEnded: ChildResult | undefined;
    void concurrent.then((e) => {
      concurrentEnded = e;
    });
    while (!existsSync(concurrentKeys)) {
      if (concurrentEnded)
        throw new Error(
          `the concurrent run ended early (${concurrentEnded.status}): ${concurrentEnded.stderr.slice(-3000)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    const cKeys = await readKeys(concurrentKeys);
    for (const k of cKeys) report.concurrent.during.push(await listRoles(k));

    const clients: Record<string, (keys: string) => string[]> = {
      'js-sdk-v3': (keys) => [process.execPath, '--input-type=module', '-e', JS_CHILD, keys],
      'boto3-debian': (keys) => [job.debianPython, '-c', BOTO3_CHILD, keys],
      terraform: (keys) => ['sh', '-ec', TERRAFORM_CHILD, 'sh', JS_CHILD, keys, job.terraformDir],
    };
    for (const [name, command] of Object.entries(clients)) {
      const keysFile = join(job.work, `keys-${name}.json`);
      const r = await start(cli('networking', command(keysFile)), env);
      const runId = runIdOf(r.stderr);
      const out: DenyClientRun = {
        exitCode: r.status,
        runId,
        stderr: r.stderr.slice(-4000),
        revokedLine: /^.*plan phase revoked: .*$/m.exec(r.stderr)?.[0] ?? '',
        reported: runId ? await reported(runId) : [],
        concurrentAfter: [],
        secretInOutput: JWT.test(r.stdout) || JWT.test(r.stderr),
      };
      try {
        out.result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as NonNullable<
          DenyClientRun['result']
        >;
      } catch {
        // no result: the test reports the exit code and stderr
      }
      if (existsSync(keysFile)) {
        const keys = await readKeys(keysFile);
        const issuance = (await n.app.store.queryAudit({ runId, limit: 1000 })).filter(
          (e) => e.action.startsWith('sts:AssumeRole') && e.decision === 'allow',
        );
        const issued = new Set(issuance.map((e) => e.accessKeyId));
        out.sessions = issuance.map((e) => `${e.action} ${e.roleArn?.split('/').at(-1)}`).sort();
        const probe = async (k: SigningCredentials): Promise<Probe> => ({
          accessKeyId: k.accessKeyId,
          issuedToRun: issued.has(k.accessKeyId),
          next: await listRoles(k),
        });
        const [hubKeys, memberKeys] = keys;
        if (hubKeys) out.hub = await probe(hubKeys);
        if (memberKeys) out.member = await probe(memberKeys);
        const output = r.stdout + r.stderr;
        out.secretInOutput ||= keys.some((k) => output.includes(k.secretAccessKey));
      }
      for (const k of cKeys) out.concurrentAfter.push(await listRoles(k));
      report.clients[name] = out;
    }

    await writeFile(go, '');
    const c = await concurrent;
    concurrent = undefined;
    report.concurrent.exitCode = c.status;
    report.concurrent.runId = runIdOf(c.stderr);
    report.concurrent.reported = await reported(report.concurrent.runId);
    for (const k of cKeys) report.concurrent.after.push(await listRoles(k));
  } catch (err) {
    report.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    if (go && !existsSync(go)) await writeFile(go, '');
    await concurrent;
    await node?.stop();
    // The captured keys are live secrets of ended runs: none is left behind.
    for (const f of await readdir(job.work))
      if (/^keys-.*\.json/.test(f)) await rm(join(job.work, f), { force: true });
    await writeFile(reportFile, JSON.stringify(report, null, 2));
  }
}

await main();
