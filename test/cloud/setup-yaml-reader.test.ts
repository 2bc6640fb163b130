// The generic YAML reader under setup files, on its own: parse problems with their lines, the line
// of a key at any depth, and a reader that collects every problem instead of stopping at the first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseYaml, Reader, type YamlSource } from '../../src/cloud/setup/yaml-reader.js';

function source(text: string): YamlSource {
  const parsed = parseYaml(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.source;
}

test('a YAML syntax error and a duplicate key are problems of the document, with their lines', () => {
  const parsed = parseYaml('a: 1\nb: [\n');
  assert.equal(parsed.ok, false);
  const dup = parseYaml('a: 1\nb: 2\na: 3\n');
  assert.ok(!dup.ok);
  assert.deepEqual(
    dup.problems.map((p) => [p.path, p.line]),
    [['(document)', 3]],
  );
  assert.match(dup.problems[0]?.message ?? '', /unique/i);
});

test('the line of a path is its key line, or the nearest enclosing node that exists', () => {
  const src = source('top:\n  list:\n    - name: x\n      deep:\n        key: 1\n');
  assert.equal(src.lineOf(['top', 'list', 0, 'deep', 'key']), 5);
  assert.equal(src.lineOf(['top', 'list', 0, 'deep']), 4);
  assert.equal(src.lineOf(['top', 'list']), 2);
  assert.equal(src.lineOf(['top', 'list', 0, 'missing']), 3);
  assert.ok(src.isMapping);
  assert.equal(source('- 1\n- 2\n').isMapping, false);
});

test('the reader records every problem with its path and line, and reads on', () => {
  const src = source('m:\n  unknown: 1\n  n: nope\n  s: [1]\n  b: yes please\n  tags: { a: 1, b: [x] }\n');
  const r = new Reader(src.lineOf);
  const root = r.object(src.value(), [], ['m']) ?? {};
  const m = r.object(root.m, ['m'], ['n', 's', 'b', 'tags']) ?? {};
  assert.equal(r.int(m.n, ['m', 'n'], 1, 5), undefined);
  assert.equal(r.string(m.s, ['m', 's']), undefined);
  assert.equal(r.bool(m.b, ['m', 'b']), undefined);
  assert.deepEqual(r.stringMap(m.tags, ['m', 'tags']), { a: '1' });
  assert.deepEqual(
    r.list(undefined, ['m', 'none'], () => 1),
    [],
  );
  assert.deepEqual(
    r.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`),
    [
      '2: m.unknown: unknown key (expected one of n, s, b, tags)',
      '3: m.n: must be an integer from 1 to 5',
      '4: m.s: must be a string',
      '5: m.b: must be true or false',
      '6: m.tags.b: must be a string',
    ],
  );
});
