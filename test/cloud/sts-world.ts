// A gatepass node set up for STS conformance tests over raw HTTP: one trusted identity provider,
// one whose JWKS is served over plain http, one behind a certificate nobody trusts, a stranger
// issuer nobody registered, roles for each, and a raw signer so tests can tamper with exactly one
// byte of a signed request. Shared by the golden-response and attack-suite tests.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import Database from 'better-sqlite3';
import { newSessionIds, sealSession } from '../../src/cloud/sessions/credentials.js';
import { applySetup } from '../../src/cloud/setup/apply.js';
import { parseSetup } from '../../src/cloud/setup/schema.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { SQLITE_FILE } from '../../src/store/open.js';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { runSubject } from '../../src/store/records/sessions.js';
import { type CloudFixture, type Keys, startCloud } from '../helpers/cloud.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { makeTestPki } from '../helpers/tls.js';
import { httpRequest, type Reply } from '../server/helpers.js';

export const AUD = 'aws.workload.identity';
export const SUB = 'organization:acme:project:Infra:workspace:networking:run_phase:plan';

export type RawResponse = Reply;

export interface SignOptions {
  /** Signing instant (ms); default now. */
  dateMs?: number;
  service?: string;
  /** Signing region of the credential scope; default us-east-1. */
  region?: string;
  method?: 'POST' | 'GET';
  /** Presign into the query string instead of the Authorization header. */
  presign?: boolean;
  /** Extra headers that are signed. */
  headers?: Record<string, string>;
  /** Change the request after signing (the attack). */
  tamper?: (r: { headers: Record<string, string>; body: string; query: string }) => void;
}

export interface StsWorld {
  fx: CloudFixture;
  idp: TestIdp;
  stranger: TestIdp;
  /** Registered, trusted certificate, but its jwks_uri is plain http. */
  httpIdp: TestIdp;
  /** Registered, but behind a certificate the node does not trust. */
  untrusted: TestIdp;
  host: string;
  memberId: string;
  roleArn(name: string, account?: string): string;
  token(overrides?: Record<string, unknown>, idp?: TestIdp, kid?: string): Promise<string>;
  post(params: Record<string, string>, headers?: Record<string, string>): Promise<RawResponse>;
  signed(keys: Keys, params: Record<string, string>, options?: SignOptions): Promise<RawResponse>;
  webIdentity(overrides?: Record<string, string>, claims?: Record<string, unknown>): Promise<RawResponse>;
  /** The administrator assumes role `tagged` (must succeed); the session's keys. */
  adminSession(sessionName: string): Promise<Keys>;
  /** Keys of a session of role `web` this node issued two hours ago, one hour long. */
  expiredSession(): Promise<Keys>;
  /** AssumeRoleWithWebIdentity that must succeed; its keys. */
  session(claims?: Record<string, unknown>, role?: string): Promise<Keys>;
  audit(): Promise<AuditEvent[]>;
  stop(): Promise<void>;
}

export function pick(xml: string, tag: string): string {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1] ?? '';
}

export function keysFrom(xml: string): Keys {
  return {
    accessKeyId: pick(xml, 'AccessKeyId'),
    secretAccessKey: pick(xml, 'SecretAccessKey'),
    sessionToken: pick(xml, 'SessionToken'),
  };
}

const send = (url: string, method: string, path: string, headers: Record<string, string>, body: string) =>
  httpRequest(`${url}${path}`, { method, headers, body });

const FORM = 'application/x-www-form-urlencoded; charset=utf-8';
const encode = (params: Record<string, string>): string => new URLSearchParams(params).toString();

