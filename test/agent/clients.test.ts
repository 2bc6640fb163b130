// Every AWS client gatepass supports, as the command of the real `gatepass run` CLI against a
// gatepass node over HTTPS (given only `--ca`, as a user would, who also has CA bundles of their
// own in AWS_CA_BUNDLE and NODE_EXTRA_CA_CERTS that lack the node's CA), inside a network namespace with
// only loopback: aws-cli v2 (Debian 2.9.19) and v1 (pyenv), boto3 (Debian 1.26 and pyenv), the JS
// SDK v3, the Go SDK v2 (Debian) and Terraform with the AWS provider. Each gets the default
// configuration and a chained alias from the node, the node's audit shows its calls, and nothing
// goes to AWS: AWS's STS and IAM names resolve to a trap on 127.0.0.1:443 that records who asks,
// and every other address has no route. Controls show that the trap catches the old delivery (a web
// identity profile), which Debian's aws-cli and boto3 send to AWS whatever endpoint is configured.
// The world runs in test/agent/clients/netns-world.ts, inside `unshare --net --mount` (root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { rootCertificates } from 'node:tls';
import { runChild } from '../helpers/child.js';
import { GATEPASS_PROVIDERS_TF, MIRROR_RC, PROVIDER_MIRROR } from '../helpers/terraform.js';
import { namespaceProblem, runWorld } from './clients/netns.js';
import { TRAPPED_HOSTS, type WorldJob, type WorldReport } from './clients/world.js';

const root = new URL('../..', import.meta.url).pathname;
const GOPATH = '/usr/share/gocode';
const WORLD_TIMEOUT_MS = 12 * 60_000;

const MAIN_TF = `${GATEPASS_PROVIDERS_TF}
variable "write" {
  type    = bool
  default = false
}

# The plan role may not write: with write = true the apply is refused (and audited).
resource "aws_iam_role" "probe" {
  count              = var.write ? 1 : 0
  name               = "gatepass-client-probe"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [] })
}

data "aws_caller_identity" "default" {}

data "aws_caller_identity" "member" {
  provider = aws.member
}

output "default" { value = data.aws_caller_identity.default.arn }
output "member" { value = data.aws_caller_identity.member.arn }
`;

function pyenv(what: string): string {
  try {
    return execFileSync('pyenv', ['which', what], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `pyenv's ${what} (aws-cli v1, boto3) is installed by .ci/run; \`pyenv which ${what}\` failed`,
    );
  }
}

let skip: string | undefined;
let work: string;
let report: WorldReport;

before(
  async () => {
    skip = namespaceProblem();
    if (skip) return;
    work = await mkdtemp(join(tmpdir(), 'gatepass-clients-'));
    const job: WorldJob = {
      work,
      awsV2: '/usr/bin/aws',
      awsV1: pyenv('aws'),
      debianPython: '/usr/bin/python3',
      pyenvPython: pyenv('python'),
      goBinary: join(work, 'go_whoami'),
      terraformDir: join(work, 'tf'),
      terraformRc: join(work, 'terraformrc'),
      userCaBundle: join(work, 'user-bundle.pem'),
      outsideAddress: '52.94.236.248',
    };
    for (const bin of [job.awsV2, job.awsV1, job.debianPython, job.pyenvPython])
      assert.ok(existsSync(bin), `${bin} is installed by .ci/run`);
    assert.ok(
      existsSync(PROVIDER_MIRROR),
      `the Terraform AWS provider mirror is expected at ${PROVIDER_MIRROR}`,
    );

    // Debian's Go and packaged SDK in GOPATH mode (no module download).
    const built = await runChild('go', ['build', '-o', job.goBinary, '.'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work,
        GO111MODULE: 'off',
        GOPATH,
        GOFLAGS: '',
        GOCACHE: join(tmpdir(), 'gatepass-test-gocache'),
      },
      cwd: join(root, 'test/agent/clients/go_whoami'),
    });
    assert.equal(built.status, 0, built.stderr);

    await writeFile(job.userCaBundle, rootCertificates.join('\n'));
    await mkdir(job.terraformDir);
    await writeFile(join(job.terraformDir, 'main.tf'), MAIN_TF);
    await writeFile(job.terraformRc, MIRROR_RC);
    const hosts = join(work, 'hosts');
    const system = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1 localhost\n');
    await writeFile(hosts, `${system.trimEnd()}\n${TRAPPED_HOSTS.map((h) => `127.0.0.1 ${h}`).join('\n')}\n`);
    report = await runWorld<WorldReport>({
      world: join(root, 'test/agent/clients/netns-world.ts'),
      job,
      timeoutMs: WORLD_TIMEOUT_MS,
      copyTo: process.env.GATEPASS_CLIENTS_REPORT,
      hosts,
    });
  },
  { timeout: WORLD_TIMEOUT_MS + 120_000 },
);

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the namespace has only loopback: no route out, and AWS STS/IAM names lead only to the trap', (t) => {
  if (skip) return t.skip(skip);
  assert.doesNotMatch(report.route.ipRoute, /default/);
  assert.equal(report.route.outsideConnect, 'ENETUNREACH');
  assert.doesNotMatch(report.route.unmappedLookup, /^\d/, 'an AWS name not in the trap does not resolve');
  assert.equal(report.route.mappedLookup, '127.0.0.1');
});

