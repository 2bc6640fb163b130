// handleQueryRequest end to end over plain request objects: real SigV4 verification (requests signed
// by the reference signer), Action/Version routing, validation, errors in the service's namespace.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import {
  AwsError,
  createRegistry,
  defineAction,
  errorResponse,
  handleQueryRequest,
  PATTERNS,
  type QueryDeps,
  type QueryHttpRequest,
  type QueryHttpResponse,
  type SignedActionContext,
} from '../../src/core/query/index.js';
import { verifySigV4 } from '../../src/core/sigv4/index.js';
import { BodyTooLargeError } from '../../src/http/transport.js';
import { seededRandom } from '../../src/runtime/random.js';
import { knownKey, signRequest } from '../sigv4/helpers.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const FORM: [string, string][] = [['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8']];

/** The caller type is opaque to the dispatcher; here it is the access key id. */
type Caller = { accessKeyId: string };

const handled: string[] = [];
const registry = createRegistry<Caller>([
  defineAction({
    service: 'sts',
    name: 'GetCallerIdentity',
    auth: 'sigv4',
    input: () => ({}),
    handler: (_input, ctx: SignedActionContext<Caller>) => {
      handled.push('GetCallerIdentity');
      return {
        Arn: 'arn:aws:iam::123456789012:user/Alice',
        UserId: ctx.caller.accessKeyId,
        Account: '123456789012',
      };
    },
  }),
  defineAction({
    service: 'sts',
    name: 'AssumeRoleWithWebIdentity',
    auth: 'none',
    input: (p) => ({
      roleArn: p.str('RoleArn', { required: true, min: 20, max: 2048 }),
      roleSessionName: p.str('RoleSessionName', {
        required: true,
        min: 2,
        max: 64,
        pattern: PATTERNS.roleSessionName,
      }),
      token: p.str('WebIdentityToken', { required: true, min: 4, max: 20000, sensitive: true }),
      policyArns: p.structList(
        'PolicyArns',
        { arn: { required: true, min: 20, max: 2048 } },
        { maxItems: 10 },
      ),
    }),
    handler: (input) => {
      handled.push('AssumeRoleWithWebIdentity');
      return {
        AssumedRoleUser: { Arn: `${input.roleArn}/${input.roleSessionName}` },
        PolicyArnCount: input.policyArns?.length ?? 0,
      };
    },
  }),
  defineAction({
    service: 'iam',
    name: 'ListRoles',
    auth: 'sigv4',
    input: () => ({}),
    handler: () => ({ Roles: [], IsTruncated: false }),
  }),
  defineAction({
    service: 'iam',
    name: 'Explode',
    auth: 'none',
    input: () => ({}),
    handler: () => {
      throw new Error('secret internal detail');
    },
  }),
]);

const failures: unknown[] = [];
const deps: QueryDeps<Caller> = {
  registry,
  random: seededRandom(7),
  // Verifies for real, but leaves the service check to the dispatcher under test.
  authenticate: async (req) => {
    const r = await verifySigV4(req, knownKey, { now: T });
    return { caller: { accessKeyId: r.accessKeyId }, service: r.service };
  },
  onError: (info) => failures.push(info.error),
};

function plain(
  method: string,
  body: string,
  query = '',
  headers: [string, string][] = FORM,
): QueryHttpRequest {
  return {
    method,
    path: '/',
    query,
    rawHeaders: ['Host', 'sts.amazonaws.com', ...headers.flat()],
    body: Buffer.from(body),
    remoteAddress: '127.0.0.1',
  };
}

async function signed(body: string, service = 'sts'): Promise<QueryHttpRequest> {
  return { ...(await signRequest({ dateMs: T, body, headers: FORM, service })), remoteAddress: '127.0.0.1' };
}

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false });
function errorOf(res: QueryHttpResponse): { ns: string; Type: string; Code: string; Message: string } {
  const doc = xml.parse(res.body) as {
    ErrorResponse: { '@_xmlns': string; Error: { Type: string; Code: string; Message: string } };
  };
  return { ns: doc.ErrorResponse['@_xmlns'], ...doc.ErrorResponse.Error };
}

