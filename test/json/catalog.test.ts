// The JSON error catalog owns its words: every template is used and has a golden rendering
// (test/vectors/json/catalog-messages.json), no template's sentence is written out by hand anywhere
// else, and no JsonError outside the catalog is constructed with words of its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  JSON_ERROR_CATALOG,
  JSON_MESSAGES,
  type JsonError,
  type JsonMessageKey,
  jsonError,
} from '../../src/core/json/errors.js';
import { jsonErrorResponse } from '../../src/core/json/index.js';
import {
  constructed,
  freeTextInSrc,
  goldenMessages,
  handWritten,
  JSON_CATALOG,
  unusedTemplates,
} from '../helpers/catalog.js';

const golden = goldenMessages('json/catalog-messages.json');

/**
 * A templated sentence that may also be written elsewhere, and why: the policy parser (its catalog,
 * src/core/policy/errors.ts) has no AWS error of its own, and says of a policy's members what this
 * says of a request's.
 */
const ALSO_WRITTEN: Partial<Record<JsonMessageKey, readonly string[]>> = {
  notAString: ['src/core/policy/errors.ts'],
};

test('every JSON template is used, and no templated sentence is written out by hand elsewhere', () => {
  assert.deepEqual(unusedTemplates(JSON_MESSAGES, 'jsonError', JSON_CATALOG), []);
  assert.deepEqual(handWritten(JSON_MESSAGES, golden, ALSO_WRITTEN), []);
});

test('every JSON template has a golden rendering: its code, Reason and words, byte for byte', () => {
  assert.deepEqual(Object.keys(golden).sort(), Object.keys(JSON_MESSAGES).sort(), 'one golden per template');
  for (const [key, g] of Object.entries(golden)) {
    const error = (jsonError as (k: string, ...a: unknown[]) => JsonError)(key, ...g.args);
    assert.ok(g.code in JSON_ERROR_CATALOG, `${key}: ${g.code} is a catalog code`);
    assert.equal(error.code, g.code, key);
    assert.equal(error.reason, g.reason, key);
    assert.equal(error.message, g.message, key);
    // On the wire: the words as they are, under the code's status.
    const res = jsonErrorResponse(error, 'req-golden');
    assert.equal(res.status, JSON_ERROR_CATALOG[error.code].status, key);
    assert.equal((JSON.parse(res.body) as { Message?: string }).Message, g.message, key);
  }
});

test('no src file outside the catalogs constructs a JsonError with words of its own', () => {
  assert.deepEqual(freeTextInSrc(constructed('JsonError'), 1), []);
});
