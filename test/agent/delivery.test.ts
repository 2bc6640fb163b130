import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rootCertificates } from 'node:tls';
import {
  AWS_CA_FILE,
  awsCaBundle,
  NODE_CA_FILE,
  nodeExtraCa,
  writeChildCa,
} from '../../src/agent/child-ca.js';
import { buildChildEnv, isRemovedVariable } from '../../src/agent/child-env.js';
import { type RunConfig, resolveRunConfig } from '../../src/agent/config.js';
import {
  ENDPOINT_TOKEN_FILE,
  PROCESS_SCRIPT_FILE,
  processCommand,
} from '../../src/agent/credential-process.js';
import {
  cleanStaleRunDirs,
  createRunDir,
  deliverFiles,
  MARKER_FILE,
  removeRunDir,
  runDirBase,
} from '../../src/agent/delivery.js';
import { AgentError } from '../../src/agent/errors.js';
import { ensurePrivateDir, writePrivateFile } from '../../src/agent/secure-files.js';
import { renderSharedConfig } from '../../src/agent/shared-config.js';

const RUN = 'arn:aws:iam::111122223333:role/run';
const HOP1 = 'arn:aws:iam::111122223333:role/hub';
const HOP2 = 'arn:aws:iam::444455556666:role/member';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

const scratch = await mkdtemp(join(tmpdir(), 'gatepass-agent-delivery-'));
after(() => rm(scratch, { recursive: true, force: true }));
let n = 0;
const freshBase = (): string => join(scratch, `base-${n++}`);

function config(vars: Record<string, string>, extra: { stsEndpoint?: string } = {}): RunConfig {
  return resolveRunConfig({
    variables: new Map(Object.entries(vars)),
    phase: 'apply',
    runId: 'run-Xy12',
    ...extra,
  });
}

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

test('the run dir is 0700 under a private 0700 base, with a marker holding the agent pid', async () => {
  const base = freshBase();
  const dir = await createRunDir(base, 'run-Xy12', 4242);
  assert.equal(await mode(base), 0o700);
  assert.equal(await mode(dir), 0o700);
  assert.equal(dir, join(base, 'run-Xy12'));
  assert.equal(await readFile(join(dir, MARKER_FILE), 'utf8'), '4242');
  assert.equal(await mode(join(dir, MARKER_FILE)), 0o600);
  assert.match(runDirBase('/tmp'), /^\/tmp\/gatepass-runs(-\d+)?$/);
});

test('the run dir path is the same for every phase of a run, and one live agent holds it at a time', async () => {
  const base = freshBase();
  const first = await createRunDir(base, 'run-Same');
  await assert.rejects(
    createRunDir(base, 'run-Same'),
    (e: unknown) => e instanceof AgentError && e.code === 'unsafe_path',
  );
  await removeRunDir(first);
  assert.equal(await createRunDir(base, 'run-Same'), first);
});

test('an existing base with loose permissions is tightened; a symlinked base is refused', async () => {
  const base = freshBase();
  await mkdir(base, { mode: 0o755 });
  await ensurePrivateDir(base);
  assert.equal(await mode(base), 0o700);
  const target = freshBase();
  await mkdir(target);
  const link = freshBase();
  await symlink(target, link);
  await assert.rejects(
    ensurePrivateDir(link),
    (e: unknown) => e instanceof AgentError && e.code === 'unsafe_path',
  );
});

test('a private file written as chunks holds them all in order, empty ones and thousands of them included', async () => {
  const dir = await createRunDir(freshBase(), 'run-chunks');
  const chunks = Array.from({ length: 3000 }, (_, i) => Buffer.from(i % 7 === 0 ? '' : `${i},`));
  const p = join(dir, 'chunks.pem');
  await writePrivateFile(p, chunks);
  assert.equal(await readFile(p, 'utf8'), Buffer.concat(chunks).toString('utf8'));
  assert.equal(await mode(p), 0o600);
  await writePrivateFile(join(dir, 'none.pem'), []);
  assert.equal(await readFile(join(dir, 'none.pem'), 'utf8'), '');
});

