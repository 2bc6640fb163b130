// Golden XML: responses built from the AWS API reference samples, rendered by our helpers and
// compared byte for byte (whitespace between tags aside), then parsed back to prove well-formedness.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../../src/core/query/errors.js';
import { errorResponse, QUERY_SERVICES } from '../../src/core/query/index.js';
import { escapeXml, renderContent, renderResponse, type XmlObject } from '../../src/core/query/xml.js';

const STS = QUERY_SERVICES.sts.namespace;
const IAM = QUERY_SERVICES.iam.namespace;
const SESSION_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';

/** Golden file → canonical form: comments dropped, whitespace between tags removed. */
function golden(name: string): string {
  return readFileSync(new URL(`../vectors/query/${name}.xml`, import.meta.url), 'utf8')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/>\s+</g, '><')
    .trim();
}

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false });
function parse(xml: string): Record<string, unknown> {
  assert.equal(XMLValidator.validate(xml), true);
  return parser.parse(xml) as Record<string, unknown>;
}

const decoded = {
  allowed: 'false',
  explicitDeny: 'false',
  matchedStatements: '',
  failures: '',
  context: {
    principal: { id: 'AIDACKCEVSQ6C2EXAMPLE', name: 'Bob', arn: 'arn:aws:iam::123456789012:user/Bob' },
    action: 'ec2:StopInstances',
    resource: 'arn:aws:ec2:us-east-1:123456789012:instance/i-dd01c9bd',
    conditions: [
      { item: { key: 'ec2:Tenancy', values: ['default'] } },
      { item: { key: 'aws:Resource', values: ['instance/i-dd01c9bd'] } },
    ],
  },
};

const CASES: { file: string; action: string; namespace: string; requestId: string; result: XmlObject }[] = [
  {
    file: 'assume-role-with-web-identity',
    action: 'AssumeRoleWithWebIdentity',
    namespace: STS,
    requestId: 'ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE',
    result: {
      SubjectFromWebIdentityToken: 'amzn1.account.AF6RHO7KZU5XRVQJGXK6HB56KR2A',
      Audience: 'client.5498841531868486423.1548@apps.example.com',
      AssumedRoleUser: {
        Arn: 'arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1',
        AssumedRoleId: 'AROACLKWSDQRAOEXAMPLE:app1',
      },
      Credentials: {
        SessionToken: 'AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE',
        SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY',
        Expiration: new Date(Date.UTC(2014, 9, 24, 23, 0, 23)),
        AccessKeyId: 'ASgeIAIOSFODNN7EXAMPLE',
      },
      PackedPolicySize: undefined,
      SourceIdentity: 'SourceIdentityValue',
      Provider: 'www.amazon.com',
    },
  },
  {
    file: 'assume-role',
    action: 'AssumeRole',
    namespace: STS,
    requestId: 'c6104cbe-af31-11e0-8154-cbc7ccf896c7',
    result: {
      SourceIdentity: 'DevUser123',
      AssumedRoleUser: {
        Arn: 'arn:aws:sts::123456789012:assumed-role/demo/John',
        AssumedRoleId: 'ARO123EXAMPLE123:John',
      },
      Credentials: {
        AccessKeyId: 'ASIAIOSFODNN7EXAMPLE',
        SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY',
        SessionToken: SESSION_TOKEN,
        // An epoch with milliseconds renders as whole seconds.
        Expiration: new Date(Date.UTC(2019, 10, 9, 13, 34, 41, 359)),
      },
      PackedPolicySize: 6,
    },
  },
  {
    file: 'get-caller-identity',
    action: 'GetCallerIdentity',
    namespace: STS,
    requestId: '01234567-89ab-cdef-0123-456789abcdef',
    result: {
      Arn: 'arn:aws:iam::123456789012:user/Alice',
      UserId: 'AKIAI44QH8DHBEXAMPLE',
      Account: '123456789012',
    },
  },
  {
    file: 'decode-authorization-message',
    action: 'DecodeAuthorizationMessage',
    namespace: STS,
    requestId: '6624a9ca-cd25-4f50-b2a5-7ba65bf07453',
    result: { DecodedMessage: JSON.stringify(decoded) },
  },
  {
    file: 'iam-list-with-members',
    action: 'ListRoleTags',
    namespace: IAM,
    requestId: 'EXAMPLE8-90ab-cdef-fedc-ba987EXAMPLE',
    result: {
      Tags: [
        { Key: 'Dept', Value: '12345' },
        { Key: 'Team', Value: 'Accounting' },
      ],
      IsTruncated: false,
    },
  },
];

