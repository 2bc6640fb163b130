// The error catalogs own their words: every entry is used by the code, every Query entry has a golden
// response (test/vectors/query/catalog-errors.json: status, Type and AWS's default words on the
// wire), and no sentence that has a template in the catalog is written out by hand anywhere else.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { JSON_ERROR_CATALOG } from '../../src/core/json/errors.js';
import { errorResponse } from '../../src/core/query/dispatch.js';
import { AwsError, ERROR_CATALOG, type ErrorCode, MESSAGES } from '../../src/core/query/errors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const QUERY_CATALOG = 'src/core/query/errors.ts';
const JSON_CATALOG = 'src/core/json/errors.ts';

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}
const files = new Map(sources(join(root, 'src')).map((p) => [relative(root, p), readFileSync(p, 'utf8')]));

/** Where `text` occurs in src/, outside `except`. */
const usedOutside = (text: string, except: string): string[] =>
  [...files].filter(([path, body]) => path !== except && body.includes(text)).map(([path]) => path);

test('every Query catalog code is sent by some part of src/ (directly or through a template)', () => {
  const viaTemplate = new Set<string>(Object.values(MESSAGES).map((t) => t.code));
  const unused = Object.keys(ERROR_CATALOG).filter(
    (code) => !viaTemplate.has(code) && usedOutside(`'${code}'`, QUERY_CATALOG).length === 0,
  );
  assert.deepEqual(unused, []);
});

test('every JSON catalog code is sent or mapped to by some part of src/', () => {
  const catalog = files.get(JSON_CATALOG) ?? '';
  const unused = Object.keys(JSON_ERROR_CATALOG).filter((code) => {
    const elsewhere = usedOutside(`'${code}'`, JSON_CATALOG).length > 0;
    // Inside the catalog's file: its own entry, plus any mapping onto it.
    const inFile = catalog.split(`'${code}'`).length - 1;
    return !elsewhere && inFile === 0;
  });
  assert.deepEqual(unused, []);
});

test('every template is used, and no templated sentence is written out by hand elsewhere', () => {
  for (const [key, t] of Object.entries(MESSAGES)) {
    assert.ok(
      usedOutside(`awsError('${key}'`, QUERY_CATALOG).length > 0 ||
        usedOutside(`MESSAGES.${key}`, QUERY_CATALOG).length > 0,
      `${key} is never used`,
    );
    // The sentence's longest fixed part, with every value replaced by a marker.
    const words = (t.words as (...a: string[]) => string)('\u0001', '\u0001', '\u0001');
    const fixed = words.split('\u0001').sort((a, b) => b.length - a.length)[0] ?? '';
    assert.ok(fixed.length >= 12, `${key}: a template needs fixed words`);
    assert.deepEqual(usedOutside(fixed, QUERY_CATALOG), [], `${key}: "${fixed}" written by hand`);
  }
});

test('every template renders under its own code', () => {
  for (const t of Object.values(MESSAGES)) assert.ok(t.code in ERROR_CATALOG);
});

interface GoldenError {
  status: number;
  xml: string;
}

test('every Query catalog entry has a golden response: status, Type, Code and AWS default words', () => {
  const golden = JSON.parse(
    readFileSync(new URL('../vectors/query/catalog-errors.json', import.meta.url), 'utf8'),
  ) as Record<string, GoldenError>;
  assert.deepEqual(Object.keys(golden).sort(), Object.keys(ERROR_CATALOG).sort(), 'one golden per entry');
  for (const code of Object.keys(ERROR_CATALOG) as ErrorCode[]) {
    const res = errorResponse(new AwsError(code), 'sts', 'req-golden');
    assert.equal(res.status, golden[code]?.status, code);
    assert.equal(res.body, golden[code]?.xml, code);
  }
});