test('private files are 0600, exact content, and never written through a symlink or over a file', async () => {
  const dir = await createRunDir(freshBase(), 'run-1');
  const p = join(dir, 'x.token');
  await writePrivateFile(p, JWT);
  assert.equal(await readFile(p, 'utf8'), JWT);
  assert.equal(await mode(p), 0o600);
  await assert.rejects(
    writePrivateFile(p, 'again'),
    (e: unknown) => e instanceof AgentError && e.code === 'unsafe_path',
  );
  const victim = join(scratch, 'victim');
  await writeFile(victim, 'keep');
  const link = join(dir, 'link.token');
  await symlink(victim, link);
  await assert.rejects(writePrivateFile(link, JWT), (e: unknown) => e instanceof AgentError);
  assert.equal(await readFile(victim, 'utf8'), 'keep');
});

test('delivery writes token and config per configuration; tokens have no trailing newline', async () => {
  const c = config({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: RUN,
    TFC_AWS_PROVIDER_AUTH_member: 'true',
    TFC_AWS_RUN_ROLE_ARN_member: RUN,
    GATEPASS_AWS_CHAIN_ROLE_ARN_member: `${HOP1},${HOP2}`,
  });
  const dir = await createRunDir(freshBase(), 'run-Xy12');
  const d = await deliverFiles(
    dir,
    c,
    new Map([
      ['', JWT],
      ['member', `${JWT}2`],
    ]),
  );
  assert.deepEqual(
    (await readdir(dir)).sort(),
    [
      MARKER_FILE,
      'aws-member.config',
      'aws-member.token',
      'aws.config',
      'aws.credentials',
      'aws.token',
    ].sort(),
  );
  for (const f of await readdir(dir)) assert.equal(await mode(join(dir, f)), 0o600, f);
  assert.equal(await readFile(join(dir, 'aws.token'), 'utf8'), JWT);
  assert.equal(await readFile(join(dir, 'aws-member.token'), 'utf8'), `${JWT}2`);
  assert.equal(await readFile(d.credentialsFile, 'utf8'), '');
  assert.equal(d.defaultConfigFile, join(dir, 'aws.config'));
  const def = await readFile(d.defaultConfigFile, 'utf8');
  assert.equal(
    def,
    [
      '[default]',
      `role_arn = ${RUN}`,
      `web_identity_token_file = ${join(dir, 'aws.token')}`,
      'role_session_name = gatepass-run-Xy12-apply',
      'region = us-east-1',
      '',
      '[profile gatepass-web-identity]',
      `role_arn = ${RUN}`,
      `web_identity_token_file = ${join(dir, 'aws.token')}`,
      'role_session_name = gatepass-run-Xy12-apply',
      'region = us-east-1',
      '',
    ].join('\n'),
  );
  const member = await readFile(join(dir, 'aws-member.config'), 'utf8');
  assert.match(
    member,
    /^\[default\]\nrole_arn = arn:aws:iam::444455556666:role\/member\nsource_profile = gatepass-chain-1\n/,
  );
  assert.match(
    member,
    /\[profile gatepass-chain-1\]\nrole_arn = arn:aws:iam::111122223333:role\/hub\nsource_profile = gatepass-web-identity\n/,
  );
  assert.match(
    member,
    /\[profile gatepass-chain-2\]\nrole_arn = arn:aws:iam::444455556666:role\/member\nsource_profile = gatepass-chain-1\n/,
  );
  await removeRunDir(dir);
  assert.equal(existsSync(dir), false);
});

test('a non-AWS STS adds a services section referenced by every profile', () => {
  const text = renderSharedConfig({
    region: 'eu-west-1',
    credentials: { roleArn: RUN, tokenFile: '/t', sessionName: 's1', chain: [HOP2] },
    stsEndpoint: 'http://127.0.0.1:9000',
    iamEndpoint: 'http://127.0.0.1:9000',
  });
  assert.equal((text.match(/^services = gatepass$/gm) ?? []).length, 3);
  assert.ok(
    text.endsWith(
      '[services gatepass]\nsts =\n  endpoint_url = http://127.0.0.1:9000\niam =\n  endpoint_url = http://127.0.0.1:9000\n',
    ),
  );
});

