// `gatepass apply` writes only what it can stand behind, and the CLI ends quietly when its reader
// goes away. With the real CLI as child processes:
// - against PostgreSQL without the master key (none given, none in the data dir) apply fails up
//   front with a hint, creates no key file and writes nothing; with a key that does not open the
//   store's sealed values likewise; with the nodes' key it applies;
// - `--dry-run` writes nothing at all: no data directory, no database, valid file or rejected;
// - `gatepass audit --json | head -1` exits 0 with nothing on stderr.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type PostgresSandbox, startPostgres } from '../../scripts/pg-sandbox.js';
import { SealingKeys } from '../../src/cloud/sessions/keys.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { openStore } from '../../src/store/open.js';
import { runChild } from '../helpers/child.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = join(root, 'src/cli/main.ts');
// Resolved here: the CLI runs in directories that have no node_modules.
const TSX = import.meta.resolve('tsx');
let work: string;
let setup: string;
let sandbox: PostgresSandbox;

/** The CLI in `cwd` with only PATH and HOME (no master key unless given). */
const gatepass = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  runChild(process.execPath, ['--import', TSX, main, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: work, NO_COLOR: '1', ...env },
    cwd,
  });

const newDir = (name: string): string => mkdtempSync(join(work, `${name}-`));

async function entityCount(url: string): Promise<number> {
  const store = await openStore({ dataDir: '/nonexistent', databaseUrl: url });
  try {
    return (await store.count('account')) + (await store.count('user'));
  } finally {
    await store.close();
  }
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'gatepass-apply-safety-'));
  setup = join(work, 'setup.yaml');
  writeFileSync(setup, 'accounts:\n  - name: hub\n  - name: dev\n    users:\n      - name: deployer\n');
  sandbox = await startPostgres();
});

