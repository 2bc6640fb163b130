// The JSON 1.1 protocol's dispatcher against golden cases (test/vectors/json/protocol.json): status,
// content type, request id header and the exact error bodies (`__type`, `Message`, `Reason`) AWS
// clients parse, SigV4 refusals in the JSON protocol's words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  createJsonRegistry,
  defineOperation,
  handleJsonRequest,
  isJsonProtocol,
  type JsonHttpRequest,
} from '../../src/core/json/index.js';
import { cryptoRandom } from '../../src/core/random.js';
import { SigV4Failure, type SigV4FailureCode } from '../../src/core/sigv4/index.js';

interface Case {
  name: string;
  target: string;
  body: string;
  auth: string;
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
        if (c.auth === 'ok') return { caller: 'caller', service: 'organizations', region: 'us-east-1' };
        if (c.auth.startsWith('ok:'))
          return { caller: 'caller', service: c.auth.slice(3), region: 'us-east-1' };
        throw new SigV4Failure(c.auth as SigV4FailureCode);
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
