// The JSON 1.1 protocol's dispatcher against golden cases (test/vectors/json/protocol.json): status,
// content type, request id header and the exact error bodies (`__type`, `Message`, `Reason`) AWS
// clients parse, SigV4 refusals under the JSON protocol's codes with the Query side's words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  createJsonRegistry,
  defineOperation,
  handleJsonRequest,
  isJsonProtocol,
  JsonError,
  type JsonHttpRequest,
} from '../../src/core/json/index.js';
import { AwsError, type ErrorCode } from '../../src/core/query/errors.js';
import { SigV4Failure, type SigV4FailureReason } from '../../src/core/sigv4/index.js';
import { cryptoRandom } from '../../src/runtime/random.js';

interface Case {
  name: string;
  target: string;
  body: string;
  /** 'ok', 'ok:<signing service>', a typed SigV4 refusal, or a refusal in the Query protocol's words. */
  auth: string | { sigv4: SigV4FailureReason } | { error: ErrorCode; message?: string };
  status: number;
  response: Record<string, unknown>;
}
const { cases } = JSON.parse(
  readFileSync(new URL('../vectors/json/protocol.json', import.meta.url), 'utf8'),
) as {
  cases: Case[];
};

const registry = createJsonRegistry<string>([
  defineOperation<string, { name?: string }>({
    service: 'organizations',
    name: 'Echo',
    input: (r) => {
      const name = r.str('Name', { max: 10 });
      return name === undefined ? {} : { name };
    },
    handler: (i) => (i.name === undefined ? {} : { Name: i.name }),
  }),
  defineOperation<string, object>({
    service: 'organizations',
    name: 'Crash',
    input: () => ({}),
    handler: () => {
      throw new Error('secret internals');
    },
  }),
]);

const request = (c: Case): JsonHttpRequest => ({
  method: 'POST',
  path: '/',
  query: '',
  rawHeaders: ['Content-Type', 'application/x-amz-json-1.1', 'X-Amz-Target', c.target],
  body: Buffer.from(c.body),
  remoteAddress: '127.0.0.1',
  requestId: 'req-1',
});

for (const c of cases) {
  test(`JSON protocol: ${c.name}`, async () => {
    const response = await handleJsonRequest(request(c), {
      registry,
      random: cryptoRandom,
      authenticate: async () => {
        const auth = c.auth;
        if (auth === 'ok') return { caller: 'caller', service: 'organizations', region: 'us-east-1' };
        if (typeof auth === 'string')
          return { caller: 'caller', service: auth.slice('ok:'.length), region: 'us-east-1' };
        if ('sigv4' in auth) throw new SigV4Failure(auth.sigv4, 'AKIDEXAMPLE');
        throw new AwsError(auth.error, auth.message);
      },
    });
    assert.equal(response.status, c.status);
    assert.equal(response.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(response.headers['x-amzn-RequestId'], 'req-1');
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.body)));
    assert.deepEqual(JSON.parse(response.body), c.response);
  });
}

test('JSON protocol: a GET is refused without reaching authentication', async () => {
  let authenticated = false;
  const response = await handleJsonRequest(
    { ...request(cases[0] as Case), method: 'GET' },
    {
      registry,
      random: cryptoRandom,
      authenticate: async () => {
        authenticated = true;
        return { caller: 'c', service: 'organizations', region: 'us-east-1' };
      },
    },
  );
  assert.equal(response.status, 400);
  assert.equal((JSON.parse(response.body) as { __type: string }).__type, 'UnknownOperationException');
  assert.equal(authenticated, false);
});

test('JSON protocol is recognised by X-Amz-Target or the JSON content type, not by a form post', () => {
  assert.equal(isJsonProtocol(['X-Amz-Target', 'AWSOrganizationsV20161128.ListRoots']), true);
  assert.equal(isJsonProtocol(['content-type', 'application/x-amz-json-1.1']), true);
  assert.equal(isJsonProtocol(['Content-Type', 'application/x-www-form-urlencoded']), false);
});

test('JSON protocol: a failure the deployment classifies as retryable (store unavailable) is a 503 ServiceUnavailable', async () => {
  const outage = new Error('disk full');
  const response = await handleJsonRequest(request(cases[0] as Case), {
    registry,
    random: cryptoRandom,
    authenticate: async () => {
      throw outage;
    },
    classifyError: (e) => (e === outage ? new JsonError('ServiceUnavailable') : undefined),
  });
  assert.equal(response.status, 503);
  assert.equal((JSON.parse(response.body) as { __type: string }).__type, 'ServiceUnavailable');
  assert.equal(response.action, 'Echo');
});

test('JSON protocol: the answering operation labels the response; an unknown target labels none', async () => {
  const deps = {
    registry,
    random: cryptoRandom,
    authenticate: async () => ({ caller: 'c', service: 'organizations', region: 'us-east-1' }),
  };
  assert.equal((await handleJsonRequest(request(cases[0] as Case), deps)).action, 'Echo');
  const unknown = await handleJsonRequest(
    { ...request(cases[0] as Case), rawHeaders: ['X-Amz-Target', 'AWSOrganizationsV20161128.Nope'] },
    deps,
  );
  assert.equal(unknown.action, undefined);
});

test('JSON protocol: a refusal keeps its operator-only detail for the audit trail, not in the body', async () => {
  const seen: unknown[] = [];
  const response = await handleJsonRequest(request(cases[0] as Case), {
    registry,
    random: cryptoRandom,
    authenticate: async () => {
      throw new AwsError('InvalidClientTokenId', undefined, { credentialRefusal: { why: 'revoked' } });
    },
    onError: (info) => seen.push(info.error.detail),
  });
  assert.equal((JSON.parse(response.body) as { __type: string }).__type, 'UnrecognizedClientException');
  assert.doesNotMatch(response.body, /revoked/);
  assert.deepEqual(seen, [{ credentialRefusal: { why: 'revoked' } }]);
});