test('served credentials: no token file, no role or token in any profile; every file names a credential_process', async () => {
  const dir = await createRunDir(freshBase(), 'run-2');
  const c = config(
    {
      TFC_AWS_PROVIDER_AUTH: 'true',
      TFC_AWS_RUN_ROLE_ARN: RUN,
      TFC_AWS_PROVIDER_AUTH_member: 'true',
      TFC_AWS_RUN_ROLE_ARN_member: RUN,
      GATEPASS_AWS_CHAIN_ROLE_ARN_member: HOP2,
    },
    { stsEndpoint: 'https://gatepass.example:8443' },
  );
  const served = {
    url: (tag: string) => `http://127.0.0.1:5555/${tag === '' ? 'default' : tag}`,
    authorizationToken: 'endpoint-secret',
  };
  const d = await deliverFiles(
    dir,
    c,
    new Map([
      ['', JWT],
      ['member', JWT],
    ]),
    { served, nodePath: '/opt/node/bin/node' },
  );
  assert.deepEqual(
    (await readdir(dir)).sort(),
    [
      MARKER_FILE,
      'aws-member.config',
      'aws.config',
      'aws.credentials',
      ENDPOINT_TOKEN_FILE,
      PROCESS_SCRIPT_FILE,
    ].sort(),
  );
  for (const f of await readdir(dir)) assert.equal(await mode(join(dir, f)), 0o600, f);
  assert.equal(await readFile(join(dir, ENDPOINT_TOKEN_FILE), 'utf8'), 'endpoint-secret');
  assert.deepEqual(
    d.configs.map((x) => x.tokenFile),
    [undefined, undefined],
  );
  const def = await readFile(d.defaultConfigFile, 'utf8');
  assert.match(
    def,
    new RegExp(
      `^\\[default\\]\\ncredential_process = /opt/node/bin/node ${join(dir, PROCESS_SCRIPT_FILE)} http://127\\.0\\.0\\.1:5555/default\\nregion = us-east-1\\nservices = gatepass\\n\\n\\[services gatepass\\]\\n`,
    ),
  );
  const member = await readFile(join(dir, 'aws-member.config'), 'utf8');
  assert.match(
    member,
    new RegExp(
      `^\\[default\\]\\ncredential_process = /opt/node/bin/node ${join(dir, PROCESS_SCRIPT_FILE)} http://127\\.0\\.0\\.1:5555/member\\nregion = us-east-1\\n`,
    ),
  );
  for (const text of [def, member]) {
    assert.doesNotMatch(text, /role_arn|web_identity_token_file|source_profile/);
    assert.ok(!text.includes(JWT) && !text.includes('endpoint-secret'));
  }

  const dir2 = await createRunDir(freshBase(), 'run-3');
  const tagged = config({ TFC_AWS_PROVIDER_AUTH_a: 'true', TFC_AWS_RUN_ROLE_ARN_a: RUN });
  const d2 = await deliverFiles(dir2, tagged, new Map([['a', JWT]]));
  assert.equal(await readFile(d2.defaultConfigFile, 'utf8'), '[default]\nregion = us-east-1\n');
  assert.deepEqual(
    d2.configs.map((x) => x.tag),
    ['a'],
  );
});

test('a credential_process command is plain words (the Go SDK drops what follows a quoted string); other paths are refused', () => {
  assert.equal(
    processCommand('/usr/bin/node', '/tmp/gatepass-runs-0/run-a_b/x.mjs', 'http://127.0.0.1:1/a_b'),
    '/usr/bin/node /tmp/gatepass-runs-0/run-a_b/x.mjs http://127.0.0.1:1/a_b',
  );
  for (const bad of [
    '/tmp/run dir',
    '/tmp/a"b',
    "/tmp/a'b",
    '/tmp/$HOME',
    '/tmp/a`id`',
    '/tmp/a;b',
    '/tmp/a\\b',
    '/tmp/a\nb',
  ]) {
    assert.throws(
      () => processCommand('/usr/bin/node', bad, 'http://127.0.0.1:1/a'),
      (e: unknown) => e instanceof AgentError && e.code === 'unsafe_path',
    );
  }
  assert.throws(() => processCommand('/usr/bin/node', '/tmp/x.mjs', 'http://example.com/a'));
});

