// Query parameters: form decoding, duplicate keys, member lists and AWS-worded validation errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsError, type ErrorCode } from '../../src/core/query/errors.js';
import { FormReader, PATTERNS, parseForm } from '../../src/core/query/parse-form.js';

const reader = (text: string): FormReader => new FormReader(parseForm(text));
const fails = (code: ErrorCode, message?: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof AwsError, String(e));
  assert.equal(e.code, code, e.message);
  if (typeof message === 'string') assert.equal(e.message, message);
  else if (message) assert.match(e.message, message);
  return true;
};

test('form decoding: "+" is a space, %2B a plus, empty values kept, JSON values decoded', () => {
  const form = parseForm('A=a+b&B=%2B&C=&D=%7B%22k%22%3A1%7D&Tags.member.1.Key=k');
  assert.deepEqual(Object.fromEntries(form), {
    A: 'a b',
    B: '+',
    C: '',
    D: '{"k":1}',
    'Tags.member.1.Key': 'k',
  });
});

test('a repeated parameter is InvalidQueryParameter, not a silent overwrite', () => {
  assert.throws(
    () => parseForm('Action=A&Action=B'),
    fails('InvalidQueryParameter', /'Action' is specified more than once/),
  );
});

test('a pattern violation gives the exact AWS ValidationError wording', () => {
  const p = reader('RoleSessionName=bad%20name!');
  p.str('RoleSessionName', { required: true, pattern: PATTERNS.roleSessionName });
  assert.throws(
    () => p.done(),
    fails(
      'ValidationError',
      "1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    ),
  );
});

test('several violations are counted and joined with "; "', () => {
  const p = reader('RoleSessionName=!&DurationSeconds=60');
  p.str('RoleArn', { required: true, min: 20, max: 2048 });
  p.str('RoleSessionName', { required: true, min: 2, max: 64, pattern: PATTERNS.roleSessionName });
  p.int('DurationSeconds', { min: 900, max: 43200 });
  assert.throws(
    () => p.done(),
    fails(
      'ValidationError',
      '4 validation errors detected: ' +
        "Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
        "Value '!' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; " +
        "Value '!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; " +
        "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    ),
  );
});

test('sensitive values are never echoed in validation messages', () => {
  const p = reader('WebIdentityToken=abc');
  p.str('WebIdentityToken', { required: true, min: 4, max: 20000, sensitive: true });
  assert.throws(
    () => p.done(),
    (e: unknown) =>
      e instanceof AwsError && !e.message.includes('abc') && /Value at 'webIdentityToken'/.test(e.message),
  );
});

test('valid parameters pass and come back typed', () => {
  const p = reader('RoleSessionName=ok-name&DurationSeconds=3600&Flag=true');
  assert.equal(p.str('RoleSessionName', { required: true, pattern: PATTERNS.roleSessionName }), 'ok-name');
  assert.equal(p.int('DurationSeconds', { min: 900 }), 3600);
  assert.equal(p.bool('Flag'), true);
  assert.equal(p.str('Missing'), undefined);
  p.done();
});

test('malformed integers and booleans are validation errors', () => {
  const p = reader('DurationSeconds=1e3&Flag=yes');
  p.int('DurationSeconds');
  p.bool('Flag');
  assert.throws(
    () => p.done(),
    fails(
      'ValidationError',
      /^2 validation errors detected: Value '1e3' at 'durationSeconds'.*; Value 'yes' at 'flag'/,
    ),
  );
});

test('member lists: X.member.N in order, "X=" is empty, absent is undefined', () => {
  const p = reader('TransitiveTagKeys.member.2=b&TransitiveTagKeys.member.1=a&Empty=');
  assert.deepEqual(p.list('TransitiveTagKeys'), ['a', 'b']);
  assert.deepEqual(p.list('Empty'), []);
  assert.equal(p.list('Absent'), undefined);
  p.done();
});

test('member lists must be contiguous from 1', () => {
  assert.throws(
    () => reader('TransitiveTagKeys.member.1=a&TransitiveTagKeys.member.3=c').list('TransitiveTagKeys'),
    fails('InvalidParameterValue', /'TransitiveTagKeys.member.2' is missing/),
  );
  assert.throws(
    () => reader('TransitiveTagKeys.member.2=b').list('TransitiveTagKeys'),
    fails('InvalidParameterValue', /member.1' is missing/),
  );
  for (const bad of ['X.member.0=a', 'X.member.01=a', 'X.member.a=a', 'X.member.1.Key=a']) {
    assert.throws(
      () => reader(bad).list('X'),
      fails('InvalidParameterValue', /Invalid list member parameter/),
      bad,
    );
  }
});

test('structure lists: Tags.member.N.Key/Value and PolicyArns.member.N.arn', () => {
  const p = reader(
    'Tags.member.1.Key=Project&Tags.member.1.Value=net&Tags.member.2.Key=Env&Tags.member.2.Value=&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess',
  );
  const tagRules = {
    Key: { required: true, min: 1, max: 128, pattern: PATTERNS.tagKey },
    Value: { required: true, max: 256, pattern: PATTERNS.tagValue },
  };
  assert.deepEqual(p.structList('Tags', tagRules, { maxItems: 50 }), [
    { Key: 'Project', Value: 'net' },
    { Key: 'Env', Value: '' },
  ]);
  assert.deepEqual(p.structList('PolicyArns', { arn: { required: true, min: 20, max: 2048 } }), [
    { arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
  ]);
  p.done();
});

test('structure list violations name the member path and count items', () => {
  const p = reader('Tags.member.1.Value=v&Tags.member.2.Key=k%2A&Tags.member.2.Value=x');
  p.structList(
    'Tags',
    { Key: { required: true, pattern: PATTERNS.tagKey }, Value: { required: true } },
    { maxItems: 1 },
  );
  assert.throws(
    () => p.done(),
    fails(
      'ValidationError',
      /^3 validation errors detected: Value null at 'tags.1.member.key' .*; Value 'k\*' at 'tags.2.member.key' .*; Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 1$/,
    ),
  );
  assert.throws(
    () => reader('Tags.member.1.Key=a&Tags.member.3.Key=c').structList('Tags', { Key: {} }),
    fails('InvalidParameterValue'),
  );
});

test('lengths count code points, not UTF-16 units', () => {
  const p = reader(`Name=${encodeURIComponent('😀😀')}`);
  p.str('Name', { min: 2, max: 2 });
  p.done();
});

test('code point lengths agree with string iteration for pairs, lone surrogates and long values', () => {
  for (const value of ['a😀b', '\uD83D', '\uDE00x', 'x\uD83D', `${'é'.repeat(19_999)}😀`, '']) {
    const n = [...value].length;
    // Exactly n passes, n + 1 as the minimum fails.
    const exact = new FormReader(new Map([['Name', value]]));
    exact.str('Name', { min: n, max: n });
    exact.done();
    const short = new FormReader(new Map([['Name', value]]));
    short.str('Name', { min: n + 1 });
    assert.throws(() => short.done(), fails('ValidationError'));
  }
});

test('length rules on generated strings decide as counting code points would, near the bounds included', () => {
  // The reader counts code points only when the UTF-16 length leaves a rule open: the verdicts
  // must be those of counting them every time.
  const units = ['a', 'é', '😀', '\uD83D', '\uDE00', '\uFFFF'];
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed >>> 12) % n;
  };
  for (let i = 0; i < 3000; i++) {
    let value = '';
    for (let k = next(12); k > 0; k--) value += units[next(units.length)];
    const count = [...value].length;
    const min = next(14);
    const max = min + next(6);
    const form = new FormReader(new Map([['Name', value]]));
    form.str('Name', { min, max });
    const verdict = (() => {
      try {
        form.done();
        return 'ok';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    const context = JSON.stringify({ value, min, max, verdict });
    assert.equal(verdict === 'ok', count >= min && count <= max, context);
    assert.equal(verdict.includes(`greater than or equal to ${min}`), count < min, context);
    assert.equal(verdict.includes(`less than or equal to ${max}`), count > max, context);
  }
});

test('form decoding agrees with URLSearchParams on every input, malformed escapes included', () => {
  const samples = [
    'Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fx',
    'a=1&&b=2&',
    '=x&y',
    'k=%zz&l=%E2%82%AC&m=%F0%9F%98%80',
    'bad=%FF%FE&ok=1',
    'sur=%ED%A0%80',
    'plus=a+b%2Bc&sp=%20',
    'trunc=%E2%82',
    'pct=%',
    'x=a=b=c',
    '',
    '&&&',
  ];
  let seed = 11;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const pieces = [
    'a',
    'B',
    '=',
    '&',
    '+',
    '%',
    '%2',
    '%41',
    '%e2%82%ac',
    '%C3',
    '%ff',
    '%ED%A0%80',
    '.',
    '-',
    '~',
  ];
  for (let i = 0; i < 3000; i++) {
    let t = '';
    for (let n = next() % 10; n > 0; n--) t += pieces[next() % pieces.length];
    samples.push(t);
  }
  for (const text of samples) {
    const expected = [...new URLSearchParams(text)];
    const keys = expected.map(([k]) => k);
    if (new Set(keys).size !== keys.length) {
      assert.throws(() => parseForm(text), fails('InvalidQueryParameter'), text);
      continue;
    }
    assert.deepEqual([...parseForm(text)], expected, JSON.stringify(text));
  }
});
