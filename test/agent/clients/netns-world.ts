// The world of clients.test.ts, run inside a network namespace that has only loopback (and, in its
// own mount namespace, an /etc/hosts that sends AWS's STS and IAM names to a trap on 127.0.0.1:443).
// It starts a gatepass node (HTTPS, local CA), runs every supported AWS client as the command of the
// real `gatepass run` CLI, reads the node's audit of each run, and writes one JSON report:
//   node --import tsx netns-world.ts <job.json> <report.json>
// Nothing here asserts; the test does. A client that tries AWS shows up in the trap, and fails.
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { startAgentNode } from '../helpers/node.js';
import { clientEnv } from './netns.js';
import type { WorldJob, WorldReport } from './world.js';

/** A role that does not exist: deleting it changes nothing even where it is allowed. */
const PROBE_ROLE = 'gatepass-client-probe';
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/;
const CHILD_TIMEOUT_MS = 240_000;

const trapped: string[] = [];

/** A TLS listener on 127.0.0.1:443 that records the server name a client asks for and hangs up. */
async function startTrap(): Promise<() => void> {
  const server = createTlsServer({
    SNICallback: (name, cb) => {
      trapped.push(name);
      cb(new Error('trapped'));
    },
  });
  server.on('tlsClientError', () => undefined);
  server.on('connection', (socket) => {
    socket.on('error', () => undefined);
    // A client without SNI still counts.
    socket.once('data', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(443, '127.0.0.1', resolve));
  return () => server.close();
}

interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  bin: string,
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  timeoutMs = CHILD_TIMEOUT_MS,
): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: `${stderr}\n${e.message}` }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function probeRoute(outsideAddress: string): Promise<WorldReport['route']> {
  const ip = await run('ip', ['route', 'show'], { PATH: process.env.PATH ?? '' }, '/');
  const outsideConnect = await new Promise<string>((resolve) => {
    const s = connect({ host: outsideAddress, port: 443, timeout: 5000 });
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('timeout', () => {
      s.destroy();
      resolve('timeout');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
  const resolveName = (name: string) =>
    lookup(name).then(
      (a) => a.address,
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
  return {
    ipRoute: ip.stdout.trim(),
    outsideConnect,
    unmappedLookup: await resolveName('s3.us-east-1.amazonaws.com'),
    mappedLookup: await resolveName('sts.us-east-1.amazonaws.com'),
  };
}

async function main(): Promise<void> {
  const [jobFile, reportFile] = process.argv.slice(2);
  if (!jobFile || !reportFile) throw new Error('usage: netns-world.ts <job.json> <report.json>');
  const job = JSON.parse(await readFile(jobFile, 'utf8')) as WorldJob;
  const report: WorldReport = {
    route: { ipRoute: '', outsideConnect: '', unmappedLookup: '', mappedLookup: '' },
    clients: {},
    controls: {},
  };
  const stopTrap = await startTrap();
  const node = await startAgentNode();
  try {
    report.route = await probeRoute(job.outsideAddress);
    const root = new URL('../../..', import.meta.url).pathname;
    const cli = join(root, 'src/cli/main.ts');
    const baseEnv = {
      ...clientEnv(job.work, job.terraformRc),
      AWS_CA_BUNDLE: job.userCaBundle,
      NODE_EXTRA_CA_CERTS: job.userCaBundle,
    };

    // Each client: the default configuration, then the member alias (chained into the member
    // account) through its file. Old clients get only what a user passes for their own calls.
    const member =
      'AWS_CONFIG_FILE="$("$NODE" -p "JSON.parse(process.env.TF_VAR_tfc_aws_dynamic_credentials).aliases.member.shared_config_file")"';
    const awsCli = (bin: string, sts: string, iam: string) => [
      'sh',
      '-ec',
      `d=$("${bin}" sts get-caller-identity --output text --query Arn ${sts})
m=$(export ${member}; "${bin}" sts get-caller-identity --output text --query Arn ${sts})
c=$(export AWS_CONFIG_FILE=/dev/null; "${bin}" sts get-caller-identity --output text --query Arn ${sts})
w=$("${bin}" iam delete-role --role-name ${PROBE_ROLE} ${iam} 2>&1 || true)
w=$(printf '%s' "$w" | sed -n 's/.*An error occurred (\\([A-Za-z]*\\)).*/\\1/p')
printf '{"default":"%s","member":"%s","container":"%s","denied":"%s"}\\n' "$d" "$m" "$c" "$w"`,
    ];
    const boto3 = (python: string, flag: boolean) => [
      python,
      '-c',
      `import boto3, json, os
ep = {'endpoint_url': os.environ['AWS_ENDPOINT_URL_STS']} if ${flag ? 'True' : 'False'} else {}
default = boto3.session.Session().client('sts', **ep).get_caller_identity()['Arn']
dyn = json.loads(os.environ['TF_VAR_tfc_aws_dynamic_credentials'])
os.environ['AWS_CONFIG_FILE'] = dyn['aliases']['member']['shared_config_file']
member = boto3.session.Session().client('sts', **ep).get_caller_identity()['Arn']
os.environ['AWS_CONFIG_FILE'] = os.devnull
container = boto3.session.Session().client('sts', **ep).get_caller_identity()['Arn']
os.environ['AWS_CONFIG_FILE'] = dyn['default']['shared_config_file']
iep = {'endpoint_url': os.environ['AWS_ENDPOINT_URL_IAM']} if ${flag ? 'True' : 'False'} else {}
try:
    boto3.session.Session().client('iam', **iep).delete_role(RoleName='${PROBE_ROLE}')
    denied = 'none'
except boto3.session.botocore.exceptions.ClientError as e:
    denied = e.response['Error']['Code']
print(json.dumps({'default': default, 'member': member, 'container': container, 'denied': denied}))`,
    ];
    const js = [
      process.execPath,
      '--input-type=module',
      '-e',
      `import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { IAMClient, DeleteRoleCommand } from '@aws-sdk/client-iam';
import { fromIni } from '@aws-sdk/credential-providers';
const dyn = JSON.parse(process.env.TF_VAR_tfc_aws_dynamic_credentials);
const who = async (c) => (await new STSClient(c).send(new GetCallerIdentityCommand({}))).Arn;
const memberCreds = fromIni({ configFilepath: dyn.aliases.member.shared_config_file });
let denied = 'none';
try { await new IAMClient({}).send(new DeleteRoleCommand({ RoleName: '${PROBE_ROLE}' })); } catch (e) { denied = e.name; }
const out = { default: await who({}), member: await who({ credentials: memberCreds }), denied };
process.env.AWS_CONFIG_FILE = '/dev/null';
out.container = await who({});
console.log(JSON.stringify(out));`,
    ];
    const terraform = [
      'sh',
      '-ec',
      `cd "${job.terraformDir}"
terraform init -input=false -no-color >&2
terraform apply -auto-approve -input=false -no-color >&2
w=$(terraform apply -auto-approve -input=false -no-color -var write=true 2>&1 || true)
printf '%s\\n' "$w" >&2
w=$(printf '%s' "$w" | grep -o 'api error [A-Za-z]*' | head -n 1 | sed 's/api error //')
terraform output -json | "$NODE" -e "let s='';process.stdin.on('data',(d)=>s+=d).on('end',()=>{const o=JSON.parse(s);console.log(JSON.stringify({default:o.default.value,member:o.member.value,denied:process.argv[1]}))})" "$w"`,
    ];
    const clients: Record<string, string[]> = {
      'aws-cli-v2-debian': awsCli(
        job.awsV2,
        '--endpoint-url "$AWS_ENDPOINT_URL_STS"',
        '--endpoint-url "$AWS_ENDPOINT_URL_IAM"',
      ),
      'aws-cli-v1': awsCli(job.awsV1, '', ''),
      'boto3-debian': boto3(job.debianPython, true),
      'boto3-pyenv': boto3(job.pyenvPython, false),
      'js-sdk-v3': js,
      'go-sdk-v2-debian': [job.goBinary],
      terraform,
    };

    for (const [name, command] of Object.entries(clients)) {
      const before = trapped.length;
      // Runs are one after the other, so the audit since this one started is this run's.
      const since = Date.now();
      const r = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          'run',
          'acme/networking',
          '--phase',
          'plan',
          '--server',
          node.url,
          '--ca',
          node.caFile,
          '--',
          ...command,
        ],
        { ...baseEnv, GATEPASS_AGENT_TOKEN: node.agentToken },
        root,
      );
      const runId = /run (run-\w+) plan phase started/.exec(r.stderr)?.[1] ?? '';
      const events = await node.app.store.queryAudit({ since, limit: 1000 });
      const last = r.stdout.trim().split('\n').at(-1) ?? '';
      let result: Record<string, unknown> | undefined;
      try {
        result = JSON.parse(last) as Record<string, unknown>;
      } catch {
        result = undefined;
      }
      report.clients[name] = {
        exitCode: r.code,
        ...(result ? { result } : {}),
        stderr: r.stderr.slice(-4000),
        runId,
        trapped: trapped.slice(before),
        denials: events
          .filter((e) => e.decision === 'deny')
          .map((e) => ({
            action: e.action,
            caller: e.caller ?? '',
            runId: e.runId ?? '',
            userAgent: e.userAgent ?? '',
          })),
        stsCalls: events
          .filter((e) => e.action.startsWith('sts:'))
          .map((e) => ({ action: e.action, decision: e.decision, userAgent: e.userAgent ?? '' })),
        tokenInOutput: JWT.test(r.stdout) || JWT.test(r.stderr),
      };
    }

    // Controls: what each client does with a web identity profile and every endpoint setting a
    // user could give it, outside gatepass run (a placeholder, not a token, in the token file).
    const controlDir = join(job.work, 'control');
    await mkdir(controlDir, { recursive: true });
    const tokenFile = join(controlDir, 'token');
    await writeFile(tokenFile, 'placeholder-not-a-token', { mode: 0o600 });
    const configFile = join(controlDir, 'config');
    await writeFile(
      configFile,
      `[default]\nregion = us-east-1\nservices = gp\n\n[services gp]\nsts =\n  endpoint_url = ${node.url}\n`,
    );
    const controlEnv = {
      ...baseEnv,
      AWS_CONFIG_FILE: configFile,
      AWS_SHARED_CREDENTIALS_FILE: join(controlDir, 'none'),
      AWS_ROLE_ARN: `arn:aws:iam::${node.hub}:role/gp-plan`,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ENDPOINT_URL_STS: node.url,
      AWS_ENDPOINT_URL: node.url,
      AWS_CA_BUNDLE: node.caFile,
      NODE_EXTRA_CA_CERTS: node.caFile,
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const controls: Record<string, string[]> = {
      'aws-cli-v2-debian': [job.awsV2, 'sts', 'get-caller-identity', '--endpoint-url', node.url],
      'aws-cli-v1': [job.awsV1, 'sts', 'get-caller-identity', '--endpoint-url', node.url],
      'boto3-debian': [job.debianPython, '-c', 'import boto3; boto3.client("sts").get_caller_identity()'],
      'boto3-pyenv': [job.pyenvPython, '-c', 'import boto3; boto3.client("sts").get_caller_identity()'],
      'js-sdk-v3': [
        process.execPath,
        '--input-type=module',
        '-e',
        `import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
await new STSClient({}).send(new GetCallerIdentityCommand({}));`,
      ],
      'go-sdk-v2-debian': ['env', 'WHOAMI_NO_RESOLVER=1', job.goBinary],
    };
    for (const [name, [bin, ...args]] of Object.entries(controls)) {
      const before = trapped.length;
      const r = await run(bin ?? '', args, controlEnv, root, 120_000);
      report.controls[name] = {
        exitCode: r.code,
        trapped: trapped.slice(before),
        stderr: r.stderr.slice(-2000),
      };
    }
  } catch (err) {
    report.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    await node.stop();
    stopTrap();
    await writeFile(reportFile, JSON.stringify(report, null, 2));
    await rm(join(job.work, 'control'), { recursive: true, force: true });
  }
}

await main();
