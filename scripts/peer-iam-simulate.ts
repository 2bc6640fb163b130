// A second opinion on policy decisions: runs cloud-copilot/iam-simulate's core-engine scenarios
// (their AGPL-3.0 test data, read from ../shared/peer-iam-simulate/ beside the repository, never
// copied into it) through a live gatepass node's SimulatePrincipalPolicy, prints the agreement and
// lists every disagreement with the reason gatepass records for it. A developer tool, not a test:
// `npx tsx scripts/peer-iam-simulate.ts [--verbose]` skips cleanly when the folder is absent, and
// exits 1 only when a disagreement has no recorded reason.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateRoleCommand,
  CreateUserCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  IAMClient,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { startServer } from '../src/server/app.js';
import { CREDENTIALS_FILE } from '../src/server/cloud-mount.js';
import { resolveConfig } from '../src/server/config.js';
import { createJsonLogger } from '../src/server/log.js';
import { normalized, type PeerRun, type PeerScenario, recordedReason, translate } from './peer-translate.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const suite = join(root, '..', 'shared', 'peer-iam-simulate', 'coreEngineTests');
const verbose = process.argv.includes('--verbose');

if (!existsSync(suite)) {
  console.log(`peer scenarios: skipped, ${relative(process.cwd(), suite)} does not exist`);
  process.exit(0);
}

function scenarioFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? scenarioFiles(p) : f.endsWith('.json') ? [p] : [];
    });
}

/** The bootstrap administrator's keys, from the credentials file the node writes. */
function adminKeys(dataDir: string): { accessKeyId: string; secretAccessKey: string } {
  const text = readFileSync(join(dataDir, CREDENTIALS_FILE), 'utf8');
  const section = text.split(/^\[/m).find((s) => s.startsWith('gatepass-hub]')) ?? '';
  const value = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, 'm').exec(section)?.[1] ?? '';
  return { accessKeyId: value('aws_access_key_id'), secretAccessKey: value('aws_secret_access_key') };
}

async function decide(iam: IAMClient, run: PeerRun): Promise<string> {
  const { entity } = run;
  if (entity.kind === 'user')
    await iam.send(new CreateUserCommand({ UserName: entity.name, Path: entity.path }));
  else
    await iam.send(
      new CreateRoleCommand({
        RoleName: entity.name,
        Path: entity.path,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: entity.arn.split(':')[4] }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
  try {
    const out = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: entity.arn,
        ...(run.callerArn ? { CallerArn: run.callerArn } : {}),
        ActionNames: [run.action],
        ResourceArns: [run.resource],
        ResourceOwner: run.resourceOwner,
        ...(run.policies.length > 0 ? { PolicyInputList: run.policies } : {}),
        ...(run.boundary ? { PermissionsBoundaryPolicyInputList: [run.boundary] } : {}),
        ...(run.resourcePolicy ? { ResourcePolicy: run.resourcePolicy } : {}),
        ...(run.context.length > 0 ? { ContextEntries: run.context } : {}),
      }),
    );
    return out.EvaluationResults?.[0]?.EvalDecision ?? 'no result';
  } catch (err) {
    const e = err as { name?: string; message?: string };
    return `error ${e.name}: ${e.message}`;
  } finally {
    if (entity.kind === 'user') await iam.send(new DeleteUserCommand({ UserName: entity.name }));
    else await iam.send(new DeleteRoleCommand({ RoleName: entity.name }));
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'gatepass-peer-'));
const app = await startServer(resolveConfig({ env: {}, flags: { port: 0, dataDir, logLevel: 'error' } }), {
  log: createJsonLogger({ level: 'error', stream: { write: () => true } }),
});
try {
  const [account] = await app.store.list('account');
  const local = account?.id ?? '';
  const iam = new IAMClient({
    endpoint: app.address.url,
    region: 'us-east-1',
    credentials: adminKeys(dataDir),
  });
  let total = 0;
  let agreed = 0;
  let rewritten = 0;
  let rewrittenAgreed = 0;
  const skipped = new Map<string, number>();
  const recorded: string[] = [];
  const unexplained: string[] = [];
  for (const file of scenarioFiles(suite)) {
    const name = relative(suite, file);
    const scenarios = JSON.parse(readFileSync(file, 'utf8')) as PeerScenario[];
    for (const [i, scenario] of scenarios.entries()) {
      total += 1;
      const t = translate(scenario, local);
      if ('skip' in t) {
        skipped.set(t.skip, (skipped.get(t.skip) ?? 0) + 1);
        continue;
      }
      const got = await decide(iam, t.run);
      const where = `${name}#${i + 1} (${t.run.action} on ${t.run.resource})`;
      if (got === t.run.expected) {
        agreed += 1;
        if (verbose) console.log(`agree  ${where}: ${got}`);
        continue;
      }
      const line = `${where}: peer ${t.run.expected}, gatepass ${got}`;
      const reason = recordedReason(scenario, got);
      if (!reason) {
        unexplained.push(`${line}\n    ${scenario.name}`);
        continue;
      }
      recorded.push(`${line}\n    recorded: ${reason}`);
      // Refused for its grammar: does the decision agree once the document is one IAM accepts?
      const fixed = got.startsWith('error') ? normalized(scenario) : undefined;
      const retry = fixed && translate(fixed, local);
      if (!fixed || !retry || 'skip' in retry) continue;
      const second = await decide(iam, retry.run);
      rewritten += 1;
      if (second === retry.run.expected) rewrittenAgreed += 1;
      else if (!recordedReason(fixed, second))
        unexplained.push(
          `${where} rewritten as IAM accepts it: peer ${retry.run.expected}, gatepass ${second}\n    ${scenario.name}`,
        );
    }
  }
  const run = total - [...skipped.values()].reduce((a, b) => a + b, 0);
  console.log(`peer scenarios: ${total}; expressible through SimulatePrincipalPolicy: ${run}`);
  console.log(
    `agree: ${agreed}; recorded disagreements: ${recorded.length}; unexplained: ${unexplained.length}`,
  );
  console.log(
    `refused for a grammar point IAM enforces, then rewritten as IAM accepts it: ${rewritten}, of which agree: ${rewrittenAgreed}`,
  );
  for (const [why, n] of [...skipped].sort((a, b) => b[1] - a[1])) console.log(`  skipped ${n}: ${why}`);
  if (recorded.length > 0) console.log(`\nrecorded disagreements:\n${recorded.join('\n')}`);
  if (unexplained.length > 0) console.log(`\nunexplained disagreements:\n${unexplained.join('\n')}`);
  process.exitCode = unexplained.length > 0 ? 1 : 0;
} finally {
  await app.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
