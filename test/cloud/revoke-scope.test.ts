// RevokeRun is scoped over real HTTP: a run is (issuer, run id). Another tenant's registered issuer
// (its own account, its own keys) carrying the victim's terraform_run_id is refused and the victim's
// run is unharmed; forged, long-expired and malformed requests change nothing; a token of another
// run ends only that run; scope Phase ends one phase (chained sessions and the phase's tokens
// included) and leaves the run's other phase alone; the operator's `revoke run` takes --issuer and
// --phase.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { REVOKE_RUN_AUDIENCE } from '../../src/core/revoke-audience.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { cli } from '../explain/helpers.js';
import type { Keys } from '../helpers/cloud.js';
import { AUD, keysFrom, pick, type StsWorld, SUB, startStsWorld } from './sts-world.js';

const V = '2011-06-15';
const APPLY_SUB = SUB.replace(/plan$/, 'apply');
const EVIL_SUB = 'organization:evil:project:p:workspace:w:run_phase:plan';
let w: StsWorld;
/** The other tenant's account: the `stranger` issuer is its registered provider, `b-web` its role. */
let tenantB = '';

before(async () => {
  w = await startStsWorld();
  const host = w.stranger.issuer.replace(/^https:\/\//, '');
  const spec = {
    accounts: [
      {
        name: 'tenant-b',
        oidcProviders: [{ url: w.stranger.issuer, clientIds: [AUD], thumbprints: [w.fx.pki.caThumbprint] }],
        roles: [
          {
            name: 'b-web',
            trustPolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Federated: `arn:aws:iam::{{tenant-b}}:oidc-provider/${host}` },
                  Action: 'sts:AssumeRoleWithWebIdentity',
                  Condition: {
                    StringEquals: { [`${host}:aud`]: AUD },
                    StringLike: { [`${host}:sub`]: 'organization:evil:*' },
                  },
                },
              ],
            },
          },
        ],
      },
      {
        // The victim's apply role, trusted by apply-phase tokens of the main issuer.
        name: 'hub',
        id: w.fx.accountId,
        roles: [
          {
            name: 'web-apply',
            trustPolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: {
                    Federated: `arn:aws:iam::${w.fx.accountId}:oidc-provider/${w.host}`,
                  },
                  Action: 'sts:AssumeRoleWithWebIdentity',
                  Condition: { StringEquals: { [`${w.host}:aud`]: AUD, [`${w.host}:sub`]: APPLY_SUB } },
                },
              ],
            },
          },
        ],
      },
    ],
  };
  // The account id is only known once created: create the account, then its provider and role.
  const apply = async (s: unknown) => {
    try {
      return await applySetup(
        w.fx.app.store,
        parseSetup(JSON.stringify(s), 'scope.json'),
        { random: cryptoRandom, clock: systemClock },
        { file: 'scope.json' },
      );
    } catch (e) {
      throw new Error(`${(e as { lines?: () => string[] }).lines?.().join('\n') ?? e}`);
    }
  };
  const first = await apply({ accounts: [{ name: 'tenant-b' }] });
  tenantB = first.accounts.find((a) => a.name === 'tenant-b')?.id ?? '';
  const withId = JSON.parse(JSON.stringify(spec).replaceAll('{{tenant-b}}', tenantB)) as typeof spec;
  (withId.accounts[0] as Record<string, unknown>).id = tenantB;
  await apply(withId);
  await w.fx.cloud.sync();
});
after(() => w?.stop());

const whoami = async (k: Keys): Promise<string> => {
  const r = await w.signed(k, { Action: 'GetCallerIdentity', Version: V });
  return r.status === 200 ? 'ok' : pick(r.body, 'Code');
};
const revokeRun = (token: string, extra: Record<string, string> = {}) =>
  w.post({ Action: 'RevokeRun', Version: V, WebIdentityToken: token, ...extra });
