// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables, not JS templates
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ctx } from '../../src/core/policy/context.js';
import { arnMatches, glob } from '../../src/core/policy/match.js';
import {
  base64Bytes,
  cidrContains,
  parseCidr,
  parseDate,
  parseNumber,
} from '../../src/core/policy/values.js';
import { expand } from '../../src/core/policy/variables.js';

test('numbers: integers and decimals with a sign; nothing else', () => {
  assert.deepEqual(['1', '-2.5', '+3', '.5', '10.'].map(parseNumber), [1, -2.5, 3, 0.5, 10]);
  for (const bad of ['', '1e3', '0x10', 'NaN', 'Infinity', ' 1', '1 '])
    assert.equal(parseNumber(bad), undefined, bad);
});

test('dates: ISO-8601 in UTC unless an offset is given, or epoch seconds; impossible dates rejected', () => {
  assert.equal(parseDate('2026-06-01T12:00:00Z'), Date.UTC(2026, 5, 1, 12));
  assert.equal(parseDate('2026-06-01T12:00:00'), Date.UTC(2026, 5, 1, 12));
  assert.equal(parseDate('2026-06-01T14:00:00+02:00'), Date.UTC(2026, 5, 1, 12));
  assert.equal(parseDate('2026-06-01T07:30:00-0430'), Date.UTC(2026, 5, 1, 12));
  assert.equal(parseDate('2026-06-01'), Date.UTC(2026, 5, 1));
  assert.equal(parseDate('1780315200'), Date.UTC(2026, 5, 1, 12));
  assert.equal(parseDate('2024-02-29'), Date.UTC(2024, 1, 29));
  for (const bad of [
    '2026-02-29',
    '2026-13-01',
    '2026-06-01T24:00:00Z',
    '2026-06-01T12:00:00+25:00',
    'June 1',
    '',
  ]) {
    assert.equal(parseDate(bad), undefined, bad);
  }
});

test('CIDRs: IPv4 and IPv6 forms, prefixes within the family, no leading zeros', () => {
  const v6 = parseCidr('2001:db8::/32');
  const inside = parseCidr('2001:0db8:ffff::1');
  assert.ok(v6 && inside && cidrContains(v6, inside));
  const mapped = parseCidr('::ffff:10.0.0.1');
  assert.equal(mapped?.bytes.length, 16);
  const all6 = parseCidr('::/0');
  assert.ok(all6 && mapped && cidrContains(all6, mapped));
  for (const bad of ['10.0.0.01', '10.0.0', '10.0.0.0/33', '1::2::3', '2001:db8::/129', '12345::', 'x', '']) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
});

test('base64: canonical padding required; equal bytes compare equal', () => {
  assert.equal(base64Bytes('QQ=='), '41');
  assert.equal(base64Bytes('QQ'), undefined);
  assert.equal(base64Bytes('Q'), undefined);
  assert.equal(base64Bytes(''), '');
});

test('glob: * spans any run, ? one character; literal positions never act as wildcards', () => {
  assert.ok(glob('a*b*c', 'aXXbYYc', false));
  assert.ok(!glob('a*b*c', 'aXXbYY', false));
  assert.ok(glob('*', '', false));
  assert.ok(!glob('?', '', false));
  assert.ok(glob('S3:GET*', 's3:getobject', true));
  assert.ok(!glob('*', 'x', false, Uint8Array.from([1])));
  assert.ok(glob('*', '*', false, Uint8Array.from([1])));
});

test('ARN matching: component by component, the resource part may hold colons', () => {
  assert.ok(
    arnMatches(
      'arn:aws:logs:*:*:log-group:*',
      'arn:aws:logs:eu-west-1:111111111111:log-group:a:log-stream:b',
    ),
  );
  assert.ok(!arnMatches('arn:aws:s3:::*', 'arn:aws:s3:eu-west-1::b'));
  assert.ok(!arnMatches('arn:aws:iam::*', 'arn:aws:iam::111111111111:role/x'));
  assert.ok(arnMatches('*', 'arn:aws:iam::111111111111:role/x'));
});

test('variables: defaults, escapes, and absent or multi-valued keys', () => {
  const ctx = new Ctx({ 'aws:username': 'alice', 'aws:TagKeys': ['a'] });
  assert.deepEqual(expand('home/${aws:username}/*', ctx, true)?.text, 'home/alice/*');
  assert.deepEqual(expand("${aws:userid, 'anon'}", ctx, true)?.text, 'anon');
  assert.deepEqual(expand('${*}${?}${$}', ctx, true)?.text, '*?$');
  assert.equal(expand('${aws:userid}', ctx, true), null);
  assert.equal(expand('${aws:TagKeys}', ctx, true), null);
  assert.deepEqual(expand('${aws:username}', ctx, false), { text: '${aws:username}' });
  assert.deepEqual(expand('no close ${aws:username', ctx, true)?.text, 'no close ${aws:username');
});

test('context keys are matched case-insensitively and never reach prototype properties', () => {
  const ctx = new Ctx({ 'aws:PrincipalTag/Team': 'infra' });
  assert.equal(ctx.get('AWS:principaltag/team'), 'infra');
  assert.equal(ctx.get('constructor'), undefined);
  assert.equal(ctx.get('__proto__'), undefined);
});