for (const c of CASES) {
  test(`${c.action} renders exactly the golden ${c.file}.xml`, () => {
    const xml = renderResponse({
      action: c.action,
      namespace: c.namespace,
      requestId: c.requestId,
      result: c.result,
    });
    assert.equal(xml, golden(c.file));
    const doc = parse(xml);
    const root = doc[`${c.action}Response`] as Record<string, unknown>;
    assert.equal(root['@_xmlns'], c.namespace);
    assert.deepEqual(root.ResponseMetadata, { RequestId: c.requestId });
  });
}

test('DecodedMessage JSON survives escaping and parses back to the same object', () => {
  const xml = golden('decode-authorization-message');
  const doc = parse(xml) as {
    DecodeAuthorizationMessageResponse: { DecodeAuthorizationMessageResult: { DecodedMessage: string } };
  };
  assert.deepEqual(
    JSON.parse(doc.DecodeAuthorizationMessageResponse.DecodeAuthorizationMessageResult.DecodedMessage),
    decoded,
  );
});

test('an STS ErrorResponse renders exactly the golden error, with status and fault from the catalog', () => {
  const err = new AwsError(
    'InvalidIdentityToken',
    'No OpenIDConnect provider found in your account for https://app.terraform.io',
  );
  const res = errorResponse(err, 'sts', 'd2a8b1c0-5d8e-4c1e-9a61-2b3c4d5e6f70');
  assert.equal(res.status, 400);
  assert.equal(res.body, golden('error-sts-invalid-identity-token'));
  assert.equal(res.headers['x-amzn-RequestId'], 'd2a8b1c0-5d8e-4c1e-9a61-2b3c4d5e6f70');
  assert.equal(res.headers['content-type'], 'text/xml');
});

test('an IAM ErrorResponse uses the IAM namespace and escapes < & > " \' in the message', () => {
  const message = `The role with name a<b&c>"d' cannot be found.`;
  const res = errorResponse(
    new AwsError('NoSuchEntity', message),
    'iam',
    '7a62c49f-347e-4fc4-9331-6e8eEXAMPLE',
  );
  assert.equal(res.status, 404);
  assert.equal(res.body, golden('error-iam-escaping'));
  const doc = parse(res.body) as {
    ErrorResponse: { Error: { Type: string; Code: string; Message: string } };
  };
  assert.deepEqual(doc.ErrorResponse.Error, { Type: 'Sender', Code: 'NoSuchEntity', Message: message });
});

test('a non-AwsError failure becomes InternalFailure (500, Receiver) and its text is never shown', () => {
  const res = errorResponse(new Error('db password=hunter2'), 'sts', 'r-1');
  assert.equal(res.status, 500);
  assert.match(res.body, /<Type>Receiver<\/Type><Code>InternalFailure<\/Code>/);
  assert.doesNotMatch(res.body, /hunter2/);
});

test('escapeXml covers exactly the five special characters and round-trips any text', () => {
  assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&apos;');
  assert.equal(escapeXml('plain ASCII / unicode ሴ'), 'plain ASCII / unicode ሴ');
  const tricky = `tok<&>"'\u00e9]]>`;
  const doc = parse(`<R><V>${renderContent(tricky)}</V></R>`) as { R: { V: string } };
  assert.equal(doc.R.V, tricky);
});

test('absent members are omitted; empty lists, numbers and nested lists render in order', () => {
  assert.equal(
    renderContent({ A: undefined, B: null, C: [], D: 0, E: [['x'], []], F: true }),
    '<C></C><D>0</D><E><member><member>x</member></member><member></member></E><F>true</F>',
  );
});
