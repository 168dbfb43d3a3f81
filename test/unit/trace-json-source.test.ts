import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineColumnAt } from '../../extension/common/trace/errors';
import { member, parseJsonIn } from '../../extension/common/trace/json-source';
import { jsonStringText, plainText, sourceRangeOf } from '../../extension/common/trace/mapped-text';

test('decoded offsets map to the first source character of each escape', () => {
  const source = '"a\\nb\\u00e9c"';
  const mapped = jsonStringText(source, { start: 1, end: source.length - 1 });
  assert.equal(mapped.text, 'a\nbéc');
  assert.deepEqual([0, 1, 2, 3, 4, 5].map(mapped.toSource), [1, 2, 4, 5, 11, 12]);
  assert.deepEqual(sourceRangeOf(mapped, 1, 4), { start: 2, end: 11 });
  assert.equal(source.slice(2, 11), '\\nb\\u00e9');
});

test('an escaped surrogate pair decodes to one character of two code units', () => {
  const source = 'x\\ud83d\\ude00y';
  const mapped = jsonStringText(source, { start: 0, end: source.length });
  assert.equal(mapped.text, 'x😀y');
  assert.deepEqual([0, 1, 2, 3, 4].map(mapped.toSource), [0, 1, 7, 13, 14]);
});

test('a string without escapes maps one to one, and offsets outside are refused', () => {
  const mapped = jsonStringText('__plain__', { start: 2, end: 7 });
  assert.equal(mapped.text, 'plain');
  assert.equal(mapped.toSource(5), 7);
  assert.throws(() => mapped.toSource(6), RangeError);
  assert.throws(() => plainText('abc', { start: 2, end: 9 }), /not inside the source/);
});

test('parsed strings know where their raw content is', () => {
  const source = '{"k": "v\\"w", "k": [1, -2.5e1, true, null]}';
  const root = parseJsonIn(source);
  assert.equal(root.kind, 'object');
  if (root.kind !== 'object') return;
  const first = root.entries[0].value;
  assert.equal(first.kind === 'string' && source.slice(first.content.start, first.content.end), 'v\\"w');
  assert.equal(first.kind === 'string' && first.value, 'v"w');
  const last = member(root, 'k');
  assert.equal(last?.kind, 'array');
  assert.deepEqual(last?.kind === 'array' && last.items.map((item) => ('value' in item ? item.value : null)), [1, -25, true, null]);
});

test('a value may be parsed inside bounds, as a JSONL line is', () => {
  const source = 'xx{"a": 1}yy';
  assert.equal(parseJsonIn(source, 2, 10).kind, 'object');
  assert.throws(() => parseJsonIn(source, 2, 9), /end of the line/);
});

test('line and column count UTF-16 units and treat \\r\\n as one break', () => {
  const text = 'ab\r\ncd\néf';
  assert.deepEqual(lineColumnAt(text, 0), { line: 1, column: 1 });
  assert.deepEqual(lineColumnAt(text, 5), { line: 2, column: 2 });
  assert.deepEqual(lineColumnAt(text, 8), { line: 3, column: 2 });
});
