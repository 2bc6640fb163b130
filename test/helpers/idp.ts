// A real OIDC identity provider for tests: HTTPS on 127.0.0.1 with a test CA, discovery and JWKS
// documents, keys from jose, and a request counter. Tokens are signed with the provider's keys;
// tests can also serve keys it never signs with, drop keys, or point jwks_uri elsewhere.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import type { TestPki } from './tls.js';

type Alg = 'RS256' | 'ES256' | 'RS384' | 'ES384' | 'RS512' | 'ES512';

interface Key {
  kid: string;
  alg: Alg;
  privateKey: CryptoKey;
  jwk: Record<string, unknown>;
}

export interface TestIdp {
  issuer: string;
  /** Requests served, by path. */
  hits: Map<string, number>;
  addKey(kid: string, alg?: Alg): Promise<void>;
  removeKey(kid: string): void;
  sign(claims: JWTPayload, options?: { kid?: string; header?: Record<string, unknown> }): Promise<string>;
  /** Standard claims for this issuer, one hour valid, overridable. */
  claims(overrides?: JWTPayload & Record<string, unknown>): JWTPayload;
  setJwksUri(uri: string | undefined): void;
  close(): Promise<void>;
}

export async function startTestIdp(pki: TestPki, path = ''): Promise<TestIdp> {
  const keys = new Map<string, Key>();
  const hits = new Map<string, number>();
  let jwksOverride: string | undefined;
  let issuer = '';
  const server: Server = createServer({ key: pki.keyPem, cert: pki.chainPem }, (req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const json = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url === `${path}/.well-known/openid-configuration`) {
      json({
        issuer,
        jwks_uri: jwksOverride ?? `${issuer}/.well-known/jwks`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      });
    } else if (url === `${path}/.well-known/jwks`) {
      json({ keys: [...keys.values()].map((k) => k.jwk) });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;

  const idp: TestIdp = {
    issuer,
    hits,
    async addKey(kid, alg = 'RS256') {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      keys.set(kid, { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
    },
    removeKey(kid) {
      keys.delete(kid);
    },
    async sign(claims, options = {}) {
      const kid = options.kid ?? [...keys.keys()][0];
      const key = kid === undefined ? undefined : keys.get(kid);
      if (!key) throw new Error(`no key ${kid}`);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header })
        .sign(key.privateKey);
    },
    claims(overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: issuer,
        aud: 'aws.workload.identity',
        sub: 'organization:acme:project:Default Project:workspace:net:run_phase:plan',
        iat: now,
        nbf: now,
        exp: now + 3600,
        jti: crypto.randomUUID(),
        ...overrides,
      };
    },
    setJwksUri(uri) {
      jwksOverride = uri;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return idp;
}