test('an inherited CA bundle is copied as bytes: a byte order mark and blank edges go, its inside (CRLF, non-ASCII comments) stays exactly', async () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBprivate\n-----END CERTIFICATE-----\n';
  const inside =
    '# Certigna – racine\r\n-----BEGIN CERTIFICATE-----\r\nMIIBcorp\r\n-----END CERTIFICATE-----';
  const file = join(scratch, 'bom-bundle.pem');
  await writeFile(
    file,
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`\n\t ${inside}\r\n\n  `)]),
  );
  const dir = await createRunDir(freshBase(), 'run-ca-bytes');
  const files = await writeChildCa(dir, [pem], { awsCaBundle: file, nodeExtraCaCerts: file });
  const expected = `${pem}${inside}\n`;
  assert.equal(await readFile(files.awsCaBundle, 'utf8'), expected);
  assert.equal(await readFile(files.nodeExtraCaCerts, 'utf8'), expected);
  // The text forms agree with the files (and with String.prototype.trim on these inputs).
  assert.equal(Buffer.concat(awsCaBundle([pem], `\uFEFF\n ${inside}\n`)).toString('utf8'), expected);
  assert.equal(Buffer.concat(nodeExtraCa([` ${pem}`], undefined)).toString('utf8'), pem);
});

