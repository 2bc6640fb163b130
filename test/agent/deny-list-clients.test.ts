// Revocation by the SCP deny list (the STS has no RevokeRun, as AWS's has not) with unmodified AWS
// clients as the command of the real `gatepass run --phase plan` CLI, inside a network namespace
// that has only loopback (root): the JS SDK v3, Debian's boto3 1.26 and Terraform 1.11 with the AWS
// provider 5.100 (filesystem mirror). Each reads in the hub and, through the `member` alias, in the
// chained member account, and saves the credentials it used; once its phase has ended, those get
// AccessDenied on their next call while a concurrent run's still work. One node (the deny-list
// organization of helpers/deny-list-node.ts) serves every run; it and the clients run in
// test/agent/clients/netns-deny-list.ts, inside `unshare --net`. A client that cannot run there
// fails the test: nothing is skipped.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GATEPASS_PROVIDERS_TF, MIRROR_RC, PROVIDER_MIRROR } from '../helpers/terraform.js';
import type { DenyWorldJob, DenyWorldReport } from './clients/deny-world.js';
import { namespaceProblem, runWorld } from './clients/netns.js';

const root = new URL('../..', import.meta.url).pathname;
const WORLD_TIMEOUT_MS = 10 * 60_000;

const MAIN_TF = `${GATEPASS_PROVIDERS_TF}
data "aws_caller_identity" "default" {}

data "aws_caller_identity" "member" {
  provider = aws.member
}

data "aws_iam_roles" "default" {}

data "aws_iam_roles" "member" {
  provider = aws.member
}

output "default" { value = data.aws_caller_identity.default.arn }
output "member" { value = data.aws_caller_identity.member.arn }
output "defaultRoles" { value = length(data.aws_iam_roles.default.arns) }
output "memberRoles" { value = length(data.aws_iam_roles.member.arns) }
`;

let work: string;
let report: DenyWorldReport;

before(
  async () => {
    const problem = namespaceProblem();
    if (problem) throw new Error(`this test needs a loopback-only network namespace: ${problem}`);
    work = await mkdtemp(join(tmpdir(), 'gatepass-deny-clients-'));
    const job: DenyWorldJob = {
      work,
      debianPython: '/usr/bin/python3',
      terraformDir: join(work, 'tf'),
      terraformRc: join(work, 'terraformrc'),
    };
    assert.ok(existsSync(job.debianPython), `${job.debianPython} (python3-boto3) is installed by .ci/run`);
    assert.ok(
      existsSync(PROVIDER_MIRROR),
      `the Terraform AWS provider mirror is expected at ${PROVIDER_MIRROR}`,
    );
    await mkdir(job.terraformDir);
    await writeFile(join(job.terraformDir, 'main.tf'), MAIN_TF);
    await writeFile(job.terraformRc, MIRROR_RC);
    report = await runWorld<DenyWorldReport>({
      world: join(root, 'test/agent/clients/netns-deny-list.ts'),
      job,
      timeoutMs: WORLD_TIMEOUT_MS,
      copyTo: process.env.GATEPASS_DENY_CLIENTS_REPORT,
    });
  },
  { timeout: WORLD_TIMEOUT_MS + 60_000 },
);

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the namespace has only loopback: no route out', () => {
  assert.doesNotMatch(report.ipRoute, /default|via/);
});

for (const client of ['js-sdk-v3', 'boto3-debian', 'terraform']) {
  test(`${client} in gatepass run: after its plan phase the agent reports the deny list, and the hub and chained member credentials it used get AccessDenied on their next call; a concurrent run's still work`, () => {
    const r = report.clients[client];
    assert.ok(r, `no report for ${client}`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.runId, /^run-/);
    // The child's reads in the hub and the member account, as the plan phase's roles.
    const session = `gatepass-${r.runId}-plan`;
    assert.match(
      r.result?.default ?? '',
      new RegExp(`^arn:aws:sts::\\d{12}:assumed-role/gp-plan/${session}$`),
    );
    assert.match(r.result?.member ?? '', new RegExp(`^arn:aws:sts::\\d{12}:assumed-role/reader/${session}$`));
    assert.notEqual(r.result?.default.split(':')[4], r.result?.member.split(':')[4]);
    assert.ok((r.result?.defaultRoles ?? 0) > 0 && (r.result?.memberRoles ?? 0) > 0, 'ListRoles read roles');
    // The agent said how the phase was revoked, and the issuer audited its report.
    assert.match(r.revokedLine, /plan phase revoked: its sessions on 3 role\(s\) denied by SCP p-[0-9a-z]+/);
    assert.deepEqual(r.reported, ['DenyList']);
    // The credentials the child used (sessions issued to this run) are denied on their next call.
    for (const [which, probe] of [
      ['hub', r.hub],
      ['member', r.member],
    ] as const) {
      assert.ok(probe, `the child saved no ${which} credentials`);
      assert.ok(probe.issuedToRun, `the ${which} key was issued to run ${r.runId}`);
      assert.equal(probe.next, 'AccessDenied', `the ${which} session of the ended phase`);
    }
    assert.notEqual(r.hub?.accessKeyId, r.member?.accessKeyId);
    // The node issued the run one session per hop of its two configurations (and the revoker its
    // own): the keys saved are the ones every process of the run was served, the client's included.
    assert.deepEqual(r.sessions, [
      'sts:AssumeRole reader',
      'sts:AssumeRoleWithWebIdentity gatepass-revoker',
      'sts:AssumeRoleWithWebIdentity gp-plan',
      'sts:AssumeRoleWithWebIdentity gp-plan',
    ]);
    assert.deepEqual(r.concurrentAfter, ['ok', 'ok'], 'the concurrent run is untouched');
    assert.equal(r.secretInOutput, false, 'no token or secret key in the output');
  });
}

test('the concurrent run worked throughout the others and is denied once its own phase ends', () => {
  const c = report.concurrent;
  assert.deepEqual(c.during, ['ok', 'ok']);
  assert.equal(c.exitCode, 0);
  assert.deepEqual(c.reported, ['DenyList']);
  assert.deepEqual(c.after, ['AccessDenied', 'AccessDenied']);
});