const assume = (token: string, role: string, account = w.fx.accountId) =>
  w.post({
    Action: 'AssumeRoleWithWebIdentity',
    Version: V,
    RoleArn: w.roleArn(role, account),
    RoleSessionName: 'scope',
    WebIdentityToken: token,
  });
const chain = async (k: Keys): Promise<Keys> => {
  const r = await w.signed(k, {
    Action: 'AssumeRole',
    Version: V,
    RoleArn: w.roleArn('target', w.memberId),
    RoleSessionName: 'chained',
  });
  assert.equal(r.status, 200, pick(r.body, 'Message'));
  return keysFrom(r.body);
};
const revocationCount = async (): Promise<number> => (await w.fx.app.store.list('revocation')).length;

test("another tenant's registered issuer carrying the victim's run id: RevokeRun refused (AccessDenied), victim unharmed", async () => {
  const run = { terraform_run_id: 'run-victim-1', terraform_run_phase: 'plan' };
  const victim = await w.session(run);
  const chained = await chain(victim);
  // The attacker's token is genuine: its issuer is registered (in its own account) and signs it.
  const attackerToken = await w.token({ ...run, sub: EVIL_SUB }, w.stranger);

  const before = await revocationCount();
  for (const extra of [{}, { Scope: 'Phase' }]) {
    const r = await revokeRun(attackerToken, extra);
    assert.equal(r.status, 403, r.body);
    assert.equal(pick(r.body, 'Code'), 'AccessDenied');
    assert.match(pick(r.body, 'Message'), /did not start run run-victim-1/);
    assert.doesNotMatch(r.body, /eyJ/, 'no token in the error');
  }
  await w.fx.cloud.sync();
  assert.equal(await revocationCount(), before, 'nothing was written');
  assert.equal(await whoami(victim), 'ok');
  assert.equal(await whoami(chained), 'ok');
  assert.equal((await assume(await w.token(run), 'web')).status, 200, "the victim's tokens still mint");

  // The refusal is on record for the operator.
  const denial = (await w.audit()).find((e) => e.action === 'sts:RevokeRun' && e.decision === 'deny');
  assert.ok(denial, 'the refused RevokeRun is audited');
  assert.equal(denial.reasonCode, 'AccessDenied');

  // Once the attacker's own run of that id has sessions here (its token is valid for its own role),
  // its RevokeRun ends that run, its own: the victim's run is still unharmed.
  const own = await assume(attackerToken, 'b-web', tenantB);
  assert.equal(own.status, 200, pick(own.body, 'Message'));
  assert.equal((await revokeRun(attackerToken)).status, 200);
  await w.fx.cloud.sync();
  assert.equal(await whoami(keysFrom(own.body)), 'InvalidClientTokenId');
  assert.equal(await whoami(victim), 'ok');
  assert.equal(await whoami(chained), 'ok');
  assert.equal((await assume(await w.token(run), 'web')).status, 200);
});

test("before the victim's run obtained any session, another issuer's RevokeRun only ends its own run", async () => {
  const run = { terraform_run_id: 'run-victim-2', terraform_run_phase: 'plan' };
  const attackerToken = await w.token({ ...run, sub: EVIL_SUB }, w.stranger);
  assert.equal((await revokeRun(attackerToken)).status, 200);
  await w.fx.cloud.sync();
  // The revocation names (stranger, run-victim-2): the victim's issuer's run of that id is untouched.
  const victim = await w.session(run);
  assert.equal(await whoami(victim), 'ok');
  assert.equal(await whoami(await chain(victim)), 'ok');
  // …and the attacker's own run is ended.
  assert.equal(pick((await assume(attackerToken, 'b-web', tenantB)).body, 'Code'), 'IDPRejectedClaim');
});