test('a signed GetCallerIdentity POST is dispatched, rendered and tagged with a request id', async () => {
  const res = await handleQueryRequest(await signed('Action=GetCallerIdentity&Version=2011-06-15'), deps);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/xml');
  const id = res.headers['x-amzn-RequestId'] ?? '';
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)));
  assert.equal(
    res.body,
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
      '<Arn>arn:aws:iam::123456789012:user/Alice</Arn><UserId>AKIDEXAMPLE</UserId><Account>123456789012</Account>' +
      `</GetCallerIdentityResult><ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
  );
});

test('a presigned GET carries Action and Version in the query string', async () => {
  const req = await signRequest({
    method: 'GET',
    dateMs: T,
    presignExpires: 60,
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
  });
  const res = await handleQueryRequest({ ...req, remoteAddress: '127.0.0.1' }, deps);
  assert.equal(res.status, 200, res.body);
});

test('an unsigned call to a SigV4 action is MissingAuthenticationToken (403)', async () => {
  const res = await handleQueryRequest(plain('POST', 'Action=GetCallerIdentity&Version=2011-06-15'), deps);
  assert.equal(res.status, 403);
  assert.equal(errorOf(res).Code, 'MissingAuthenticationToken');
});

test('a signature scoped to sts cannot call an IAM action (shared endpoint)', async () => {
  const res = await handleQueryRequest(await signed('Action=ListRoles&Version=2010-05-08', 'sts'), deps);
  assert.equal(res.status, 403);
  assert.deepEqual(errorOf(res), {
    ns: 'https://iam.amazonaws.com/doc/2010-05-08/',
    Type: 'Sender',
    Code: 'SignatureDoesNotMatch',
    Message: "Credential should be scoped to correct service: 'iam'.",
  });
  const ok = await handleQueryRequest(await signed('Action=ListRoles&Version=2010-05-08', 'iam'), deps);
  assert.equal(ok.status, 200);
  assert.match(
    ok.body,
    /^<ListRolesResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><ListRolesResult><Roles><\/Roles><IsTruncated>false<\/IsTruncated>/,
  );
});

test('an unsigned AssumeRoleWithWebIdentity runs without authentication', async () => {
  const body =
    'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s1&WebIdentityToken=aaaa.bbbb.cccc&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX';
  const res = await handleQueryRequest(plain('POST', body), deps);
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /<PolicyArnCount>1<\/PolicyArnCount>/);
});

test('validation errors are reported together and the handler never runs', async () => {
  handled.length = 0;
  const body =
    'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=bad%20name&WebIdentityToken=x';
  const res = await handleQueryRequest(plain('POST', body), deps);
  assert.equal(res.status, 400);
  const e = errorOf(res);
  assert.equal(e.Code, 'ValidationError');
  assert.match(
    e.Message,
    /^2 validation errors detected: Value 'bad name' at 'roleSessionName'.*; Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4$/,
  );
  assert.deepEqual(handled, []);
});

test('missing Action is MissingAction; unknown Action and wrong or missing Version are InvalidAction', async () => {
  const cases: [string, string, string][] = [
    ['Version=2011-06-15', 'MissingAction', 'Missing Action'],
    [
      'Action=Nope&Version=2011-06-15',
      'InvalidAction',
      'Could not find operation Nope for version 2011-06-15',
    ],
    [
      'Action=GetCallerIdentity&Version=2010-05-08',
      'InvalidAction',
      'Could not find operation GetCallerIdentity for version 2010-05-08',
    ],
    [
      'Action=GetCallerIdentity',
      'InvalidAction',
      'Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED',
    ],
  ];
  for (const [body, code, message] of cases) {
    const res = await handleQueryRequest(plain('POST', body), deps);
    assert.equal(res.status, 400, body);
    assert.deepEqual([errorOf(res).Code, errorOf(res).Message], [code, message], body);
  }
});

test('errors before the action is known use the namespace of the requested Version', async () => {
  const res = await handleQueryRequest(plain('POST', 'Action=Nope&Version=2010-05-08'), deps);
  assert.equal(errorOf(res).ns, 'https://iam.amazonaws.com/doc/2010-05-08/');
});

test('duplicate keys (in the body, or across query and body) are InvalidQueryParameter', async () => {
  for (const req of [
    plain('POST', 'Action=GetCallerIdentity&Action=GetCallerIdentity&Version=2011-06-15'),
    plain('POST', 'Action=GetCallerIdentity&Version=2011-06-15', 'Version=2011-06-15'),
  ]) {
    const res = await handleQueryRequest(req, deps);
    assert.equal(res.status, 400);
    assert.equal(errorOf(res).Code, 'InvalidQueryParameter');
  }
});

test('a member list with a gap is rejected before the handler runs', async () => {
  handled.length = 0;
  const body =
    'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s1&WebIdentityToken=aaaa&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX&PolicyArns.member.3.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FY';
  const res = await handleQueryRequest(plain('POST', body), deps);
  assert.equal(res.status, 400);
  assert.equal(errorOf(res).Code, 'InvalidParameterValue');
  assert.deepEqual(handled, []);
});

test('a POST body that is not form-encoded is ignored (so the Action is missing)', async () => {
  const res = await handleQueryRequest(
    plain('POST', 'Action=GetCallerIdentity&Version=2011-06-15', '', [['Content-Type', 'application/json']]),
    deps,
  );
  assert.equal(errorOf(res).Code, 'MissingAction');
});

test('methods other than GET and POST are refused', async () => {
  const res = await handleQueryRequest(plain('PUT', ''), deps);
  assert.equal(res.status, 400);
  assert.equal(errorOf(res).Code, 'InvalidAction');
});

test('an unexpected handler failure is InternalFailure for the client and the full error for operators', async () => {
  failures.length = 0;
  const res = await handleQueryRequest(plain('POST', 'Action=Explode&Version=2010-05-08'), deps);
  assert.equal(res.status, 500);
  assert.equal(errorOf(res).Code, 'InternalFailure');
  assert.doesNotMatch(res.body, /secret internal detail/);
  assert.equal((failures[0] as Error).message, 'secret internal detail');
});

test('a failure the deps classify (a store that cannot write) is their retryable error, still reported whole', async () => {
  failures.length = 0;
  const res = await handleQueryRequest(plain('POST', 'Action=Explode&Version=2010-05-08'), {
    ...deps,
    classifyError: (e) =>
      e instanceof Error && e.message === 'secret internal detail'
        ? new AwsError('ServiceUnavailable')
        : undefined,
  });
  assert.equal(res.status, 503);
  const error = errorOf(res);
  assert.equal(error.Code, 'ServiceUnavailable');
  assert.equal(error.Type, 'Receiver');
  assert.equal(error.ns, 'https://iam.amazonaws.com/doc/2010-05-08/');
  assert.doesNotMatch(res.body, /secret internal detail/);
  assert.equal((failures[0] as Error).message, 'secret internal detail');
  // An AwsError thrown by the action is never reclassified.
  const refused = await handleQueryRequest(plain('PUT', ''), {
    ...deps,
    classifyError: () => new AwsError('ServiceUnavailable'),
  });
  assert.equal(errorOf(refused).Code, 'InvalidAction');
});

test("the body limit is the caller's: an oversized body maps to RequestEntityTooLarge (413) via errorResponse", () => {
  const tooLarge = new BodyTooLargeError('body exceeds 65536 bytes');
  const res = errorResponse(
    tooLarge instanceof BodyTooLargeError ? new AwsError('RequestEntityTooLarge') : tooLarge,
    'sts',
    'r-413',
  );
  assert.equal(res.status, 413);
  assert.equal(errorOf(res).Code, 'RequestEntityTooLarge');
});

test('action names must be unique across services', () => {
  const a = defineAction({
    service: 'sts',
    name: 'Dup',
    auth: 'none',
    input: () => ({}),
    handler: () => undefined,
  });
  const b = defineAction({
    service: 'iam',
    name: 'Dup',
    auth: 'none',
    input: () => ({}),
    handler: () => undefined,
  });
  assert.throws(() => createRegistry([a, b]), /duplicate Query action Dup/);
});

test('an action without a result renders only ResponseMetadata', async () => {
  const reg = createRegistry<Caller>([
    defineAction({
      service: 'iam',
      name: 'DeleteRole',
      auth: 'none',
      input: () => ({}),
      handler: () => undefined,
    }),
  ]);
  const res = await handleQueryRequest(plain('POST', 'Action=DeleteRole&Version=2010-05-08'), {
    ...deps,
    registry: reg,
  });
  assert.match(
    res.body,
    /^<DeleteRoleResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><ResponseMetadata><RequestId>[^<]+<\/RequestId><\/ResponseMetadata><\/DeleteRoleResponse>$/,
  );
});
