// The Query error catalog owns its words: every entry is used by the code and has a golden response
// (test/vectors/query/catalog-errors.json: status, Type and AWS's default words on the wire), every
// template is used and has a golden rendering (test/vectors/query/catalog-messages.json), no
// template's sentence is written out by hand anywhere else, and no error outside the catalog is
// constructed with words of its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { JSON_ERROR_CATALOG } from '../../src/core/json/errors.js';
import { errorResponse } from '../../src/core/query/dispatch.js';
import {
  AwsError,
  awsError,
  CONSTRAINTS,
  type ConstraintKey,
  ERROR_CATALOG,
  type ErrorCode,
  MESSAGES,
  type MessageKey,
  violation,
} from '../../src/core/query/errors.js';
import {
  constructed,
  freeTextArguments,
  freeTextInSrc,
  goldenMessages,
  handWritten,
  JSON_CATALOG,
  QUERY_CATALOG,
  srcFiles,
  unusedTemplates,
  usedOutside,
  VIOLATION,
} from '../helpers/catalog.js';

const golden = goldenMessages('query/catalog-messages.json');

/**
 * A templated sentence that may also be written elsewhere, and why: the policy parser (its catalog,
 * src/core/policy/errors.ts) has no AWS error of its own, and its quota finding is re-thrown with
 * its words as they are.
 */
const ALSO_WRITTEN: Partial<Record<MessageKey, readonly string[]>> = {
  quotaExceeded: ['src/core/policy/errors.ts'],
};

test('every Query catalog code is sent by some part of src/ (directly or through a template)', () => {
  const viaTemplate = new Set<string>(Object.values(MESSAGES).map((t) => t.code));
  const unused = Object.keys(ERROR_CATALOG).filter(
    (code) => !viaTemplate.has(code) && usedOutside(`'${code}'`, [QUERY_CATALOG]).length === 0,
  );
  assert.deepEqual(unused, []);
});

test('every JSON catalog code is sent or mapped to by some part of src/', () => {
  const catalog = srcFiles.get(JSON_CATALOG) ?? '';
  const unused = Object.keys(JSON_ERROR_CATALOG).filter((code) => {
    const elsewhere = usedOutside(`'${code}'`, [JSON_CATALOG]).length > 0;
    // Inside the catalog's file: its own entry, plus any mapping onto it.
    const inFile = catalog.split(`'${code}'`).length - 1;
    return !elsewhere && inFile === 0;
  });
  assert.deepEqual(unused, []);
});

test('every Query template is used, and no templated sentence is written out by hand elsewhere', () => {
  assert.deepEqual(unusedTemplates(MESSAGES, 'awsError', QUERY_CATALOG, 'MESSAGES'), []);
  assert.deepEqual(handWritten(MESSAGES, golden, ALSO_WRITTEN), []);
});

test('every Query template has a golden rendering: its code and its words, byte for byte', () => {
  assert.deepEqual(Object.keys(golden).sort(), Object.keys(MESSAGES).sort(), 'one golden per template');
  for (const [key, g] of Object.entries(golden)) {
    const error = (awsError as (k: string, ...a: unknown[]) => AwsError)(key, ...g.args);
    assert.ok(g.code in ERROR_CATALOG, `${key}: ${g.code} is a catalog code`);
    assert.equal(error.code, g.code, key);
    assert.equal(error.message, g.message, key);
  }
});

test('no src file outside the catalogs constructs an AwsError with words of its own', () => {
  assert.deepEqual(freeTextInSrc(constructed('AwsError'), 1), []);
});

test('the free-text check finds a literal, a template literal, a constant and a parameter as the message', () => {
  const text = [
    "const WORDS = 'Some words.';",
    "throw new AwsError('InvalidInput', 'Invalid URL.');",
    'throw new AwsError(',
    "  'NoSuchEntity',",
    `  \`Entity \${arn} does not exist.\`,`,
    ');',
    "throw new AwsError('ConcurrentModification', WORDS);",
    "const f = (message: string) => new AwsError('InvalidIdentityToken', message, { kid });",
    "throw new AwsError('ServiceUnavailable');",
    "throw new AwsError('AccessDenied', undefined, { reason: 'x' });",
    'throw new AwsError(err.code, err.message);',
    "throw awsError('roleExists', name);",
  ].join('\n');
  assert.deepEqual(
    freeTextArguments('x.ts', text, constructed('AwsError'), 1).map((f) => f.line),
    [2, 3, 7, 8],
  );
});

test('no src file outside the catalogs lists a ValidationError constraint in words of its own', () => {
  assert.deepEqual(freeTextInSrc(VIOLATION, 2), []);
});

test('every constraint is used, and renders as its golden words inside a violation', () => {
  const constraints = JSON.parse(
    readFileSync(new URL('../vectors/query/catalog-constraints.json', import.meta.url), 'utf8'),
  ) as {
    violations: {
      shown?: string | null;
      path: string;
      constraint: ConstraintKey;
      args: (string | number)[];
      words: string;
    }[];
  };
  const covered = new Set<string>(constraints.violations.map((v) => v.constraint));
  assert.deepEqual([...covered].sort(), Object.keys(CONSTRAINTS).sort(), 'one golden per constraint');
  for (const key of Object.keys(CONSTRAINTS)) {
    assert.ok(usedOutside(`CONSTRAINTS.${key}(`, [QUERY_CATALOG]).length > 0, `${key} is never used`);
  }
  for (const v of constraints.violations) {
    const constraint = (CONSTRAINTS[v.constraint] as (...a: (string | number)[]) => string)(...v.args);
    assert.equal(violation(v.shown, v.path, constraint), v.words, v.constraint);
  }
});

interface GoldenError {
  status: number;
  xml: string;
}

test('every Query catalog entry has a golden response: status, Type, Code and AWS default words', () => {
  const responses = JSON.parse(
    readFileSync(new URL('../vectors/query/catalog-errors.json', import.meta.url), 'utf8'),
  ) as Record<string, GoldenError>;
  assert.deepEqual(Object.keys(responses).sort(), Object.keys(ERROR_CATALOG).sort(), 'one golden per entry');
  for (const code of Object.keys(ERROR_CATALOG) as ErrorCode[]) {
    const res = errorResponse(new AwsError(code), 'sts', 'req-golden');
    assert.equal(res.status, responses[code]?.status, code);
    assert.equal(res.body, responses[code]?.xml, code);
  }
});
