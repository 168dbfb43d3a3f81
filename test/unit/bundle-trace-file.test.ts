import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceFile, MAX_TRACE_FILE_CHARS, jsonNestingDepth } from '../../extension/common/bundle/trace-load';
import { newTraceFile, serializeTraceFile } from '../../extension/common/bundle/trace-write';
import { TRACE_SCHEMA_ID, type TraceFile } from '../../extension/common/bundle/trace-file';
import { hostileTraceFile, sampleTraceFile } from './bundle-fixtures';

/** The sample as JSON, changed by `edit`, so each test breaks one thing. */
function edited(edit: (file: TraceFile) => void): string {
  const file = JSON.parse(serializeTraceFile(sampleTraceFile())) as TraceFile;
  edit(file);
  return JSON.stringify(file);
}

/** Sets a field to a value its type does not allow (undefined: the field goes missing). */
function set(target: object, key: string, value: unknown): void {
  (target as Record<string, unknown>)[key] = value;
}

test('save → open gives back identical annotations', () => {
  const file = sampleTraceFile();
  assert.deepStrictEqual(parseTraceFile(serializeTraceFile(file)), file);
});

test('saving is stable: schema key order, records sorted, plain arrays on one line', () => {
  const file = sampleTraceFile();
  const text = serializeTraceFile(file);
  assert.equal(serializeTraceFile(parseTraceFile(text)), text);
  assert.match(text, /^\{\n {2}"schema": "thinkscope\.trace\/1",\n {2}"tool": \{/);
  assert.match(text, /"projections": \{\n\s+"assistant-axis": \[[-\d., ]+\],\n\s+"seal-calibration": \[/);
  assert.match(text, /"layers": \[12, 14, 16, 18, 20, 22\]/);
});

test('saving refuses a non-finite number and names the field', () => {
  const file = sampleTraceFile();
  file.steps[2].latentScore = Number.NaN;
  assert.throws(() => serializeTraceFile(file), /steps\[2\]\.latentScore is NaN/);
});

test('newTraceFile fills defaults that validate', () => {
  const file = newTraceFile({ toolVersion: '0.1.0', source: { name: 'a.md', format: 'markdown', text: 'Hello.' } });
  assert.equal(file.schema, TRACE_SCHEMA_ID);
  assert.deepStrictEqual(parseTraceFile(serializeTraceFile(file)), file);
});

test('a wrong type is reported with the field path and what is expected', () => {
  const text = edited((f) => set(f.steps[3], 'tts', 'high'));
  assert.throws(() => parseTraceFile(text), /steps\[3\]\.tts: must be number or null/);
});

test('missing, unknown and out-of-range fields are each named', () => {
  assert.throws(() => parseTraceFile(edited((f) => set(f.steps[1], 'sealClass', undefined))), /steps\[1\]\.sealClass: is missing/);
  assert.throws(() => parseTraceFile(edited((f) => set(f.model!, 'colour', 'red'))), /model\.colour: is not a field/);
  assert.throws(() => parseTraceFile(edited((f) => set(f.steps[2], 'sealClass', 'pondering'))), /steps\[2\]\.sealClass: must be one of "execution", "reflection", "transition", null/);
  assert.throws(() => parseTraceFile(edited((f) => (f.steps[0].start = -4))), /steps\[0\]\.start: must be >= 0/);
  assert.throws(() => parseTraceFile(edited((f) => set(f.steps[4].projections['seal-calibration'], '2', 'x'))), /steps\[4\]\.projections\["seal-calibration"\]\[2\]: must be number/);
});

test('several problems are listed together, capped with a count', () => {
  const text = edited((f) => f.steps.forEach((step) => set(step, 'tts', 'x')));
  assert.throws(() => parseTraceFile(text), (error: Error) => {
    assert.match(error.message, /steps\[0\]\.tts.*steps\[4\]\.tts/);
    assert.match(error.message, /\(and 3 more\)/);
    return true;
  });
});

test('a step whose text does not match its range in the source is refused', () => {
  assert.throws(() => parseTraceFile(edited((f) => (f.steps[1].text = 'So the arrival time is 9 pm.'))), /steps\[1\]\.text: differs from source\.text/);
  assert.throws(() => parseTraceFile(edited((f) => (f.steps[7].end = 10_000))), /steps\[7\]: range \d+–10000 is not inside source\.text/);
  assert.throws(() => parseTraceFile(edited((f) => (f.steps[2].start = f.steps[1].start))), /steps\[2\]: starts at \d+, before the previous step ends/);
});

test('turn ranges, projection widths and comparison alignment are checked', () => {
  assert.throws(() => parseTraceFile(edited((f) => (f.turns[0].end = 99_999))), /turns\[0\]: range/);
  assert.throws(() => parseTraceFile(edited((f) => f.steps[0].projections['assistant-axis'].pop())), /steps\[0\]\.projections\["assistant-axis"\]: has 5 values but direction "assistant-axis" lists 6 layers/);
  const hostile = hostileTraceFile();
  hostile.comparison!.alignment = [[0, 3]];
  assert.throws(() => parseTraceFile(serializeTraceFile(hostile)), /comparison\.alignment\[0\]: \[0, 3\]/);
});

test('a v0 file (steps with range, no turns) is migrated', () => {
  const current = sampleTraceFile();
  const { turns: _turns, personaFloor: _floor, comparison: _comparison, ...kept } = current;
  const steps = current.steps.map(({ start, end, ...step }) => ({ ...step, range: { start, end } }));
  const v0 = { ...kept, schema: 'thinkscope.trace/0', steps };
  const migrated = parseTraceFile(JSON.stringify(v0));
  assert.deepStrictEqual(migrated, { ...current, turns: [], personaFloor: null, comparison: null });
});

test('a v0 file is validated as v0, naming its own fields', () => {
  const { turns: _turns, personaFloor: _floor, comparison: _comparison, ...kept } = sampleTraceFile();
  const { start: _start, end: _end, ...step } = kept.steps[0];
  const v0 = { ...kept, schema: 'thinkscope.trace/0', steps: [{ ...step, range: { start: 0, end: 'x' } }] };
  assert.throws(() => parseTraceFile(JSON.stringify(v0)), /steps\[0\]\.range\.end: must be integer/);
});

test('a file from a newer ThinkScope is refused politely', () => {
  const text = edited((f) => set(f, 'schema', 'thinkscope.trace/2'));
  assert.throws(() => parseTraceFile(text), /made by a newer ThinkScope \(schema "thinkscope\.trace\/2"\); update ThinkScope to open it/);
});

test('something that is not a trace file says so', () => {
  assert.throws(() => parseTraceFile('{"schema": "other/1"}'), /not a ThinkScope trace file: "schema" is "other\/1", expected "thinkscope\.trace\/1"/);
  assert.throws(() => parseTraceFile('[1, 2]'), /a trace file is a JSON object/);
  assert.throws(() => parseTraceFile('{"schema": '), /trace file is not valid JSON/);
});

test('an oversized file is refused before parsing', () => {
  const huge = `{"schema": "thinkscope.trace/1", "x": "${'a'.repeat(MAX_TRACE_FILE_CHARS)}"}`;
  assert.throws(() => parseTraceFile(huge), /trace file is too large: 192\.0 MB, at most 192\.0 MB/);
});

test('deep nesting is refused before parsing; brackets inside strings do not count', () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  assert.throws(() => parseTraceFile(deep), /nested 100000 levels deep, at most 32/);
  assert.equal(jsonNestingDepth('{"a": "[[[[{{{{\\"[[["}'), 1);
  const file: TraceFile = sampleTraceFile();
  file.settings.cue = '['.repeat(1000);
  assert.equal(parseTraceFile(serializeTraceFile(file)).settings.cue.length, 1000);
});

test('a hostile file with 10 MB of text loads: strings are data, not markup', () => {
  const hostile = hostileTraceFile(10 * 1024 * 1024);
  const loaded = parseTraceFile(serializeTraceFile(hostile));
  assert.deepStrictEqual(loaded, hostile);
  assert.ok(loaded.source.text.length > 10 * 1024 * 1024);
});
