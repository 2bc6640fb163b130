import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkAllowedAccount, walkChain } from '../../src/agent/chain.js';
import { AgentError } from '../../src/agent/errors.js';
import { TransportError } from '../../src/agent/http-client.js';
import { signRequest } from '../../src/agent/sigv4-sign.js';
import { awsStsEndpoint, isTransientStsFailure, StsClient, StsError } from '../../src/agent/sts-client.js';
import { decodeXmlText, xmlText } from '../../src/agent/xml.js';
import { parseAmzDate } from '../../src/core/sigv4/index.js';
import { systemClock } from '../../src/runtime/clock.js';
import { startTestSts, type TestSts } from './helpers/sts-server.js';

const root = new URL('../..', import.meta.url).pathname;
const vector = (name: string): string => readFileSync(join(root, 'test/vectors', name), 'utf8');
const ROLE = 'arn:aws:iam::111122223333:role/run';
const HUB = 'arn:aws:iam::111122223333:role/hub';
const MEMBER = 'arn:aws:iam::444455556666:role/member';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

let sts: TestSts;
let client: StsClient;
before(async () => {
  sts = await startTestSts();
  client = new StsClient({ endpoint: sts.url, region: 'us-east-1', clock: systemClock });
});
after(() => sts.close());

test('the signer reproduces the gatepass STS GetCallerIdentity SigV4 vector exactly', () => {
  const v = JSON.parse(vector('sigv4/gatepass-sts-get-caller-identity.json')) as {
    credentials: { accessKeyId: string; secretAccessKey: string };
    date: string;
    request: { body: string };
    authorization: string;
  };
  const headers = signRequest({
    method: 'POST',
    url: new URL('https://sts.us-east-1.amazonaws.com/'),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', 'Content-Length': '43' },
    body: v.request.body,
    credentials: v.credentials,
    region: 'us-east-1',
    service: 'sts',
    now: parseAmzDate(v.date) ?? 0,
  });
  assert.equal(headers.authorization, v.authorization);
  assert.equal(headers['x-amz-date'], v.date);
});

test('session credentials sign x-amz-security-token too', () => {
  const h = signRequest({
    method: 'POST',
    url: new URL('http://127.0.0.1:1/'),
    headers: {},
    body: '',
    credentials: { accessKeyId: 'ASIAX', secretAccessKey: 's', sessionToken: 'tok' },
    region: 'eu-west-1',
    service: 'sts',
    now: 0,
  });
  assert.equal(h['x-amz-security-token'], 'tok');
  assert.match(
    h.authorization ?? '',
    /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/,
  );
});

test('the XML reader extracts the AWS sample responses (golden vectors)', () => {
  const web = vector('query/assume-role-with-web-identity.xml');
  assert.equal(xmlText(web, 'AccessKeyId', 'Credentials'), 'ASgeIAIOSFODNN7EXAMPLE');
  assert.equal(xmlText(web, 'Expiration', 'Credentials'), '2014-10-24T23:00:23Z');
  assert.equal(
    xmlText(web, 'Arn', 'AssumedRoleUser'),
    'arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1',
  );
  const err = vector('query/error-sts-invalid-identity-token.xml');
  assert.equal(xmlText(err, 'Code', 'Error'), 'InvalidIdentityToken');
  assert.equal(xmlText(err, 'RequestId'), 'd2a8b1c0-5d8e-4c1e-9a61-2b3c4d5e6f70');
  assert.equal(
    xmlText(vector('query/get-caller-identity.xml'), 'Account', 'GetCallerIdentityResult'),
    '123456789012',
  );
  assert.equal(decodeXmlText('a &amp; b &lt;c&gt; &#65;&#x42; &quot;&apos;'), 'a & b <c> AB "\'');
  assert.equal(xmlText('<A><B>x</B></A>', 'C'), undefined);
});

test('AssumeRoleWithWebIdentity is unsigned and returns credentials with the assumed-role ARN', async () => {
  const r = await client.assumeRoleWithWebIdentity({
    roleArn: ROLE,
    roleSessionName: 's1',
    webIdentityToken: JWT,
  });
  assert.match(r.credentials.accessKeyId, /^ASIATEST/);
  assert.ok(r.credentials.expiration > Date.now());
  assert.equal(r.assumedRoleArn, 'arn:aws:sts::111122223333:assumed-role/run/s1');
  const call = sts.calls.at(-1);
  assert.equal(call?.action, 'AssumeRoleWithWebIdentity');
  assert.equal(call?.params.WebIdentityToken, JWT);
  assert.equal(call?.params.Version, '2011-06-15');
  assert.equal(call?.caller, undefined);
});

