// The two SigV4 answers real clients react to, through unmodified clients over HTTP: a signature
// dated more than 15 minutes off is SignatureDoesNotMatch with AWS's "Signature expired" / "Signature
// not yet current" words and a Date header, so the JS SDK v3 measures its skew, corrects its clock
// and succeeds on the retry; botocore (which has no skew correction: it signs with the machine's
// clock, retried or not) reports AWS's code and words, so the user sees what to fix.
// A scope naming a region that does not exist is refused as AWS refuses it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { isolatedAwsEnv } from '../helpers/aws.js';
import { runChild } from '../helpers/child.js';
import type { Keys } from '../helpers/cloud.js';
import { type StsWorld, startStsWorld } from './sts-world.js';

let w: StsWorld;
before(async () => {
  w = await startStsWorld();
});
after(() => w?.stop());

const MIN = 60_000;

function jsClient(keys: Keys, region: string) {
  return new STSClient({ endpoint: w.fx.url, region, credentials: keys, maxAttempts: 1 });
}

async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return {
      name: err.name,
      message: err.message,
      ...(err.$metadata?.httpStatusCode ? { status: err.$metadata.httpStatusCode } : {}),
    };
  }
  assert.fail('expected the call to be refused');
}

interface JsOutcome {
  account?: string;
  error?: string;
  message?: string;
  status?: number;
  attempts: number;
  offsetMs: number;
}

/** The JS SDK v3 in a child process whose clock is `skewMs` off. */
async function skewedJs(skewMs: number, maxAttempts: number): Promise<JsOutcome> {
  const r = await runChild(process.execPath, ['test/cloud/clients/js_clock_skew.mjs'], {
    env: { PATH: process.env.PATH ?? '', HOME: w.fx.dataDir },
    input: JSON.stringify({ endpoint: w.fx.url, creds: w.fx.admin, skewMs, maxAttempts }),
  });
  assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  return JSON.parse(r.stdout) as JsOutcome;
}

for (const [what, skewMs, words] of [
  ['20 minutes slow', -20 * MIN, /^Signature expired: \d{8}T\d{6}Z is now earlier than/],
  ['20 minutes fast', 20 * MIN, /^Signature not yet current: \d{8}T\d{6}Z is still later than/],
] as const) {
  test(`JS SDK v3 on a machine ${what}, one attempt: refused with AWS's code and words`, async () => {
    const r = await skewedJs(skewMs, 1);
    assert.deepEqual([r.error, r.status, r.attempts], ['SignatureDoesNotMatch', 403, 1]);
    assert.match(r.message ?? '', words);
  });

  test(`JS SDK v3 on a machine ${what}: corrects its clock from the answer and succeeds on the retry`, async () => {
    const r = await skewedJs(skewMs, 3);
    assert.deepEqual([r.account, r.attempts], [w.fx.accountId, 2]);
    // The offset the SDK learnt cancels the machine's skew (to within the test's own few seconds).
    assert.ok(Math.abs(r.offsetMs + skewMs) < MIN, String(r.offsetMs));
  });
}

test('JS SDK v3 signing for a region that does not exist is refused: SignatureDoesNotMatch', async () => {
  const r = await refusal(jsClient(w.fx.admin, 'xx-fake-9').send(new GetCallerIdentityCommand({})));
  assert.deepEqual(r, {
    name: 'SignatureDoesNotMatch',
    message: 'Credential should be scoped to a valid region. ',
    status: 403,
  });
});

/** Debian's boto3 1.26 and pyenv's 1.43: botocore signs with its own clock and never corrects it. */
const PYTHONS: [string, string][] = [
  ['Debian', '/usr/bin/python3'],
  ['pyenv', spawnSync('pyenv', ['which', 'python'], { encoding: 'utf8' }).stdout.trim()],
];

async function boto3(python: string, job: { skew_seconds: number; region?: string }) {
  assert.ok(existsSync(python), python);
  const r = await runChild(python, ['test/cloud/clients/clock_skew.py'], {
    env: isolatedAwsEnv(w.fx.dataDir),
    input: JSON.stringify({
      endpoint: w.fx.url,
      creds: w.fx.admin,
      region: job.region ?? 'us-east-1',
      skew_seconds: job.skew_seconds,
    }),
  });
  assert.equal(r.status, 0, r.stderr.slice(0, 2000));
  return JSON.parse(r.stdout) as [string, string, number];
}

for (const [where, python] of PYTHONS) {
  test(`boto3 (${where}) with a clock 20 minutes slow gets SignatureDoesNotMatch "Signature expired"`, async () => {
    const [code, message, status] = await boto3(python, { skew_seconds: -20 * 60 });
    assert.deepEqual([code, status], ['SignatureDoesNotMatch', 403]);
    assert.match(
      message,
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
    );
  });

  test(`boto3 (${where}) with a clock 20 minutes fast gets SignatureDoesNotMatch "Signature not yet current"`, async () => {
    const [code, message, status] = await boto3(python, { skew_seconds: 20 * 60 });
    assert.deepEqual([code, status], ['SignatureDoesNotMatch', 403]);
    assert.match(
      message,
      /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/,
    );
  });

  test(`boto3 (${where}) 10 minutes off succeeds; a made-up region is refused as AWS does`, async () => {
    assert.deepEqual(await boto3(python, { skew_seconds: -10 * 60 }), ['ok', '', 200]);
    assert.deepEqual(await boto3(python, { skew_seconds: 0, region: 'xx-fake-9' }), [
      'SignatureDoesNotMatch',
      'Credential should be scoped to a valid region. ',
      403,
    ]);
  });
}
