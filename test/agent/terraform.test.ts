// Terraform (with the AWS provider from the machine's filesystem mirror) run by the real
// `gatepass run` CLI, exactly as a user types it, as
// the issue describes: a plain `provider "aws" {}` plus an alias reading
// var.tfc_aws_dynamic_credentials.aliases["member"].shared_config_file, managing IAM roles in the hub
// and in gatepass's member account. No endpoints or credentials in the Terraform code: everything
// comes from the run's environment and shared config files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GATEPASS_PROVIDERS_TF } from '../helpers/terraform.js';
import { type AgentNode, startAgentNode } from './helpers/node.js';

const MIRROR = '/opt/tf-plugins';
const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;

const MAIN_TF = `${GATEPASS_PROVIDERS_TF}
locals {
  trust = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role" "hub" {
  name               = "tf-hub-app"
  assume_role_policy = local.trust
}

resource "aws_iam_role" "member" {
  provider           = aws.member
  name               = "tf-member-app"
  assume_role_policy = local.trust
}
`;

let node: AgentNode;
let work: string;

before(async () => {
  assert.ok(existsSync(MIRROR), `the Terraform AWS provider mirror is expected at ${MIRROR}`);
  node = await startAgentNode();
  work = await mkdtemp(join(tmpdir(), 'gatepass-agent-tf-'));
  await writeFile(join(work, 'main.tf'), MAIN_TF);
  await writeFile(
    join(work, 'terraformrc'),
    `provider_installation {\n  filesystem_mirror {\n    path = "${MIRROR}"\n  }\n}\n`,
  );
});

after(async () => {
  await node?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface CliResult {
  code: number | null;
  runId: string;
  out: string;
}

/** `gatepass run acme/networking --phase … [--run …] -- terraform …` through the real CLI. */
function run(phase: 'plan' | 'apply', args: string[], runId?: string): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    TMPDIR: work,
    NO_COLOR: '1',
    GATEPASS_URL: node.url,
    GATEPASS_AGENT_TOKEN: node.agentToken,
    GATEPASS_CA_FILE: node.caFile,
    TF_CLI_CONFIG_FILE: join(work, 'terraformrc'),
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
  };
  const cliArgs = ['run', 'acme/networking', '--phase', phase, ...(runId ? ['--run', runId] : [])];
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), main, ...cliArgs, '--', 'terraform', ...args],
      {
        cwd: work,
        env,
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('close', (code) => {
      resolve({ code, out, runId: /run (run-\w+) \w+ phase started/.exec(out)?.[1] ?? '' });
    });
  });
}

test('terraform under gatepass run: init, the plan phase is denied writes, plan -out then apply of the same run succeeds', async () => {
  const init = await run('plan', ['init', '-input=false', '-no-color']);
  assert.equal(init.code, 0, init.out);

  // Writing with plan-phase credentials fails (gp-plan and member/reader can only read).
  const denied = await run('plan', ['apply', '-auto-approve', '-input=false', '-no-color']);
  assert.notEqual(denied.code, 0, denied.out);
  assert.match(denied.out, /AccessDenied/);
  assert.equal((await node.app.store.list('role')).filter((r) => r.arn.includes(':role/tf-')).length, 0);

  const plan = await run('plan', ['plan', '-input=false', '-no-color', '-out=tfplan']);
  assert.equal(plan.code, 0, plan.out);
  assert.match(plan.runId, /^run-/);
  const apply = await run('apply', ['apply', '-input=false', '-no-color', 'tfplan'], plan.runId);
  assert.equal(apply.code, 0, apply.out);
  assert.match(apply.out, new RegExp(`run ${plan.runId} apply succeeded`));
  assert.match(apply.out, /revoked at the STS/);
  const made = (await node.app.store.list('role')).map((r) => r.arn).filter((a) => a.includes(':role/tf-'));
  const want = [`arn:aws:iam::${node.hub}:role/tf-hub-app`, `arn:aws:iam::${node.member}:role/tf-member-app`];
  assert.deepEqual(made.sort(), want.sort());
  assert.ok(!apply.out.includes(node.agentToken), 'the agent token never reaches the output');
});