after(async () => {
  await sandbox?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('apply --database-url without the master key fails up front with a hint, creates no key and writes nothing', async () => {
  const url = await sandbox.createDatabase('apply_no_key');
  const cwd = newDir('cwd');
  const r = await gatepass(['apply', '-f', setup, '--database-url', url], cwd);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /no master key for the PostgreSQL store; nothing was written/);
  assert.match(r.stderr, /GATEPASS_MASTER_KEY/);
  assert.ok(!r.stderr.includes(url), 'the database URL (and its password) is not echoed');
  assert.deepEqual(readdirSync(cwd), [], 'no ./.gatepass, no master.key');
  assert.equal(await entityCount(url), 0);
});

test('apply with a master key that does not open the store fails before writing; with the nodes key it applies, on the record', async () => {
  const url = await sandbox.createDatabase('apply_wrong_key');
  const nodesKey = randomBytes(32);
  // A node has served this store: its sealing key is sealed under the nodes' master key.
  const store = await openStore({ dataDir: '/nonexistent', databaseUrl: url });
  await new SealingKeys(store, nodesKey, cryptoRandom, systemClock).load();
  await store.close();

  const cwd = newDir('cwd');
  const wrong = await gatepass(['apply', '-f', setup, '--database-url', url], cwd, {
    GATEPASS_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  assert.equal(wrong.status, 2, wrong.stdout + wrong.stderr);
  assert.match(wrong.stderr, /the master key from GATEPASS_MASTER_KEY does not open the PostgreSQL store/);
  assert.equal(await entityCount(url), 0, 'nothing written');

  // Without any key but a store that holds sealed values: refused too, and no key file appears.
  const none = await gatepass(['apply', '-f', setup, '--database-url', url], cwd);
  assert.equal(none.status, 2);
  assert.deepEqual(readdirSync(cwd), []);

  const dataDir = newDir('data');
  const right = await gatepass(['apply', '-f', setup, '--database-url', url, '--data-dir', dataDir], cwd, {
    GATEPASS_MASTER_KEY: nodesKey.toString('base64'),
  });
  assert.equal(right.status, 0, right.stderr);
  assert.match(right.stdout, /changed 3 of 3 entities/);
  assert.match(right.stdout, /administrator of account \d{12}: profile gatepass-hub/);
  // Every new account gets its administrator, dev too although the file gives it a user.
  assert.match(right.stdout, /administrator of account \d{12}: profile gatepass-dev/);
  assert.equal(await entityCount(url), 5, 'two accounts, the deployer and both administrators');
  // The apply is on the record, with what it changed; the refused attempts left nothing.
  const check = await openStore({ dataDir: '/nonexistent', databaseUrl: url });
  try {
    const events = await check.queryAudit({ action: 'setup:apply' });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.decision, 'info');
    assert.equal(events[0]?.detail?.count, 3);
    assert.deepEqual(events[0]?.detail?.changes, [
      'create account hub',
      'create account dev',
      'create user dev/user/deployer',
    ]);
  } finally {
    await check.close();
  }
});

test('apply on an embedded store sealed under another key fails before writing', async () => {
  const dataDir = newDir('sqlite');
  const first = await gatepass(['apply', '-f', setup, '--data-dir', dataDir], work);
  assert.equal(first.status, 0, first.stderr);
  rmSync(join(dataDir, 'master.key'));
  const again = await gatepass(['apply', '-f', setup, '--data-dir', dataDir], work);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /no master key for the store in .*; nothing was written/);
  assert.ok(!existsSync(join(dataDir, 'master.key')), 'no new key generated over sealed values');
  const wrong = await gatepass(['apply', '-f', setup, '--data-dir', dataDir], work, {
    GATEPASS_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /does not open the store in/);
});

test('apply --dry-run writes nothing at all: no data directory and no database, for a valid or a rejected file', async () => {
  const dataDir = join(work, 'never-created');
  const dry = await gatepass(['apply', '-f', setup, '--data-dir', dataDir, '--dry-run'], work);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /would change 3 of 3 entities \(dry run: nothing written\)/);
  assert.ok(!existsSync(dataDir), 'no data directory');

  const rejected = join(work, 'rejected.yaml');
  writeFileSync(
    rejected,
    'accounts:\n  - name: hub\n    users:\n      - name: u\n        attachedPolicies: [no-such-policy]\n',
  );
  const refused = await gatepass(['apply', '-f', rejected, '--data-dir', dataDir, '--dry-run'], work);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /no managed policy no-such-policy/);
  assert.ok(!existsSync(dataDir), 'no data directory after a rejected file either');

  const cwd = newDir('cwd');
  const url = await sandbox.createDatabase('apply_dry_run');
  const pg = await gatepass(['apply', '-f', setup, '--database-url', url, '--dry-run'], cwd);
  assert.equal(pg.status, 0, pg.stderr);
  assert.deepEqual(readdirSync(cwd), [], 'no master key needed, none created');
  assert.equal(await entityCount(url), 0);
});

test('gatepass audit --json | head -1 exits 0 with nothing on stderr when the reader closes the pipe', async () => {
  const dataDir = newDir('audit');
  const store = await openStore({ dataDir });
  await store.appendAudit(
    Array.from({ length: 1000 }, (_, i) => ({
      time: Date.now(),
      requestId: `r-${i}`,
      action: 'sts:AssumeRole',
      decision: 'deny' as const,
      detail: { note: 'x'.repeat(400) },
    })),
  );
  await store.close();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', main, 'audit', '--json', '--data-dir', dataDir, '--limit', '1000'],
    { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: work }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  // Like `head -1`: read the first line, then close the pipe while the CLI is still writing.
  const first = await new Promise<string>((resolve) => {
    let buffered = '';
    child.stdout.on('data', (c: Buffer) => {
      buffered += c.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl >= 0) {
        child.stdout.destroy();
        resolve(buffered.slice(0, nl));
      }
    });
  });
  assert.equal(JSON.parse(first).action, 'sts:AssumeRole');
  assert.equal(await exited, 0);
  assert.equal(stderr, '', 'no EPIPE stack trace');
});
