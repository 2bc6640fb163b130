// The OIDC relying party against a real HTTPS identity provider on loopback: discovery, JWKS, TLS
// trust by CA or thumbprint, caching and refetch, and every token attack at this layer.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { httpsGet } from '../../src/cloud/oidc/https-get.js';
import { DEFAULT_JWKS_OPTIONS, JwksCache } from '../../src/cloud/oidc/jwks.js';
import { verifyWebIdentityToken } from '../../src/cloud/oidc/verify.js';
import { type Clock, fixedClock } from '../../src/core/deps.js';
import { AwsError } from '../../src/core/query/errors.js';
import type { OidcProviderRecord } from '../../src/store/records/iam.js';
import { tweak } from '../helpers/aws.js';
import { startTestIdp, type TestIdp } from '../helpers/idp.js';
import { makeTestPki, type TestPki } from '../helpers/tls.js';

let pki: TestPki;
let otherPki: TestPki;
let idp: TestIdp;
let stranger: TestIdp;

before(async () => {
  pki = makeTestPki();
  otherPki = makeTestPki('another CA');
  idp = await startTestIdp(pki);
  await idp.addKey('k1', 'RS256');
  await idp.addKey('k2', 'ES256');
  stranger = await startTestIdp(pki);
  await stranger.addKey('k1', 'RS256');
});
after(async () => {
  await idp.close();
  await stranger.close();
});

function provider(overrides: Partial<OidcProviderRecord> = {}): OidcProviderRecord {
  return {
    id: 'arn:aws:iam::111111111111:oidc-provider/x',
    accountId: '111111111111',
    url: idp.issuer,
    clientIds: ['aws.workload.identity'],
    thumbprints: [],
    tags: [],
    createdAt: 0,
    ...overrides,
  };
}

function cache(clock: Clock = { now: () => Date.now() }): JwksCache {
  return new JwksCache(httpsGet, clock, DEFAULT_JWKS_OPTIONS);
}

const now = () => Date.now();

async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof AwsError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('valid tokens', () => {
  test('an RS256 token verifies with the CA-trusted JWKS and yields its claims and matched audience', async () => {
    const token = await idp.sign(idp.claims({ terraform_run_phase: 'plan' }), { kid: 'k1' });
    const result = await verifyWebIdentityToken(token, provider(), cache(), { now: now(), ca: [pki.caPem] });
    assert.equal(result.kid, 'k1');
    assert.equal(result.aud, 'aws.workload.identity');
    assert.equal(result.claims.terraform_run_phase, 'plan');
  });

  test('an ES256 token verifies too, and aud may be an array with one registered client id', async () => {
    const token = await idp.sign(idp.claims({ aud: ['other', 'aws.workload.identity'] }), { kid: 'k2' });
    const result = await verifyWebIdentityToken(token, provider(), cache(), { now: now(), ca: [pki.caPem] });
    assert.equal(result.aud, 'aws.workload.identity');
  });

  test('without a trusted CA, a registered thumbprint of the chain establishes trust', async () => {
    const token = await idp.sign(idp.claims(), { kid: 'k1' });
    const result = await verifyWebIdentityToken(
      token,
      provider({ thumbprints: [pki.caThumbprint.toUpperCase()] }),
      cache(),
      {
        now: now(),
      },
    );
    assert.equal(result.kid, 'k1');
  });
});

