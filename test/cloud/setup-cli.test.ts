// The operator's path, with the real CLI as child processes: `gatepass serve` bootstraps the hub's
// administrator into a 0600 AWS credentials file and logs the aws-cli command that uses it;
// `gatepass apply --dry-run` prints the difference and writes nothing; `gatepass apply` writes the
// hub-and-spoke example and prints the new administrators' aws-cli commands; then a scripted aws-cli
// v2 session (test/cloud/clients/awscli-v2.sh) drives the running node.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { spawnNode } from '../cluster/helpers.js';
import { runChild } from '../helpers/child.js';
import { readCredentialsFile } from '../helpers/cloud.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'src/cli/main.ts');
const masterKey = randomBytes(32).toString('base64');
let work: string;
let dataDir: string;
let caFile: string;
let pki: TestPki;
let idp: TestIdp;
/** The AWS endpoint of the node the first test serves on the data directory. */
let servedUrl = '';

const run = (bin: string, args: string[], env: Record<string, string>) =>
  runChild(bin, args, { env, cwd: root });

const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: work,
  NO_COLOR: '1',
  GATEPASS_MASTER_KEY: masterKey,
});

const issuerEnv = () => ({
  GATEPASS_ISSUER_URL: idp.issuer,
  GATEPASS_ISSUER_HOST: idp.issuer.replace('https://', ''),
  GATEPASS_ISSUER_THUMBPRINT: pki.caThumbprint,
});

const gatepass = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', main, ...args], { ...baseEnv(), ...issuerEnv() });

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'gatepass-setup-cli-'));
  dataDir = join(work, 'data');
  pki = makeTestPki();
  idp = await startTestIdp(pki);
  await idp.addKey('k1', 'RS256');
  caFile = join(work, 'idp-ca.pem');
  writeFileSync(caFile, pki.caPem);
});