test('a token of another run ends that run only', async () => {
  const mine = await w.session({ terraform_run_id: 'run-mine' });
  const other = await w.session({ terraform_run_id: 'run-other' });
  assert.equal((await revokeRun(await w.token({ terraform_run_id: 'run-other' }))).status, 200);
  await w.fx.cloud.sync();
  assert.equal(await whoami(other), 'InvalidClientTokenId');
  assert.equal(await whoami(mine), 'ok');
});

test('forged, long-expired, run-less and malformed RevokeRun requests are refused with AWS errors and change nothing', async () => {
  const run = { terraform_run_id: 'run-victim-3', terraform_run_phase: 'plan' };
  const victim = await w.session(run);
  const before = await revocationCount();
  const genuine = await w.token(run);
  const [h, p] = genuine.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p ?? '', 'base64url').toString()), sub: 'x'.repeat(10) })).toString('base64url')}.${genuine.split('.')[2]}`;
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, Promise<Awaited<ReturnType<typeof revokeRun>>>, number, string]> = [
    ['forged payload', revokeRun(forged), 400, 'InvalidIdentityToken'],
    ['not a JWT', revokeRun('not-a-jwt'), 400, 'InvalidIdentityToken'],
    [
      'unregistered issuer',
      revokeRun(await w.token({ ...run, iss: 'https://nobody.example' })),
      400,
      'InvalidIdentityToken',
    ],
    [
      'issuer behind an untrusted certificate',
      revokeRun(await w.token(run, w.untrusted)),
      400,
      'IDPCommunicationError',
    ],
    [
      'expired over 12 hours ago',
      revokeRun(await w.token({ ...run, iat: now - 50_000, nbf: now - 50_000, exp: now - 43_300 })),
      400,
      'ExpiredTokenException',
    ],
    ['no run id', revokeRun(await w.token({ terraform_run_id: undefined })), 400, 'InvalidIdentityToken'],
    [
      'phase scope without a phase claim',
      revokeRun(await w.token({ terraform_run_id: 'run-victim-3' }), { Scope: 'Phase' }),
      400,
      'InvalidIdentityToken',
    ],
    ['unknown scope', revokeRun(genuine, { Scope: 'Everything' }), 400, 'ValidationError'],
  ];
  for (const [name, pending, status, code] of cases) {
    const r = await pending;
    assert.equal(r.status, status, `${name}: ${r.body}`);
    assert.equal(pick(r.body, 'Code'), code, name);
  }
  await w.fx.cloud.sync();
  assert.equal(await revocationCount(), before);
  assert.equal(await whoami(victim), 'ok');
});

test('a revoke-only token (the issuer sends one after a lease lapse) ends its run but never starts a session, even where a provider lists its audience', async () => {
  const run = { terraform_run_id: 'run-revoke-only', terraform_run_phase: 'plan' };
  const victim = await w.session(run);
  const revokeOnly = await w.token({ ...run, aud: REVOKE_RUN_AUDIENCE });
  const refused = async () => {
    const r = await assume(revokeOnly, 'web');
    assert.equal(r.status, 400, r.body);
    assert.equal(pick(r.body, 'Code'), 'InvalidIdentityToken');
    assert.equal(pick(r.body, 'Message'), 'Incorrect token audience');
  };
  await refused();
  // A provider that (by mistake or malice) lists the revoke-only audience as a client id changes nothing.
  const providers = await w.fx.app.store.list('oidcProvider');
  const provider = providers.find((p) => p.url === w.idp.issuer);
  assert.ok(provider);
  await w.fx.app.store.put('oidcProvider', {
    ...provider,
    clientIds: [...provider.clientIds, REVOKE_RUN_AUDIENCE],
  });
  try {
    await w.fx.cloud.sync();
    await refused();
  } finally {
    await w.fx.app.store.put('oidcProvider', provider);
    await w.fx.cloud.sync();
  }
  assert.equal(await whoami(victim), 'ok');
  assert.equal((await revokeRun(revokeOnly)).status, 200);
  await w.fx.cloud.sync();
  assert.equal(await whoami(victim), 'InvalidClientTokenId');
});

test('a token past its exp (within 12 hours) still proves its run: RevokeRun honours it', async () => {
  const run = { terraform_run_id: 'run-late' };
  const k = await w.session(run);
  const now = Math.floor(Date.now() / 1000);
  const late = await w.token({ ...run, iat: now - 7200, nbf: now - 7200, exp: now - 3600 });
  assert.equal((await revokeRun(late)).status, 200);
  await w.fx.cloud.sync();
  assert.equal(await whoami(k), 'InvalidClientTokenId');
});

test("Scope=Phase ends the phase's sessions (chained too) and its tokens; the run's other phase keeps working", async () => {
  const plan = { terraform_run_id: 'run-phased', terraform_run_phase: 'plan' };
  const apply = { terraform_run_id: 'run-phased', terraform_run_phase: 'apply', sub: APPLY_SUB };
  const p = await w.session(plan);
  const pc = await chain(p);
  const r = await revokeRun(await w.token(plan), { Scope: 'Phase' });
  assert.equal(r.status, 200, r.body);
  assert.equal(pick(r.body, 'RunId'), 'run-phased');
  assert.equal(pick(r.body, 'Phase'), 'plan');
  await w.fx.cloud.sync();
  assert.equal(await whoami(p), 'InvalidClientTokenId');
  assert.equal(await whoami(pc), 'InvalidClientTokenId');
  const again = await assume(await w.token(plan), 'web');
  assert.equal(pick(again.body, 'Code'), 'IDPRejectedClaim', 'a plan token mints nothing any more');
  const a = await assume(await w.token(apply), 'web-apply');
  assert.equal(a.status, 200, pick(a.body, 'Message'));
  assert.equal(await whoami(keysFrom(a.body)), 'ok');
  // The run ends: now the apply session ends too.
  assert.equal((await revokeRun(await w.token(apply))).status, 200);
  await w.fx.cloud.sync();
  assert.equal(await whoami(keysFrom(a.body)), 'InvalidClientTokenId');
});

test('revoke run --issuer/--phase: scoped to that issuer (and phase); bad flags are usage errors that write nothing', async () => {
  const run = { terraform_run_id: 'run-cli-scoped', terraform_run_phase: 'plan' };
  const mine = await w.session(run);
  const theirs = keysFrom(
    (await assume(await w.token({ ...run, sub: EVIL_SUB }, w.stranger), 'b-web', tenantB)).body,
  );
  const before = await revocationCount();
  for (const args of [
    ['--issuer', 'http://plain.example'],
    ['--issuer', `${w.idp.issuer}/`],
    ['--issuer', 'not a url'],
    ['--phase', 'deploy'],
  ]) {
    const r = await cli(['revoke', 'run', 'run-cli-scoped', ...args, '--data-dir', w.fx.dataDir]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  const roleWithIssuer = await cli([
    'revoke',
    'role',
    w.roleArn('web'),
    '--issuer',
    w.idp.issuer,
    '--data-dir',
    w.fx.dataDir,
  ]);
  assert.equal(roleWithIssuer.code, 2);
  assert.equal(await revocationCount(), before);

  const r = await cli([
    'revoke',
    'run',
    'run-cli-scoped',
    '--issuer',
    w.idp.issuer,
    '--phase',
    'plan',
    '--data-dir',
    w.fx.dataDir,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /revoked run run-cli-scoped \(plan phase\) of issuer https:/);
  await w.fx.cloud.sync();
  assert.equal(await whoami(mine), 'InvalidClientTokenId');
  assert.equal(await whoami(theirs), 'ok', "the other issuer's run of the same id is untouched");
  // Without --issuer the operator ends the run id under every issuer.
  assert.equal((await cli(['revoke', 'run', 'run-cli-scoped', '--data-dir', w.fx.dataDir])).code, 0);
  await w.fx.cloud.sync();
  assert.equal(await whoami(theirs), 'InvalidClientTokenId');
});
