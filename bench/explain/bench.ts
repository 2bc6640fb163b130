// What explaining costs: a denial's trace kept on the audit event (the only work added to the STS
// deny path), and a whole simulation through the real STS pipeline, against the anchor of the bare
// policy decision the STS takes for the same request, measured in the same run.
//   npx tsx bench/explain/bench.ts [seconds per case, default 1]
import { readFileSync } from 'node:fs';
import { openSandbox } from '../../src/cloud/explain/sandbox.js';
import { simulate } from '../../src/cloud/explain/simulate.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { evaluate, parsePolicy } from '../../src/core/policy/index.js';
import { storedTrace } from '../../src/core/policy/stored-trace.js';
import { buildClaims } from '../../src/issuer/claims.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { openSqliteStore } from '../../src/store/sqlite.js';

const seconds = Number(process.argv[2] ?? '1');
const file = new URL('../../test/vectors/explain/setup.yaml', import.meta.url).pathname;
const HUB = '111111111111';
const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

async function rate(name: string, fn: () => unknown | Promise<unknown>): Promise<number> {
  const warm = Date.now() + 200;
  while (Date.now() < warm) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
  }
  const perSecond = n / (Number(process.hrtime.bigint() - start) / 1e9);
  process.stdout.write(
    `${name.padEnd(58)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} /s\n`,
  );
  return perSecond;
}

const sandbox = await openSandbox(parseSetup(readFileSync(file, 'utf8'), file), file, {
  clock: systemClock,
  random: cryptoRandom,
  openStore: () => openSqliteStore({ path: ':memory:' }),
});
const netApply = await sandbox.store.getBy('role', 'arn', role(HUB, 'net-apply'));
if (!netApply) throw new Error('setup has no net-apply role');
const trust = parsePolicy(netApply.trustPolicy, 'trust', {}, 'trust policy of role/net-apply');
const provider = `arn:aws:iam::${HUB}:oidc-provider/app.terraform.io`;
const request = {
  action: 'sts:AssumeRoleWithWebIdentity',
  resource: netApply.arn,
  principal: { type: 'Federated' as const, ids: [provider] },
  context: {
    'app.terraform.io:aud': 'aws.workload.identity',
    'app.terraform.io:sub': 'organization:acme:project:Default Project:workspace:net:run_phase:plan',
  },
};
const set = { resource: trust, resourceAccount: HUB };
if (evaluate(request, set).effect === 'Allow') throw new Error('the anchor request must be denied');

const now = Math.floor(Date.now() / 1000);
const token = (phase: 'plan' | 'apply') =>
  sandbox.sign(
    buildClaims({
      issuer: 'https://app.terraform.io',
      audience: 'aws.workload.identity',
      jti: 'bench',
      iat: now,
      exp: now + 3600,
      organization: { id: 'org-b', name: 'acme' },
      project: { id: 'prj-b', name: 'Default Project' },
      workspace: { id: 'ws-b', name: 'net' },
      runId: 'run-bench',
      phase,
      options: {},
    }),
  );
const plan = await token('plan');

process.stdout.write(`explain bench: ${seconds} s per case, Node ${process.version}\n`);
const traceBytes = JSON.stringify(storedTrace(evaluate(request, set))).length;
process.stdout.write(`trace kept on the audit event of this denial: ${traceBytes} bytes of JSON\n`);
const anchor = await rate('anchor: trust decision (evaluate, wrong phase)', () => evaluate(request, set));
const kept = await rate('denial with its trace for the audit event', () =>
  JSON.stringify(storedTrace(evaluate(request, set))),
);
const denied = await rate('simulate: web identity denied (JWT verify, store reads)', async () => {
  const r = await simulate(sandbox.sts, { token: plan, roleArn: netApply.arn }, Date.now());
  if (r.allowed) throw new Error('expected a denial');
});
const chain = await rate('simulate: web identity + chain + 2 actions', async () => {
  const r = await simulate(
    sandbox.sts,
    {
      token: plan,
      roleArn: role(HUB, 'net-plan'),
      chain: [role('222222222222', 'reader')],
      actions: ['iam:ListRoles', 'iam:CreateRole'],
    },
    Date.now(),
  );
  if (r.steps.length !== 4) throw new Error('expected four steps');
});
await sandbox.close();

const ratio = (x: number) => `${(anchor / x).toFixed(1)}x the anchor's time`;
process.stdout.write(
  `\ntrace kept on a denial: ${ratio(kept)}; simulated denial: ${ratio(denied)}; simulated chain: ${ratio(chain)}\n`,
);