after(async () => {
  await idp?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('serve bootstraps the hub administrator into a 0600 credentials file and logs the aws-cli command', async () => {
  const node = await spawnNode({ dataDir, masterKey, caFile });
  servedUrl = node.url;
  try {
    const line = node.lines.find((l) => l.msg === 'bootstrap administrator created');
    assert.ok(line, 'a bootstrap administrator log line');
    const file = join(dataDir, CREDENTIALS_FILE);
    assert.equal(line.file, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(
      line.usage,
      `AWS_SHARED_CREDENTIALS_FILE=${file} aws --profile gatepass-hub --region us-east-1 --endpoint-url ${node.url} sts get-caller-identity`,
    );
    const secret = readCredentialsFile(file)['gatepass-hub']?.secretAccessKey ?? '';
    assert.ok(secret.length >= 40);
    assert.ok(!JSON.stringify(node.lines).includes(secret), 'the secret never reaches the log');
    // The printed command works as printed.
    // No region in the environment: the printed command carries its own (aws-cli v1 needs it).
    const who = await run('sh', ['-c', String(line.usage)], { ...baseEnv(), AWS_CONFIG_FILE: '/dev/null' });
    assert.equal(who.status, 0, who.stderr);
    assert.match(who.stdout, /:user\/gatepass-admin"/);
  } finally {
    assert.equal(await node.stop(), 0);
  }
});

test('apply --dry-run prints the difference and writes nothing; apply writes it once, its hints naming the port the node serves; errors point at the field', async () => {
  const file = 'examples/hub-and-spoke/setup.yaml';
  const dry = await gatepass(['apply', '-f', file, '--data-dir', dataDir, '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /create\s+role\s+hub\/role\/tfc-plan/);
  const planned = /would change (\d+) of (\d+) entities \(dry run: nothing written\)/.exec(
    dry.stdout + dry.stderr,
  );
  assert.ok(planned, dry.stdout + dry.stderr);
  const again = await gatepass(['apply', '-f', file, '--data-dir', dataDir, '--dry-run']);
  assert.match(
    again.stdout + again.stderr,
    new RegExp(`would change ${planned[1]} of`),
    'the dry run wrote nothing',
  );

  const bad = join(work, 'bad.yaml');
  writeFileSync(
    bad,
    'accounts:\n  - name: hub\n    roles:\n      - name: r\n        maxSessionDuration: 60\n',
  );
  const refused = await gatepass(['apply', '-f', bad, '--data-dir', dataDir]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /accounts\[0\]\.roles\[0\]\.(maxSessionDuration|trustPolicy)/);
  assert.match(refused.stderr, new RegExp(`${bad}:\\d+`));

  const applied = await gatepass(['apply', '-f', file, '--data-dir', dataDir]);
  assert.equal(applied.status, 0, applied.stderr);
  assert.match(applied.stdout + applied.stderr, new RegExp(`changed ${planned[1]} of`));
  const creds = join(dataDir, CREDENTIALS_FILE);
  for (const account of ['management', 'dev', 'prod']) {
    assert.match(
      applied.stdout,
      new RegExp(
        `AWS_SHARED_CREDENTIALS_FILE=${creds} aws --profile gatepass-${account} --region us-east-1 --endpoint-url ${servedUrl.replaceAll('.', '\\.')} sts get-caller-identity`,
      ),
    );
  }
  assert.doesNotMatch(servedUrl, /:8787$/, 'the node served another port than the default');
  assert.ok(!applied.stdout.includes('gatepass-hub'), 'the hub already had its administrator');
  assert.deepEqual(Object.keys(readCredentialsFile(creds)).sort(), [
    'gatepass-dev',
    'gatepass-hub',
    'gatepass-management',
    'gatepass-prod',
  ]);
  const second = await gatepass(['apply', '-f', file, '--data-dir', dataDir, '--dry-run']);
  assert.match(second.stdout + second.stderr, /would change 0 of/);
});

test('aws-cli v2, scripted against the running node: the setup reads back, roles change, AWS errors, a run chains', async () => {
  const v2 = '/usr/bin/aws';
  assert.ok(existsSync(v2), 'Debian awscli (v2) is installed by .ci/run');
  const node = await spawnNode({ dataDir, masterKey, caFile });
  try {
    const creds = readCredentialsFile(join(dataDir, CREDENTIALS_FILE));
    const hubKey = creds['gatepass-hub']?.accessKeyId ?? '';
    const accounts = (
      await gatepass([
        'apply',
        '-f',
        'examples/hub-and-spoke/setup.yaml',
        '--data-dir',
        dataDir,
        '--dry-run',
        '--json',
      ])
    ).stdout;
    const ids = Object.fromEntries(
      (JSON.parse(accounts) as { accounts: { name: string; id: string }[] }).accounts.map((a) => [
        a.name,
        a.id,
      ]),
    );
    assert.ok(hubKey && ids.hub && ids.dev);
    const token = await idp.sign(
      idp.claims({
        sub: 'organization:acme:project:Infra:workspace:networking:run_phase:plan',
        terraform_run_id: 'run-1',
      }),
    );
    const script = await run('bash', ['test/cloud/clients/awscli-v2.sh'], {
      ...baseEnv(),
      ENDPOINT: node.url,
      AWS_SHARED_CREDENTIALS_FILE: join(dataDir, CREDENTIALS_FILE),
      ISSUER_HOST: idp.issuer.replace('https://', ''),
      HUB: ids.hub ?? '',
      DEV: ids.dev ?? '',
      TOKEN: token,
    });
    assert.equal(script.status, 0, `${script.stdout}\n${script.stderr}`);
    assert.deepEqual(script.stdout.trim().split('\n'), [
      'ok: bootstrap administrator profile',
      'ok: provider and roles from the setup file',
      'ok: create, read back, change and delete a provider',
      'ok: create, update, tag, inline policy and delete a role',
      'ok: NoSuchEntity, EntityAlreadyExists, ValidationError, guard rail MalformedPolicyDocument',
      'ok: web identity into the plan role; the SCP denies IAM in the hub',
      'ok: chained into the member account: reads, and AccessDenied on writes',
      "ok: the member account's own administrator profile",
    ]);
  } finally {
    assert.equal(await node.stop(), 0);
  }
});