test('control (measured): given a web identity profile, Debian aws-cli 2.9.19, boto3 1.26 and Go SDK 1.17 send the token exchange to AWS whatever endpoint is set; newer clients follow AWS_ENDPOINT_URL_STS', (t) => {
  if (skip) return t.skip(skip);
  const c = report.controls;
  for (const old of ['aws-cli-v2-debian', 'boto3-debian', 'go-sdk-v2-debian']) {
    assert.notEqual(c[old]?.exitCode, 0, old);
    assert.ok(
      c[old]?.trapped.some((h) => /^sts\./.test(h)),
      `${old} should reach the trap: ${JSON.stringify(c[old])}`,
    );
  }
  for (const fresh of ['aws-cli-v1', 'boto3-pyenv', 'js-sdk-v3'])
    assert.deepEqual(c[fresh]?.trapped, [], `${fresh}: ${JSON.stringify(c[fresh])}`);
});

/** Client → what its User-Agent says in the node's audit. */
const CLIENTS: Record<string, RegExp> = {
  'aws-cli-v2-debian': /^aws-cli\/2\.9\.19 /,
  'aws-cli-v1': /^aws-cli\/1\./,
  'boto3-debian': /^Boto3\/1\.26\./,
  'boto3-pyenv': /^Boto3\/1\.(?!26\.)/,
  'js-sdk-v3': /aws-sdk-js/,
  'go-sdk-v2-debian': /aws-sdk-go-v2/,
  terraform: /Terraform\/1\.11\..*terraform-provider-aws\/5\.100\./,
};

for (const [name, agent] of Object.entries(CLIENTS)) {
  test(`${name} inside gatepass run with only --ca: the default role and the chained member alias from the gatepass node over HTTPS, its refused write audited, nothing sent to AWS`, (t) => {
    if (skip) return t.skip(skip);
    const r = report.clients[name];
    assert.ok(r, `no report for ${name}`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.runId, /^run-/);
    const session = `gatepass-${r.runId}-plan`;
    const hub = `arn:aws:sts::\\d{12}:assumed-role/gp-plan/${session}`;
    assert.match(String(r.result?.default), new RegExp(`^${hub}$`));
    assert.match(
      String(r.result?.member),
      new RegExp(`^arn:aws:sts::\\d{12}:assumed-role/reader/${session}$`),
    );
    assert.notEqual(String(r.result?.default).split(':')[4], String(r.result?.member).split(':')[4]);
    // Every client but Terraform also reads the default configuration with no config file at all,
    // from the container-credentials endpoint alone.
    if (name !== 'terraform') assert.match(String(r.result?.container), new RegExp(`^${hub}$`));
    assert.deepEqual(r.trapped, [], 'nothing went to AWS');
    assert.equal(r.tokenInOutput, false);
    // The plan role's write was refused by the node, which audited it with the client's session,
    // run and User-Agent.
    assert.equal(r.result?.denied, 'AccessDenied');
    const denied = r.denials.filter((d) => agent.test(d.userAgent));
    assert.equal(denied.length, 1, JSON.stringify(r.denials));
    assert.match(denied[0]?.action ?? '', /^iam:(DeleteRole|CreateRole)$/);
    assert.match(denied[0]?.caller ?? '', new RegExp(`^${hub}$`));
    assert.equal(denied[0]?.runId, r.runId);
    // Only the agent exchanged the token: every web identity call came from it.
    const exchanges = r.stsCalls.filter((c) => c.action === 'sts:AssumeRoleWithWebIdentity');
    assert.ok(exchanges.length >= 2);
    assert.ok(exchanges.every((c) => c.userAgent === 'gatepass-agent' && c.decision === 'allow'));
  });
}