test("the command trusts the CA given to the agent on top of what it inherited: the AWS bundle or the public roots, and Node's extra CAs", async () => {
  const dir = await createRunDir(freshBase(), 'run-ca');
  const pem = '-----BEGIN CERTIFICATE-----\nMIIBprivate\n-----END CERTIFICATE-----\n';
  const mine = '-----BEGIN CERTIFICATE-----\nMIIBcorporate\n-----END CERTIFICATE-----\n';
  const mineFile = join(scratch, 'corporate.pem');
  await writeFile(mineFile, mine);

  // Nothing inherited: the AWS bundle is the agent's CA plus Node's roots; Node's extra is the CA.
  const plain = await writeChildCa(dir, [pem], {});
  assert.deepEqual(plain, {
    awsCaBundle: join(dir, AWS_CA_FILE),
    nodeExtraCaCerts: join(dir, NODE_CA_FILE),
    warnings: [],
  });
  const bundle = await readFile(plain.awsCaBundle, 'utf8');
  assert.ok(bundle.startsWith(pem));
  assert.equal((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length, rootCertificates.length + 1);
  assert.equal(await readFile(plain.nodeExtraCaCerts, 'utf8'), pem);
  for (const f of [plain.awsCaBundle, plain.nodeExtraCaCerts]) assert.equal(await mode(f), 0o600);

  // Inherited files are kept, after the agent's CA, instead of the public roots.
  assert.equal(Buffer.concat(awsCaBundle([pem], mine)).toString('utf8'), `${pem}${mine}`);
  assert.equal(Buffer.concat(nodeExtraCa([pem], mine)).toString('utf8'), `${pem}${mine}`);
  const dir2 = await createRunDir(freshBase(), 'run-ca2');
  const kept = await writeChildCa(dir2, [pem], { awsCaBundle: mineFile, nodeExtraCaCerts: mineFile });
  assert.equal(await readFile(kept.awsCaBundle, 'utf8'), `${pem}${mine}`);
  assert.equal(await readFile(kept.nodeExtraCaCerts, 'utf8'), `${pem}${mine}`);

  // An unreadable inherited file is a warning, and the agent's CA is still trusted.
  const dir3 = await createRunDir(freshBase(), 'run-ca3');
  const lost = await writeChildCa(dir3, [pem], { awsCaBundle: join(scratch, 'missing.pem') });
  assert.match(lost.warnings[0] ?? '', /^AWS_CA_BUNDLE .*missing\.pem cannot be read \(ENOENT\)/);
  assert.ok((await readFile(lost.awsCaBundle, 'utf8')).startsWith(pem));

  const c = config({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN });
  const env = defaultChildEnv(c, {
    ca: plain,
    parent: { AWS_CA_BUNDLE: mineFile, NODE_EXTRA_CA_CERTS: mineFile },
  });
  assert.equal(env.AWS_CA_BUNDLE, plain.awsCaBundle);
  assert.equal(env.NODE_EXTRA_CA_CERTS, plain.nodeExtraCaCerts);
  const none = defaultChildEnv(c, { parent: { AWS_CA_BUNDLE: mineFile } });
  assert.equal(none.AWS_CA_BUNDLE, mineFile, 'without --ca the inherited value is left as it is');
  assert.equal(none.NODE_EXTRA_CA_CERTS, undefined);
});

test('the child env points at the run files and drops inherited credentials and the agent token', () => {
  const c = config(
    {
      TFC_AWS_PROVIDER_AUTH: 'true',
      TFC_AWS_RUN_ROLE_ARN: RUN,
      TFC_AWS_PROVIDER_AUTH_member: 'true',
      TFC_AWS_RUN_ROLE_ARN_member: HOP2,
    },
    { stsEndpoint: 'http://127.0.0.1:9000' },
  );
  const env = buildChildEnv({
    parent: {
      PATH: '/usr/bin',
      HOME: '/home/x',
      AWS_ACCESS_KEY_ID: 'AKIAOLD',
      AWS_SECRET_ACCESS_KEY: 'old',
      AWS_SESSION_TOKEN: 'old',
      AWS_PROFILE: 'prod',
      AWS_DEFAULT_PROFILE: 'prod',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/x',
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'x',
      AWS_SHARED_CREDENTIALS_FILE: '/home/x/.aws/credentials',
      GATEPASS_AGENT_TOKEN: 'gpat_secret',
      TFC_WORKLOAD_IDENTITY_TOKEN_old: 'stale',
    },
    workspace: new Map([
      ['TF_LOG', 'info'],
      ['AWS_SECRET_ACCESS_KEY', 'from-workspace'],
    ]),
    config: c,
    defaultConfigFile: '/run/aws.config',
    credentialsFile: '/run/aws.credentials',
    delivered: [
      { tag: '', tokenFile: '/run/aws.token', configFile: '/run/aws.config' },
      { tag: 'member', tokenFile: '/run/aws-member.token', configFile: '/run/aws-member.config' },
    ],
    genericTokens: new Map([['TFC_WORKLOAD_IDENTITY_TOKEN', JWT]]),
    runId: 'run-Xy12',
  });
  for (const gone of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_DEFAULT_PROFILE',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_CONTAINER_AUTHORIZATION_TOKEN',
    'GATEPASS_AGENT_TOKEN',
    'TFC_WORKLOAD_IDENTITY_TOKEN_old',
  ]) {
    assert.equal(env[gone], undefined, gone);
  }
  assert.equal(env.PATH, '/usr/bin');
  assert.equal(env.TF_LOG, 'info');
  assert.equal(env.AWS_CONFIG_FILE, '/run/aws.config');
  assert.equal(env.AWS_SHARED_CREDENTIALS_FILE, '/run/aws.credentials');
  // With an alias present, the web identity variables would override the alias's config file.
  assert.equal(env.AWS_ROLE_ARN, undefined);
  assert.equal(env.AWS_WEB_IDENTITY_TOKEN_FILE, undefined);
  assert.equal(env.AWS_ENDPOINT_URL_STS, 'http://127.0.0.1:9000');
  assert.equal(env.AWS_ENDPOINT_URL_IAM, 'http://127.0.0.1:9000');
  assert.equal(env.AWS_REGION, 'us-east-1');
  assert.equal(env.AWS_DEFAULT_REGION, 'us-east-1');
  assert.equal(env.AWS_SDK_LOAD_CONFIG, '1');
  assert.equal(env.AWS_EC2_METADATA_DISABLED, 'true');
  assert.equal(env.TFC_WORKLOAD_IDENTITY_TOKEN, JWT);
  assert.equal(env.TFC_RUN_ID, 'run-Xy12');
  assert.equal(env.GATEPASS_RUN_PHASE, 'apply');
  assert.deepEqual(JSON.parse(env.TF_VAR_tfc_aws_dynamic_credentials ?? ''), {
    default: { shared_config_file: '/run/aws.config' },
    aliases: { member: { shared_config_file: '/run/aws-member.config' } },
  });
});