describe('attacks and bad tokens are rejected with the AWS error code', () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const cases: {
    name: string;
    code: string;
    token: () => Promise<string>;
    opts?: () => Partial<Parameters<typeof verifyWebIdentityToken>[3]>;
    prov?: () => Partial<OidcProviderRecord>;
    noCa?: boolean;
  }[] = [
    {
      name: 'alg none',
      code: 'InvalidIdentityToken',
      token: async () => `${b64({ alg: 'none', kid: 'k1' })}.${b64(idp.claims())}.`,
    },
    {
      name: 'HS256 signed with the public key as secret',
      code: 'InvalidIdentityToken',
      token: async () => {
        const head = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(idp.claims())}`;
        const jwks = await fetchJson(`${idp.issuer}/.well-known/jwks`);
        const sig = createHmac('sha256', JSON.stringify(jwks)).update(head).digest('base64url');
        return `${head}.${sig}`;
      },
    },
    {
      name: 'empty signature',
      code: 'InvalidIdentityToken',
      token: async () => (await idp.sign(idp.claims(), { kid: 'k1' })).replace(/\.[^.]+$/, '.'),
    },
    {
      name: 'unknown kid',
      code: 'InvalidIdentityToken',
      token: async () => relabel(await idp.sign(idp.claims(), { kid: 'k1' }), 'nope'),
    },
    {
      name: 'a key of another issuer under the same kid',
      code: 'InvalidIdentityToken',
      token: () => stranger.sign({ ...idp.claims() }, { kid: 'k1' }),
    },
    {
      name: 'tampered payload',
      code: 'InvalidIdentityToken',
      token: async () => {
        const [h, , s] = (await idp.sign(idp.claims(), { kid: 'k1' })).split('.');
        return `${h}.${b64(idp.claims({ sub: 'organization:evil:project:x:workspace:y:run_phase:apply' }))}.${s}`;
      },
    },
    {
      name: 'expired',
      code: 'ExpiredTokenException',
      token: () => idp.sign(idp.claims({ exp: Math.floor(Date.now() / 1000) - 600 })),
    },
    {
      name: 'nbf in the future',
      code: 'InvalidIdentityToken',
      token: () => idp.sign(idp.claims({ nbf: Math.floor(Date.now() / 1000) + 3600 })),
    },
    {
      name: 'iat in the future',
      code: 'InvalidIdentityToken',
      token: () => idp.sign(idp.claims({ iat: Math.floor(Date.now() / 1000) + 3600 })),
    },
    {
      name: 'exp as a string',
      code: 'InvalidIdentityToken',
      token: () => idp.sign({ ...idp.claims(), exp: '9999999999' } as never),
    },
    {
      name: 'exp as a float',
      code: 'InvalidIdentityToken',
      token: () => idp.sign(idp.claims({ exp: Math.floor(Date.now() / 1000) + 60.5 })),
    },
    {
      name: 'wrong iss',
      code: 'InvalidIdentityToken',
      token: () => idp.sign(idp.claims({ iss: 'https://evil.example' })),
    },
    {
      name: 'wrong aud',
      code: 'InvalidIdentityToken',
      token: () => idp.sign(idp.claims({ aud: 'sts.amazonaws.com' })),
    },
    { name: 'not a JWT', code: 'InvalidIdentityToken', token: async () => 'abc.def' },
    { name: 'garbage segments', code: 'InvalidIdentityToken', token: async () => 'a!b.c$d.e' },
    {
      name: 'JWKS from an untrusted certificate',
      code: 'IDPCommunicationError',
      token: () => idp.sign(idp.claims()),
      opts: () => ({ ca: [otherPki.caPem] }),
    },
    {
      name: 'a thumbprint that matches nothing in the chain',
      code: 'IDPCommunicationError',
      token: () => idp.sign(idp.claims()),
      noCa: true,
      prov: () => ({ thumbprints: ['0'.repeat(40)] }),
    },
  ];
  for (const c of cases) {
    test(`attack: ${c.name} → ${c.code}`, async () => {
      const opts = { now: now(), ca: [pki.caPem], ...c.opts?.() };
      if (c.noCa) delete (opts as { ca?: unknown }).ca;
      await rejectsWith(verifyWebIdentityToken(await c.token(), provider(c.prov?.()), cache(), opts), c.code);
    });
  }

  test('attack: JWKS over plain http → IDPCommunicationError', async () => {
    idp.setJwksUri(`http://127.0.0.1:1/.well-known/jwks`);
    try {
      await rejectsWith(
        verifyWebIdentityToken(await idp.sign(idp.claims()), provider(), cache(), {
          now: now(),
          ca: [pki.caPem],
        }),
        'IDPCommunicationError',
      );
    } finally {
      idp.setJwksUri(undefined);
    }
  });

  test('an expired token is accepted only when expiry is explicitly ignored (run revocation proof)', async () => {
    const token = await idp.sign(idp.claims({ exp: Math.floor(Date.now() / 1000) - 600 }));
    const result = await verifyWebIdentityToken(token, provider(), cache(), {
      now: now(),
      ca: [pki.caPem],
      ignoreExpiry: true,
    });
    assert.equal(result.kid, 'k1');
  });
});

