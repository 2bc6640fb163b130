// `gatepass apply` and credentials: every new account gets its bootstrap administrator (also when
// the setup file gives it users, as the docs say), and a user with `accessKey: true` gets one access
// key, its secret appended 0600 to the data directory's aws-credentials and never printed. The keys
// work against a node served from that directory (aws-cli v2); applying again creates nothing.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { startServer } from '../../src/server/app.js';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';
import { cli } from '../explain/helpers.js';
import { readCredentialsFile } from '../helpers/cloud.js';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'gatepass-setup-keys-'));
after(() => rmSync(work, { recursive: true, force: true }));
const dataDir = join(work, 'data');
const creds = join(dataDir, CREDENTIALS_FILE);

const setup = (extraUsers = '') => `accounts:
  - name: team
    id: "333344445555"
    users:
      - name: ci
        attachedPolicies: [aws:IAMReadOnlyAccess]
        accessKey: true
      - name: human
${extraUsers}  - name: empty
    id: "666677778888"
`;

async function apply(text: string) {
  const file = join(work, 'setup.yaml');
  writeFileSync(file, text);
  const r = await cli(['apply', '-f', file, '--data-dir', dataDir]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

test('a new account with users still gets its administrator; accessKey users get a key whose secret is only in the 0600 file', async () => {
  const r = await apply(setup());
  const profiles = readCredentialsFile(creds);
  assert.deepEqual(Object.keys(profiles).sort(), ['gatepass-empty', 'gatepass-team', 'gatepass-team-ci']);
  assert.equal(statSync(creds).mode & 0o777, 0o600);
  assert.match(r.stdout, /administrator of account 333344445555: profile gatepass-team in /);
  assert.match(r.stdout, /access key AKIA[A-Z2-7]{16}: profile gatepass-team-ci in .*aws-credentials/);
  assert.match(
    r.stdout,
    /aws --profile gatepass-team-ci --region us-east-1 --endpoint-url \S+ sts get-caller-identity/,
  );
  for (const p of Object.values(profiles)) {
    assert.ok(p.secretAccessKey.length >= 40);
    assert.ok(!(r.stdout + r.stderr).includes(p.secretAccessKey), 'a secret is never printed');
  }
  assert.ok(!('gatepass-team-human' in profiles), 'no key unless asked for');
});

test('applying again creates no key; a user added later with accessKey gets one, and no second administrator', async () => {
  const before = readFileSync(creds, 'utf8');
  const again = await apply(setup());
  assert.equal(readFileSync(creds, 'utf8'), before);
  assert.doesNotMatch(again.stdout, /access key|administrator of/);
  const more = await apply(setup('      - name: deployer\n        accessKey: true\n'));
  assert.match(more.stdout, /profile gatepass-team-deployer/);
  assert.doesNotMatch(more.stdout, /administrator of/);
  assert.ok(readFileSync(creds, 'utf8').startsWith(before), 'appended, nothing rewritten');
});

test('the keys work as printed against a node served from the data directory (aws-cli v2)', async (t) => {
  if (spawnSync('/usr/bin/aws', ['--version']).status !== 0) return t.skip('aws-cli v2 is not installed');
  const app = await startServer(resolveConfig({ env: {}, flags: { port: 0, dataDir, logLevel: 'error' } }), {
    log: createJsonLogger({ level: 'error', stream: { write: () => true } }),
  });
  try {
    // Asynchronously: the node answers from this very process.
    const who = (profile: string) =>
      run(
        '/usr/bin/aws',
        [
          '--profile',
          profile,
          '--region',
          'us-east-1',
          '--endpoint-url',
          app.address.url,
          'sts',
          'get-caller-identity',
          '--query',
          'Arn',
          '--output',
          'text',
        ],
        {
          env: {
            PATH: process.env.PATH,
            HOME: work,
            AWS_SHARED_CREDENTIALS_FILE: creds,
            AWS_CONFIG_FILE: '/dev/null',
          },
          encoding: 'utf8',
        },
      );
    const ci = await who('gatepass-team-ci');
    assert.equal(ci.stdout.trim(), 'arn:aws:iam::333344445555:user/ci');
    const admin = await who('gatepass-team');
    assert.equal(admin.stdout.trim(), 'arn:aws:iam::333344445555:user/gatepass-admin');
  } finally {
    await app.stop();
  }
});
