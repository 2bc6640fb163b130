// The cloud side on a throwaway in-memory store built from a setup file, for `gatepass simulate -f`
// with no server: the setup is applied by the real `applySetup`, tokens are verified by the real
// verifier against a signing key that only this process holds, published in-process as the JWKS
// of every issuer the setup registers.
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import type { Clock, Random } from '../../core/deps.js';
import type { Store } from '../../store/types.js';
import { Authorizer } from '../authz/authorizer.js';
import type { HttpsGet } from '../oidc/https-get.js';
import { DEFAULT_JWKS_OPTIONS, JwksCache } from '../oidc/jwks.js';
import { verifyWebIdentityToken } from '../oidc/verify.js';
import { organizationModel } from '../org/index.js';
import { applySetup } from '../setup/apply.js';
import type { SetupSpec } from '../setup/schema.js';
import type { StsDeps } from '../sts/deps.js';
import { RecordCache } from '../sts/record-cache.js';

export interface Sandbox {
  store: Store;
  sts: StsDeps;
  accounts: { name: string; id: string }[];
  /** Sign claims with the sandbox key (RS256), which every registered issuer publishes here. */
  sign(claims: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

const KID = 'gatepass-simulate';
const DISCOVERY = '/.well-known/openid-configuration';
const JWKS = '/.well-known/jwks';

/** What the composition root hands the sandbox: the process's clock and randomness, and a scratch store. */
export interface SandboxEnv {
  clock: Clock;
  random: Random;
  /** A new, empty store of its own (an in-memory SQLite one in the CLI). */
  openStore(): Store;
}

export async function openSandbox(spec: SetupSpec, file: string, env: SandboxEnv): Promise<Sandbox> {
  const { clock, random } = env;
  const store = env.openStore();
  try {
    const applied = await applySetup(store, spec, { random, clock }, { file });
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
    const json = (body: unknown) => ({ status: 200, body: JSON.stringify(body) });
    const get: HttpsGet = async (url) => {
      if (url.endsWith(DISCOVERY)) {
        const issuer = url.slice(0, -DISCOVERY.length);
        return json({ issuer, jwks_uri: `${issuer}${JWKS}` });
      }
      if (url.endsWith(JWKS)) return json({ keys: [jwk] });
      return { status: 404, body: '' };
    };
    const jwks = new JwksCache(get, clock, DEFAULT_JWKS_OPTIONS);
    const sts: StsDeps = {
      store,
      authorizer: new Authorizer(organizationModel),
      records: new RecordCache(),
      clock,
      random,
      issue: () => Promise.reject(new Error('the sandbox issues nothing')),
      verifyToken: (token, provider, now, options) =>
        verifyWebIdentityToken(token, provider, jwks, {
          now,
          ...(options?.ignoreExpiry ? { ignoreExpiry: true } : {}),
          ...(options?.purpose ? { purpose: options.purpose } : {}),
        }),
      runRevocation: () => undefined,
      revokeRun: async () => undefined,
      noteRun: async () => undefined,
      runIssuers: async () => [],
      sealMessage: () => 'offline',
      openMessage: () => undefined,
      audit: async () => undefined,
    };
    return {
      store,
      sts,
      accounts: applied.accounts,
      sign: (claims) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' }).sign(privateKey),
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
