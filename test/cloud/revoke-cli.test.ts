// `gatepass revoke` against the data directory of a running node: a session revoked by its access
// key id, a run's sessions (chained ones included) and a role's older sessions stop working as soon
// as the node syncs from the store; newer sessions of the role keep working; bad input is a usage
// error that writes nothing. Without --data-dir it asks the running node (POST /api/v1/revocations).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cli } from '../explain/helpers.js';
import type { Keys } from '../helpers/cloud.js';
import { keysFrom, pick, type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const V = '2011-06-15';
const whoami = async (k: Keys): Promise<string> => {
  const r = await w.signed(k, { Action: 'GetCallerIdentity', Version: V });
  return r.status === 200 ? 'ok' : pick(r.body, 'Code');
};
const revoke = (...args: string[]) => cli(['revoke', ...args, '--data-dir', w.fx.dataDir]);

test('revoke session <ASIA key id>: that session ends, another of the same run does not', async () => {
  const a = await w.session({ terraform_run_id: 'run-cli-1' });
  const b = await w.session({ terraform_run_id: 'run-cli-1' });
  const r = await revoke('session', a.accessKeyId, '--reason', 'leaked in a log');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /revoked session ASIA/);
  await w.fx.cloud.sync();
  assert.equal(await whoami(a), 'InvalidClientTokenId');
  assert.equal(await whoami(b), 'ok');
  const events = await w.fx.app.store.queryAudit({ action: 'sts:RevokeSession' });
  assert.equal(events[0]?.accessKeyId, a.accessKeyId);
  assert.equal(events[0]?.detail?.reason, 'leaked in a log');
});

test('revoke run <id>: every session of the run ends, chained ones included', async () => {
  const k = await w.session({ terraform_run_id: 'run-cli-2' });
  const chained = await w.signed(k, {
    Action: 'AssumeRole',
    Version: V,
    RoleArn: w.roleArn('target', w.memberId),
    RoleSessionName: 'chained',
  });
  assert.equal(chained.status, 200);
  const c = keysFrom(chained.body);
  assert.equal((await revoke('run', 'run-cli-2')).code, 0);
  await w.fx.cloud.sync();
  assert.equal(await whoami(k), 'InvalidClientTokenId');
  assert.equal(await whoami(c), 'InvalidClientTokenId');
});

test('revoke role <arn>: sessions issued before now end; a session issued afterwards works', async () => {
  const older = await w.adminSession('cli');
  // Issue times have one-second resolution (as aws:TokenIssueTime): revoke up to the next second.
  const cut = (Math.floor(Date.now() / 1000) + 1) * 1000;
  assert.equal((await revoke('role', w.roleArn('tagged'), '--before', String(cut))).code, 0);
  await w.fx.cloud.sync();
  assert.equal(await whoami(older), 'InvalidClientTokenId');
  await new Promise((r) => setTimeout(r, Math.max(0, cut - Date.now() + 10)));
  assert.equal(await whoami(await w.adminSession('cli')), 'ok');
});

test('bad scope, subject or flag is a usage error and writes nothing', async () => {
  const before = (await w.fx.app.store.list('revocation')).length;
  for (const args of [
    ['user', 'x'],
    ['session', 'AKIAAAAAAAAAAAAAAAAA'],
    ['role', 'arn:aws:iam::1:role/x'],
    ['run', 'run-1', '--before', '2026-01-01T00:00:00Z'],
  ]) {
    const r = await revoke(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.equal((await w.fx.app.store.list('revocation')).length, before);
});

test('without --data-dir, revoke asks the running node over HTTP with the admin token: applied there at once and audited with the request id', async () => {
  const k = await w.session({ terraform_run_id: 'run-cli-server', terraform_run_phase: 'plan' });
  const r = await cli(['revoke', 'run', 'run-cli-server', '--phase', 'plan', '--reason', 'plan leaked'], {
    GATEPASS_SERVER: w.fx.url,
    GATEPASS_DATA_DIR: w.fx.dataDir,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /revoked run run-cli-server \(plan phase\) under every issuer/);
  const requestId = /request id (\S+)/.exec(r.stdout)?.[1] ?? '';
  // No sync here: the node that took the request applies it before answering.
  assert.equal(await whoami(k), 'InvalidClientTokenId');
  const [event] = await w.fx.app.store.queryAudit({ requestId });
  assert.equal(event?.action, 'sts:RevokeRun');
  assert.equal(event?.runId, 'run-cli-server');
  assert.deepEqual(event?.detail, { reason: 'plan leaked', issuer: '*', phase: 'plan' });
  assert.match(event?.caller ?? '', /^admin-token:/);
});

test('the revocation API refuses without the admin token (401) and bad input (400 naming the field), writing nothing', async () => {
  const before = (await w.fx.app.store.list('revocation')).length;
  const post = async (body: unknown, token?: string) => {
    const res = await fetch(`${w.fx.url}/api/v1/revocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code?: string; field?: string } } };
  };
  const admin = readFileSync(join(w.fx.dataDir, 'admin-token'), 'utf8').trim();
  assert.equal((await post({ scope: 'run', subject: 'run-x' })).status, 401);
  assert.equal((await post({ scope: 'run', subject: 'run-x' }, 'gpa_not-the-token')).status, 401);
  for (const [body, field] of [
    [{ scope: 'user', subject: 'x' }, 'scope'],
    [{ scope: 'session', subject: 'AKIAAAAAAAAAAAAAAAAA' }, 'subject'],
    [{ scope: 'run', subject: 'run-x', before: '2026-01-01T00:00:00Z' }, 'before'],
    [{ scope: 'run', subject: 'run-x', issuer: 'http://plain.example' }, 'issuer'],
    [{ scope: 'run', subject: 'run-x', phase: 'deploy' }, 'phase'],
    [{ scope: 'run', subject: 'run-x', extra: 1 }, 'extra'],
    [{ scope: 'run' }, 'subject'],
  ] as const) {
    const r = await post(body, admin);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error?.code, 'invalid_field');
    assert.equal(r.body.error?.field, field, JSON.stringify(body));
  }
  assert.equal((await w.fx.app.store.list('revocation')).length, before);
});

test('revoke against a node with no admin token where the CLI looks says where it looked and what to pass', async () => {
  const r = await cli(['revoke', 'run', 'run-cli-none'], {
    GATEPASS_SERVER: w.fx.url,
    GATEPASS_DATA_DIR: join(w.fx.dataDir, 'nowhere'),
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no token: .*nowhere\/admin-token does not exist/);
  assert.match(r.stderr, /hint: pass --token-file/);
});
