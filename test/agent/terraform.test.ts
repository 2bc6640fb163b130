// Terraform (with the AWS provider from the machine's filesystem mirror) run by `gatepass run`, as
// the issue describes: a plain `provider "aws" {}` plus an alias reading
// var.tfc_aws_dynamic_credentials.aliases["member"].shared_config_file, managing IAM roles in the hub
// and in gatepass's member account. No endpoints or credentials in the Terraform code: everything
// comes from the run's environment and shared config files.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AgentOutcome, runAgent } from '../../src/agent/run.js';
import { systemClock } from '../../src/core/deps.js';
import { cryptoRandom } from '../../src/core/random.js';
import { type AgentNode, startAgentNode } from './helpers/node.js';

const MIRROR = '/opt/tf-plugins';

const MAIN_TF = `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "tfc_aws_dynamic_credentials" {
  type = object({
    default = object({ shared_config_file = string })
    aliases = map(object({ shared_config_file = string }))
  })
}

provider "aws" {}

provider "aws" {
  alias               = "member"
  shared_config_files = [var.tfc_aws_dynamic_credentials.aliases["member"].shared_config_file]
}

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

/** `terraform …` as the run's command (the agent spawns it without blocking this event loop). */
async function run(
  phase: 'plan' | 'apply',
  args: string[],
  runId?: string,
): Promise<{ outcome: AgentOutcome; out: string }> {
  const out = join(work, `out-${phase}-${Date.now()}.txt`);
  // A shell captures Terraform's output to a file, so failures can be shown in the assertion.
  const command = ['sh', '-c', 'terraform "$@" >"$OUT" 2>&1', 'terraform', ...args];
  const log: string[] = [];
  const outcome = await runAgent({
    organization: 'acme',
    workspace: 'networking',
    phase,
    ...(runId !== undefined ? { runId } : {}),
    issuerUrl: node.url,
    agentToken: node.agentToken,
    refresh: false,
    keepFiles: false,
    command,
    env: {
      PATH: process.env.PATH,
      HOME: work,
      OUT: out,
      TF_CLI_CONFIG_FILE: join(work, 'terraformrc'),
      TF_IN_AUTOMATION: '1',
      CHECKPOINT_DISABLE: '1',
      AWS_CA_BUNDLE: node.caFile,
    },
    cwd: work,
    log: { info: (m) => log.push(m), warn: (m) => log.push(`warn ${m}`) },
    clock: systemClock,
    random: cryptoRandom,
    interactive: false,
    runDirBase: join(work, 'runs'),
    http: { ca: [node.caPem] },
  });
  const { readFile } = await import('node:fs/promises');
  const text = existsSync(out) ? await readFile(out, 'utf8') : '';
  return { outcome, out: `${log.join('\n')}\n${text}` };
}

test('terraform under gatepass run: init, the plan phase is denied writes, plan -out then apply of the same run succeeds', async () => {
  const init = await run('plan', ['init', '-input=false', '-no-color']);
  assert.equal(init.outcome.exitCode, 0, init.out);

  // Writing with plan-phase credentials fails (gp-plan and member/reader can only read).
  const denied = await run('plan', ['apply', '-auto-approve', '-input=false', '-no-color']);
  assert.notEqual(denied.outcome.exitCode, 0, denied.out);
  assert.match(denied.out, /AccessDenied/);
  assert.equal((await node.app.store.list('role')).filter((r) => r.arn.includes(':role/tf-')).length, 0);

  const plan = await run('plan', ['plan', '-input=false', '-no-color', '-out=tfplan']);
  assert.equal(plan.outcome.exitCode, 0, plan.out);
  const runId = plan.outcome.runId ?? '';
  const apply = await run('apply', ['apply', '-input=false', '-no-color', 'tfplan'], runId);
  assert.equal(apply.outcome.exitCode, 0, apply.out);
  assert.equal(apply.outcome.status, 'succeeded');
  assert.equal(apply.outcome.revoked, true);
  const made = (await node.app.store.list('role')).map((r) => r.arn).filter((a) => a.includes(':role/tf-'));
  const want = [`arn:aws:iam::${node.hub}:role/tf-hub-app`, `arn:aws:iam::${node.member}:role/tf-member-app`];
  assert.deepEqual(made.sort(), want.sort());
});