/** buildChildEnv for one default configuration delivered to /run, overridable per test. */
function defaultChildEnv(
  c: RunConfig,
  overrides: Partial<Parameters<typeof buildChildEnv>[0]> = {},
): ReturnType<typeof buildChildEnv> {
  return buildChildEnv({
    parent: {},
    workspace: new Map(),
    config: c,
    defaultConfigFile: '/run/aws.config',
    credentialsFile: '/run/aws.credentials',
    delivered: [{ tag: '', tokenFile: '/run/aws.token', configFile: '/run/aws.config' }],
    genericTokens: new Map(),
    runId: 'run-1',
    ...overrides,
  });
}

test('a lone unchained default configuration gets the web identity variables', () => {
  const c = config({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN });
  const env = defaultChildEnv(c, { runId: 'run-Xy12' });
  assert.equal(env.AWS_ROLE_ARN, RUN);
  assert.equal(env.AWS_WEB_IDENTITY_TOKEN_FILE, '/run/aws.token');
  assert.equal(env.AWS_ROLE_SESSION_NAME, 'gatepass-run-Xy12-apply');
});

test('a chained default configuration gets no web identity variables (SDKs would skip the chain)', () => {
  const c = config({
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_RUN_ROLE_ARN: RUN,
    GATEPASS_AWS_CHAIN_ROLE_ARN: HOP2,
  });
  const env = defaultChildEnv(c, { parent: { AWS_ROLE_ARN: 'arn:aws:iam::999999999999:role/inherited' } });
  assert.equal(env.AWS_ROLE_ARN, undefined);
  assert.equal(env.AWS_WEB_IDENTITY_TOKEN_FILE, undefined);
  assert.equal(env.AWS_CONFIG_FILE, '/run/aws.config');
});

test('served credentials: the default configuration is the container endpoint, never web identity variables', () => {
  const c = config({ TFC_AWS_PROVIDER_AUTH: 'true', TFC_AWS_RUN_ROLE_ARN: RUN });
  const env = defaultChildEnv(c, {
    container: { url: 'http://127.0.0.1:5555/default', authorizationToken: 'tok' },
    delivered: [{ tag: '', configFile: '/run/aws.config' }],
  });
  assert.equal(env.AWS_WEB_IDENTITY_TOKEN_FILE, undefined);
  assert.equal(
    defaultChildEnv(c, { delivered: [{ tag: '', configFile: '/run/aws.config' }] }).AWS_ROLE_ARN,
    undefined,
  );
  assert.equal(env.AWS_CONTAINER_CREDENTIALS_FULL_URI, 'http://127.0.0.1:5555/default');
  assert.equal(env.AWS_CONTAINER_AUTHORIZATION_TOKEN, 'tok');
  assert.equal(env.AWS_ROLE_ARN, undefined);
});

test('without AWS configurations there is no tfc_aws_dynamic_credentials variable', () => {
  const c = config({ TFC_WORKLOAD_IDENTITY_AUDIENCE: 'vault' });
  const env = defaultChildEnv(c, {
    delivered: [],
    genericTokens: new Map([['TFC_WORKLOAD_IDENTITY_TOKEN', JWT]]),
  });
  assert.equal(env.TF_VAR_tfc_aws_dynamic_credentials, undefined);
  assert.equal(env.TFC_WORKLOAD_IDENTITY_TOKEN, JWT);
  assert.equal(isRemovedVariable('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'), true);
  assert.equal(isRemovedVariable('AWS_REGION'), false);
});

test('stale run dirs of dead agents are removed; live agents and fresh unmarked dirs are kept', async () => {
  const base = freshBase();
  const dead = await createRunDir(base, 'run-dead', 999_999);
  const live = await createRunDir(base, 'run-live', process.pid);
  const fresh = join(base, 'unmarked-fresh');
  await mkdir(fresh);
  const old = join(base, 'unmarked-old');
  await mkdir(old);
  const then = new Date(Date.now() - 3_600_000);
  await utimes(old, then, then);
  const removed = cleanStaleRunDirs(base, { isAlive: (pid) => pid === process.pid });
  assert.deepEqual(removed.sort(), [dead.slice(base.length + 1), 'unmarked-old'].sort());
  assert.ok((await lstat(live)).isDirectory());
  assert.ok((await lstat(fresh)).isDirectory());
  assert.deepEqual(cleanStaleRunDirs(join(scratch, 'does-not-exist')), []);
});