/** The provider's real JWKS served over plain http: a token it signs must still be refused. */
async function plainHttpJwks(idp: TestIdp, ca: string): Promise<{ url: string; server: Server }> {
  const jwks = await new Promise<string>((resolve, reject) => {
    httpsGet(`${idp.issuer}/.well-known/jwks`, { ca }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString('utf8');
      });
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`, server };
}

export async function startStsWorld(): Promise<StsWorld> {
  // Denials carry the encoded message: DecodeAuthorizationMessage is part of what these tests cover.
  const fx = await startCloud({ denialMessages: 'encoded' });
  const idp = fx.idp;
  const host = idp.issuer.replace(/^https:\/\//, '');
  // Same CA as the trusted provider, but registered nowhere.
  const stranger = await startTestIdp(fx.pki, '/stranger');
  await stranger.addKey('k1', 'RS256');
  // Trusted certificate, but a jwks_uri over plain http.
  const httpIdp = await startTestIdp(fx.pki, '/plain');
  await httpIdp.addKey('k1', 'RS256');
  const plain = await plainHttpJwks(httpIdp, fx.pki.caPem);
  httpIdp.setJwksUri(plain.url);
  // A certificate from a CA the node does not trust, and no matching thumbprint.
  const untrusted = await startTestIdp(makeTestPki('an untrusted CA'), '/untrusted');
  await untrusted.addKey('k1', 'RS256');

  const providerArn = (url: string) =>
    `arn:aws:iam::${fx.accountId}:oidc-provider/${url.replace(/^https:\/\//, '')}`;
  const webTrust = (url: string) => ({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn(url) },
        Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession', 'sts:SetSourceIdentity'],
        Condition: {
          StringEquals: { [`${url.replace(/^https:\/\//, '')}:aud`]: AUD },
          StringLike: {
            [`${url.replace(/^https:\/\//, '')}:sub`]: 'organization:acme:project:*:run_phase:plan',
          },
        },
      },
    ],
  });
  const spec = {
    accounts: [
      {
        name: 'hub',
        id: fx.accountId,
        oidcProviders: [idp, httpIdp, untrusted].map((i) => ({
          url: i.issuer,
          clientIds: [AUD],
          thumbprints: [fx.pki.caThumbprint],
        })),
        roles: [
          {
            name: 'web',
            maxSessionDuration: 7200,
            trustPolicy: webTrust(idp.issuer),
            inlinePolicies: {
              chain: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: '*' },
                  { Effect: 'Allow', Action: 'iam:Get*', Resource: '*' },
                ],
              },
            },
          },
          { name: 'web-http', trustPolicy: webTrust(httpIdp.issuer) },
          { name: 'web-untrusted', trustPolicy: webTrust(untrusted.issuer) },
          {
            // Assumable by anyone in the account whose identity policy allows it (the administrator).
            name: 'tagged',
            trustPolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: `arn:aws:iam::${fx.accountId}:root` },
                  Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
                },
              ],
            },
          },
        ],
      },
      {
        name: 'member',
        roles: [
          {
            name: 'target',
            trustPolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { AWS: `arn:aws:iam::${fx.accountId}:role/web` },
                  Action: ['sts:AssumeRole', 'sts:TagSession'],
                },
              ],
            },
          },
        ],
      },
    ],
  };
  await applySetup(
    fx.app.store,
    parseSetup(JSON.stringify(spec), 'sts-world.yaml'),
    { random: cryptoRandom, clock: systemClock },
    { file: 'sts-world.yaml' },
  );
  await fx.cloud.sync();
  const memberId = (await fx.app.store.list('account')).find((a) => a.name === 'member')?.id ?? '';

  const roleArn = (name: string, account = fx.accountId) => `arn:aws:iam::${account}:role/${name}`;
  const token = (overrides: Record<string, unknown> = {}, from: TestIdp = idp, kid?: string) =>
    from.sign(
      from.claims({ sub: SUB, aud: AUD, terraform_run_id: 'run-world', ...overrides }),
      kid ? { kid } : {},
    );
  const post = (params: Record<string, string>, headers: Record<string, string> = {}) => {
    const body = encode(params);
    return send(fx.url, 'POST', '/', { 'content-type': FORM, ...headers }, body);
  };

  const signed = async (keys: Keys, params: Record<string, string>, o: SignOptions = {}) => {
    const target = new URL(fx.url);
    const method = o.method ?? 'POST';
    const body = method === 'POST' ? encode(params) : '';
    const signer = new SignatureV4({
      credentials: keys,
      region: o.region ?? 'us-east-1',
      service: o.service ?? 'sts',
      sha256: Sha256,
    });
    const req = new HttpRequest({
      method,
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: '/',
      query: method === 'GET' ? { ...params } : {},
      headers: { host: target.host, ...(method === 'POST' ? { 'content-type': FORM } : {}), ...o.headers },
      body,
    });
    const signingDate = new Date(o.dateMs ?? Date.now());
    const out = o.presign
      ? await signer.presign(req, { signingDate, expiresIn: 900 })
      : await signer.sign(req, { signingDate });
    const query = new URLSearchParams(out.query as Record<string, string>).toString().replace(/\+/g, '%20');
    const r = { headers: { ...(out.headers as Record<string, string>) }, body, query };
    o.tamper?.(r);
    return send(fx.url, method, r.query ? `/?${r.query}` : '/', r.headers, r.body);
  };

  const webIdentity = async (overrides: Record<string, string> = {}, claims: Record<string, unknown> = {}) =>
    post({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: roleArn('web'),
      RoleSessionName: 'world',
      WebIdentityToken: await token(claims),
      ...overrides,
    });

  return {
    fx,
    idp,
    stranger,
    httpIdp,
    untrusted,
    host,
    memberId,
    roleArn,
    token,
    post,
    signed,
    webIdentity,
    async session(claims = {}, role = 'web') {
      const r = await webIdentity({ RoleArn: roleArn(role) }, claims);
      if (r.status !== 200)
        throw new Error(`session: ${r.status} ${pick(r.body, 'Code')} ${pick(r.body, 'Message')}`);
      return keysFrom(r.body);
    },
    async adminSession(sessionName) {
      const r = await signed(fx.admin, {
        Action: 'AssumeRole',
        Version: '2011-06-15',
        RoleArn: roleArn('tagged'),
        RoleSessionName: sessionName,
      });
      if (r.status !== 200) throw new Error(`adminSession: ${r.status} ${pick(r.body, 'Code')}`);
      return keysFrom(r.body);
    },
    async expiredSession() {
      const role = await fx.app.store.getBy('role', 'arn', roleArn('web'));
      if (!role) throw new Error('no role web');
      const iat = Math.floor(Date.now() / 1000) - 7200;
      const claims = {
        ...newSessionIds(cryptoRandom, Date.now()),
        accountId: role.accountId,
        roleId: role.id,
        roleName: role.name,
        rolePath: role.path,
        sessionName: 'old',
        iat,
        exp: iat + 3600,
        chainDepth: 1,
        tags: {},
        transitiveTagKeys: [],
      };
      return sealSession(fx.cloud.keys, claims, cryptoRandom);
    },
    async audit() {
      await fx.cloud.flushAudit();
      return fx.app.store.queryAudit({ limit: 100_000 });
    },
    async stop() {
      plain.server.close();
      await Promise.all([stranger.close(), httpIdp.close(), untrusted.close()]);
      await fx.stop();
    },
  };
}

