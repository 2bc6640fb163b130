// Token signing throughput: gatepass's keyring (jose over the decrypted key) and a full recorded
// mint through the store, for RS256 and ES256, against the raw node:crypto sign rate of the same
// machine on the same signing input. Ratios are what bench/issuer/README.md records.
//   node --import tsx bench/issuer/bench.ts [--seconds 2]
import { createPrivateKey, sign } from 'node:crypto';
import { buildClaims } from '../../src/issuer/claims.js';
import { openSigningKeyPem } from '../../src/issuer/keygen.js';
import { Keyring } from '../../src/issuer/keyring.js';
import { systemClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { openStore } from '../../src/store/open.js';
import type { SigningAlg } from '../../src/store/records/keyring.js';
import { removeTempDir } from '../../test/helpers/temp.js';
import { scratchDir } from '../lib/scratch.js';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1] ?? '2') : 2;

/** Run `fn` repeatedly for a bounded time; operations per second. */
async function rate(fn: () => unknown, seconds = SECONDS): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(); // warm-up
  const until = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < until) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

function claims(now: number): Record<string, unknown> & { exp: number } {
  return buildClaims({
    organization: { id: 'org-GRNbCjYNpBB6NEH9', name: 'my-org' },
    project: { id: 'prj-vegSA59s1XPwMr2t', name: 'Default Project' },
    workspace: { id: 'ws-mbsd5E3Ktt5Rg2Xm', name: 'my-workspace' },
    runId: 'run-X3n1AUXNGWbfECsJ',
    phase: 'apply',
    issuer: 'https://issuer.example.com',
    audience: 'aws.workload.identity',
    jti: cryptoRandom.uuid(),
    iat: Math.floor(now / 1000),
    exp: Math.floor(now / 1000) + 7200,
    options: {},
  });
}

interface Row {
  alg: SigningAlg;
  raw: number;
  keyring: number;
  recorded: number;
}

async function measure(alg: SigningAlg): Promise<Row> {
  const dataDir = scratchDir('gatepass-bench-');
  const store = await openStore({ dataDir });
  const masterKey = cryptoRandom.bytes(32);
  try {
    const ring = new Keyring({
      store,
      masterKey,
      clock: systemClock,
      random: cryptoRandom,
      alg,
      publishAheadMs: 3_600_000,
      rotationPeriodMs: 90 * 86_400_000,
    });
    await ring.maintain(true);
    const [key] = await store.list('signingKey');
    if (!key) throw new Error('no key');
    // The same private key, as node:crypto sees it, signing the same kind of input.
    const nodeKey = createPrivateKey(openSigningKeyPem(key.id, key.privateKeyEnc, masterKey));
    const token = await ring.sign(key.id, alg, claims(Date.now()));
    const input = Buffer.from(token.slice(0, token.lastIndexOf('.')), 'ascii');
    const raw = await rate(() =>
      alg === 'RS256'
        ? sign('sha256', input, nodeKey)
        : sign('sha256', input, { key: nodeKey, dsaEncoding: 'ieee-p1363' }),
    );
    const keyring = await rate(() => ring.sign(key.id, alg, claims(Date.now())));
    const recorded = await rate(() => ring.issue(claims(Date.now())));
    return { alg, raw, keyring, recorded };
  } finally {
    await store.close();
    removeTempDir(dataDir);
  }
}

const rows: Row[] = [];
for (const alg of ['RS256', 'ES256'] as const) rows.push(await measure(alg));
const f = (n: number): string => Math.round(n).toLocaleString('en-US');
process.stdout.write(`node ${process.version}, ${SECONDS}s per measurement\n`);
process.stdout.write('alg    raw crypto.sign/s  keyring.sign/s (ratio)  reserve+sign/s (ratio)\n');
for (const r of rows) {
  process.stdout.write(
    `${r.alg}  ${f(r.raw).padStart(17)}  ${f(r.keyring).padStart(14)} (${(r.keyring / r.raw).toFixed(2)})  ${f(r.recorded).padStart(13)} (${(r.recorded / r.raw).toFixed(2)})\n`,
  );
}