test('AssumeRole and GetCallerIdentity are SigV4-signed and the verifier accepts them', async () => {
  const first = await client.assumeRoleWithWebIdentity({
    roleArn: ROLE,
    roleSessionName: 's1',
    webIdentityToken: JWT,
  });
  const second = await client.assumeRole(first.credentials, { roleArn: MEMBER, roleSessionName: 's2' });
  assert.equal(sts.calls.at(-1)?.caller, ROLE);
  assert.equal(sts.calls.at(-1)?.signatureError, undefined);
  const id = await client.getCallerIdentity(second.credentials);
  assert.deepEqual(id, {
    account: '444455556666',
    arn: 'arn:aws:sts::444455556666:assumed-role/member/s2',
    userId: 'AROATEST:s2',
  });
});

test('a wrong secret is rejected by the verifier and surfaces as StsError with the AWS code', async () => {
  const first = await client.assumeRoleWithWebIdentity({
    roleArn: ROLE,
    roleSessionName: 's1',
    webIdentityToken: JWT,
  });
  const bad = { ...first.credentials, secretAccessKey: 'wrong' };
  await assert.rejects(client.getCallerIdentity(bad), (e: unknown) => {
    assert.ok(e instanceof StsError);
    assert.equal(e.code, 'SignatureDoesNotMatch');
    assert.equal(e.status, 403);
    return true;
  });
});

test('AWS errors carry code, status and request id, never the token', async () => {
  sts.denied.add(HUB);
  try {
    await assert.rejects(
      client.assumeRoleWithWebIdentity({ roleArn: HUB, roleSessionName: 's', webIdentityToken: JWT }),
      (e: unknown) => {
        assert.ok(e instanceof StsError);
        assert.equal(e.code, 'AccessDenied');
        assert.equal(e.requestId, 'req-1');
        assert.ok(!e.message.includes(JWT));
        return true;
      },
    );
  } finally {
    sts.denied.delete(HUB);
  }
});

test('RevokeRun posts the token unsigned and returns the run id', async () => {
  assert.deepEqual(await client.revokeRun(JWT), { runId: 'run-test' });
  assert.equal(sts.revoked.at(-1), JWT);
});

test('an unreachable endpoint is a TransportError naming only the host', async () => {
  const dead = new StsClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', clock: systemClock });
  await assert.rejects(
    dead.revokeRun(JWT),
    (e: unknown) => e instanceof TransportError && !e.message.includes(JWT),
  );
  assert.equal(
    new StsClient({ region: 'eu-west-1', clock: systemClock }).endpoint.href,
    `${awsStsEndpoint('eu-west-1')}/`,
  );
});

test('walking a chain assumes each hop with the previous credentials', async () => {
  const before = sts.calls.length;
  const w = await walkChain(client, { roleArn: ROLE, chain: [HUB, MEMBER], token: JWT, sessionName: 'gp' });
  assert.equal(w.arn, 'arn:aws:sts::444455556666:assumed-role/member/gp');
  const calls = sts.calls.slice(before);
  assert.deepEqual(
    calls.map((c) => [c.action, c.params.RoleArn, c.caller]),
    [
      ['AssumeRoleWithWebIdentity', ROLE, undefined],
      ['AssumeRole', HUB, ROLE],
      ['AssumeRole', MEMBER, HUB],
    ],
  );
});

test('the allowed-account guard passes the right account and fails fast on another', async () => {
  const w = await walkChain(client, { roleArn: ROLE, chain: [MEMBER], token: JWT, sessionName: 'gp' });
  assert.equal(
    await checkAllowedAccount(client, 'default configuration', w, ['444455556666']),
    '444455556666',
  );
  assert.equal(await checkAllowedAccount(client, 'default configuration', w, []), '444455556666');
  await assert.rejects(
    checkAllowedAccount(client, 'configuration member', w, ['111122223333']),
    (e: unknown) => {
      assert.ok(e instanceof AgentError);
      assert.equal(e.code, 'account_not_allowed');
      assert.match(e.problems[0] ?? '', /^configuration member: resolves to account 444455556666/);
      return true;
    },
  );
});

test('a transient STS failure (5xx, throttling, an unreachable identity provider, a connection that failed) is worth asking again; a refusal or a timeout is not', () => {
  const url = new URL('https://sts.example');
  const cases: [Error, boolean][] = [
    [new StsError('ServiceUnavailable', 503, ''), true],
    [new StsError('InternalFailure', 500, ''), true],
    [new StsError('Throttling', 400, ''), true],
    [new StsError('IDPCommunicationError', 400, ''), true],
    [new TransportError('ECONNRESET', url), true],
    [new TransportError('ECONNREFUSED', url), true],
    [new StsError('InvalidAction', 400, ''), false],
    [new StsError('AccessDenied', 403, ''), false],
    [new StsError('InvalidIdentityToken', 400, ''), false],
    [new TransportError('timed out', url), false],
    [new TransportError('ETIMEDOUT', url), false],
    [new TransportError('SELF_SIGNED_CERT_IN_CHAIN', url), false],
    [new Error('something else'), false],
  ];
  for (const [err, transient] of cases)
    assert.equal(isTransientStsFailure(err), transient, `${err.name} ${err.message}`);
});