describe('JWKS caching', () => {
  test('keys are cached; an unknown kid refetches at most once per interval; a rotated-in key is found', async () => {
    const clock = fixedClock(1_000_000);
    const jwks = cache(clock);
    const jwksPath = '/.well-known/jwks';
    const before = idp.hits.get(jwksPath) ?? 0;
    const opts = { now: Date.now(), ca: [pki.caPem] };
    await verifyWebIdentityToken(await idp.sign(idp.claims(), { kid: 'k1' }), provider(), jwks, opts);
    await verifyWebIdentityToken(await idp.sign(idp.claims(), { kid: 'k2' }), provider(), jwks, opts);
    assert.equal((idp.hits.get(jwksPath) ?? 0) - before, 1, 'one fetch serves both keys');

    const forged = relabel(await idp.sign(idp.claims(), { kid: 'k1' }), 'unknown');
    await rejectsWith(verifyWebIdentityToken(forged, provider(), jwks, opts), 'InvalidIdentityToken');
    await rejectsWith(verifyWebIdentityToken(forged, provider(), jwks, opts), 'InvalidIdentityToken');
    assert.equal(
      (idp.hits.get(jwksPath) ?? 0) - before,
      1,
      'inside the interval unknown kids do not refetch',
    );

    await idp.addKey('k3', 'RS256');
    clock.advance(DEFAULT_JWKS_OPTIONS.refetchIntervalMs);
    await verifyWebIdentityToken(await idp.sign(idp.claims(), { kid: 'k3' }), provider(), jwks, opts);
    assert.equal((idp.hits.get(jwksPath) ?? 0) - before, 2, 'a new kid after the interval refetches once');
    idp.removeKey('k3');
  });
});

describe('algorithms and key limits', () => {
  test('tokens signed with each of RS256/384/512 and ES256/384/512 verify; a key of the wrong type does not', async () => {
    const multi = await startTestIdp(pki, '/algs');
    try {
      const algs = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const;
      for (const alg of algs) await multi.addKey(alg, alg);
      const prov = provider({ url: multi.issuer });
      const jwks = cache();
      for (const alg of algs) {
        const token = await multi.sign(multi.claims(), { kid: alg });
        const r = await verifyWebIdentityToken(token, prov, jwks, { now: now(), ca: [pki.caPem] });
        assert.equal(r.kid, alg);
        // The same signature presented under another alg header, or a tampered signature, fails.
        const [h, p, sig] = token.split('.');
        const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Record<string, unknown>;
        const other = alg.startsWith('RS') ? 'ES256' : 'RS256';
        const swapped = `${Buffer.from(JSON.stringify({ ...header, alg: other })).toString('base64url')}.${p}.${sig}`;
        await rejectsWith(
          verifyWebIdentityToken(swapped, prov, jwks, { now: now(), ca: [pki.caPem] }),
          'InvalidIdentityToken',
        );
        const flipped = `${h}.${p}.${tweak(sig ?? '', 3)}`;
        await rejectsWith(
          verifyWebIdentityToken(flipped, prov, jwks, { now: now(), ca: [pki.caPem] }),
          'InvalidIdentityToken',
        );
      }
    } finally {
      await multi.close();
    }
  });

  test('at most the first 100 keys of a JWKS are used, as AWS does', async () => {
    const many = await startTestIdp(pki, '/many');
    try {
      for (let i = 1; i <= 101; i++) await many.addKey(`k${i}`, 'ES256');
      const prov = provider({ url: many.issuer });
      const jwks = cache();
      const opts = { now: now(), ca: [pki.caPem] };
      const hundredth = await many.sign(many.claims(), { kid: 'k100' });
      assert.equal((await verifyWebIdentityToken(hundredth, prov, jwks, opts)).kid, 'k100');
      const beyond = await many.sign(many.claims(), { kid: 'k101' });
      await rejectsWith(verifyWebIdentityToken(beyond, prov, jwks, opts), 'InvalidIdentityToken');
    } finally {
      await many.close();
    }
  });
});

function relabel(token: string, kid: string): string {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Record<string, unknown>;
  return `${Buffer.from(JSON.stringify({ ...header, kid })).toString('base64url')}.${p}.${s}`;
}

async function fetchJson(url: string): Promise<unknown> {
  const r = await httpsGet(url, { thumbprints: [], ca: [pki.caPem] }, { timeoutMs: 2000, maxBytes: 1 << 20 });
  return JSON.parse(r.body);
}