/**
 * Until `lift()`, the node's audit table refuses `action`'s allow rows (a trigger), as a failing disk
 * fails the commit they are in. `close()` when done.
 */
export function refuseAuditRows(w: StsWorld, action: string): { lift(): void; close(): void } {
  const db = new Database(join(w.fx.dataDir, SQLITE_FILE));
  db.exec(`CREATE TRIGGER refuse_allow BEFORE INSERT ON audit
             WHEN NEW.action = '${action}' AND NEW.decision = 'allow'
             BEGIN SELECT RAISE(ABORT, 'refused'); END`);
  return { lift: () => db.exec('DROP TRIGGER refuse_allow'), close: () => db.close() };
}

/**
 * A new run's first `action` (made by `call`) whose commit fails: it answers 5xx and binds the run to
 * no issuer; once the store writes again, the next call binds it (noted again, not taken as written).
 */
export async function checkBindingSharesCommit(
  w: StsWorld,
  action: string,
  runId: string,
  call: () => Promise<RawResponse>,
): Promise<void> {
  const binding = () => w.fx.app.store.get('stsRun', runSubject(w.fx.idp.issuer, runId));
  const refusing = refuseAuditRows(w, action);
  try {
    const refused = await call();
    assert.ok(refused.status >= 500, `${refused.status} ${refused.body}`);
    assert.equal(await binding(), undefined, 'the binding shares the failed commit');
    refusing.lift();
    const again = await call();
    assert.equal(again.status, 200, again.body);
    assert.equal((await binding())?.runId, runId, 'noted again, not taken as written');
  } finally {
    refusing.close();
  }
}
