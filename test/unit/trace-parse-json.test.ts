import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFormat, MAX_TRACE_CHARS, parseTrace, textOf, TraceParseError } from '../../extension/common/trace/parse';
import { answerOf, questionOf, thinkingOf } from '../../extension/common/trace/query';
import type { ParsedTrace, TextRange } from '../../extension/common/trace/types';

const decoded = (trace: ParsedTrace, range: TextRange | undefined) => (range ? textOf(trace, range).text : undefined);

function fails(text: string, line: number, column: number | null, pattern: RegExp, fileName?: string) {
  assert.throws(
    () => parseTrace(text, { fileName }),
    (e: unknown) => {
      assert.ok(e instanceof TraceParseError, `expected a TraceParseError, got ${e}`);
      assert.equal(e.line, line, e.message);
      if (column !== null) assert.equal(e.column, column, e.message);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('a chat object with system, user and a DeepSeek reasoning_content', () => {
  const text = JSON.stringify({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is 6 × 7?' },
      { role: 'assistant', reasoning_content: '6 × 7 = 42. Done.', content: '\n\nThe answer is 42.' },
    ],
  }, null, 2);
  const trace = parseTrace(text);
  assert.equal(trace.format, 'chat-json');
  const [system, user, assistant] = trace.conversations[0].turns;
  assert.deepEqual([system.role, user.role, assistant.role], ['system', 'user', 'assistant']);
  assert.equal(decoded(trace, assistant.reasoning), '6 × 7 = 42. Done.');
  assert.equal(text.slice(assistant.reasoning!.start, assistant.reasoning!.end), '6 × 7 = 42. Done.');
  assert.equal(decoded(trace, assistant.content), 'The answer is 42.');
  assert.equal(questionOf(trace), 'What is 6 × 7?');
  assert.equal(answerOf(trace), 'The answer is 42.');
});

test('ranges cover the raw escaped characters and decode to the string\'s value', () => {
  const text = '{"messages": [{"role": "user", "content": "Line\\nnext \\u00e9 \\"q\\" \\\\ /"}]}';
  const trace = parseTrace(text);
  const content = trace.conversations[0].turns[0].content;
  assert.equal(text.slice(content.start, content.end), 'Line\\nnext \\u00e9 \\"q\\" \\\\ /');
  assert.equal(decoded(trace, content), 'Line\nnext é "q" \\ /');
});

test('<think> inside an assistant\'s content is its reasoning, found on the decoded text', () => {
  const text = JSON.stringify({ messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: '<think>\nStep "1" is 2.\n</think>\n\nThe answer is 4.' }] });
  const trace = parseTrace(text);
  const assistant = trace.conversations[0].turns[1];
  assert.equal(decoded(trace, assistant.reasoning), 'Step "1" is 2.');
  assert.equal(text.slice(assistant.reasoning!.start, assistant.reasoning!.end), 'Step \\"1\\" is 2.');
  assert.equal(decoded(trace, assistant.content), 'The answer is 4.');
});

test('an escaped "<" still opens the thinking', () => {
  const text = '{"messages": [{"role": "assistant", "content": "\\u003cthink>a\\u003c/think>b"}]}';
  const trace = parseTrace(text);
  assert.equal(decoded(trace, thinkingOf(trace)!), 'a');
  assert.equal(answerOf(trace), 'b');
});

test('"reasoning" is read as well, and reasoning_content wins when both exist', () => {
  const one = parseTrace('{"messages": [{"role": "assistant", "reasoning": "r1", "content": "c"}]}');
  assert.equal(decoded(one, thinkingOf(one)!), 'r1');
  const both = parseTrace('{"messages": [{"role": "assistant", "reasoning": "r1", "reasoning_content": "r2", "content": "c"}]}');
  assert.equal(decoded(both, thinkingOf(both)!), 'r2');
});

test('content as an array of parts: text parts kept in order, other media skipped', () => {
  const text = JSON.stringify({
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image_url', image_url: { url: 'x' } }, { type: 'text', text: 'what is it?' }] }],
  });
  const trace = parseTrace(text);
  const user = trace.conversations[0].turns[0];
  assert.deepEqual(user.contentParts?.map((range) => decoded(trace, range)), ['Look:', 'what is it?']);
  assert.equal(decoded(trace, user.content), 'Look:');
  assert.equal(questionOf(trace), 'Look:\nwhat is it?');
});

test('null content, a developer message and tool results', () => {
  const text = JSON.stringify({
    messages: [
      { role: 'developer', content: 'rules' },
      { role: 'assistant', content: null, tool_calls: [] },
      { role: 'tool', content: '{"x": 1}' },
      { role: 'assistant', content: 'final' },
    ],
  });
  const turns = parseTrace(text).conversations[0].turns;
  assert.deepEqual(turns.map((t) => t.role), ['system', 'assistant', 'assistant']);
  assert.equal(turns[1].content.start, turns[1].content.end);
});

test('a bare array of messages and an array of conversations', () => {
  const bare = parseTrace('[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]');
  assert.equal(bare.conversations.length, 1);
  assert.equal(answerOf(bare), 'b');
  const many = parseTrace('[\n{"messages": [{"role": "user", "content": "a"}]},\n{"messages": [{"role": "user", "content": "b"}]}\n]');
  assert.deepEqual(many.conversations.map((c) => c.line), [2, 3]);
  assert.equal(questionOf(many, 1), 'b');
});

test('JSONL: one conversation per line, blank lines skipped, lines recorded', () => {
  const text = '{"messages": [{"role": "user", "content": "a"}]}\r\n\n[{"role": "assistant", "content": "<think>t</think>x"}]\n';
  const trace = parseTrace(text, { fileName: 'batch.jsonl' });
  assert.equal(trace.format, 'jsonl');
  assert.deepEqual(trace.conversations.map((c) => c.line), [1, 3]);
  assert.equal(decoded(trace, thinkingOf(trace, 1)!), 't');
  assert.throws(() => thinkingOf(trace, 2), /conversation 2 does not exist/);
});

test('JSONL is recognised without a file name', () => {
  assert.equal(parseTrace('{"messages": [{"role": "user", "content": "a"}]}\n{"messages": [{"role": "user", "content": "b"}]}').format, 'jsonl');
  const line = '{"messages": [{"role": "user", "content": "a"}]}';
  assert.equal(detectFormat(`\n  \r\n${line}\r\n\n${line}\n`), 'jsonl', 'blank lines around the lines do not matter');
  assert.equal(detectFormat(`${line}\n\n`), 'chat-json', 'one line is a single JSON document');
  assert.equal(detectFormat(JSON.stringify({ messages: [{ role: 'user', content: 'a' }] }, null, 2)), 'chat-json', 'pretty-printed JSON is not JSONL');
});

test('JSONL errors carry the line of the file', () => {
  fails('{"messages": [{"role": "user", "content": "a"}]}\n\n{"messages": [}\n', 3, 15, /expected a JSON value/, 'x.jsonl');
  fails('{"messages": [{"role": "user",\n"content": "a"}]}\n', 1, 31, /end of the line/, 'x.jsonl');
  fails('\n\n', 1, 1, /no conversation/, 'x.jsonl');
});

test('wrong shapes and types are named with their position', () => {
  fails('{"messages": [\n  {"role": "user", "content": 5}]}', 2, 31, /"content" must be a string/);
  fails('{"messages": [\n  {"content": "x"}]}', 2, 3, /no "role"/);
  const numericRole = '{"messages": [{"role": 3, "content": "x"}]}';
  fails(numericRole, 1, numericRole.indexOf('3') + 1, /unknown role of type number/);
  const unknownRole = '{"messages": [{"role": "narrator", "content": "x"}]}';
  fails(unknownRole, 1, unknownRole.indexOf('"narrator"') + 1, /unknown role "narrator"/);
  fails('{"messages": "hello"}', 1, 14, /must be an array/);
  fails('{"messages": []}', 1, 14, /no messages/);
  fails('{"chat": []}', 1, 1, /not a chat conversation/);
  fails('{"messages": ["hi"]}', 1, 15, /must be an object/);
  fails('{"messages": [{"role": "user", "content": [{"type": "text"}]}]}', 1, 44, /needs a "text" string/);
  fails('{"messages": [{"role": "assistant", "reasoning_content": 1, "content": ""}]}', 1, 58, /"reasoning_content" must be a string/);
});

test('malformed JSON: truncation, trailing comma, strings, numbers', () => {
  fails('{"messages": [\n{"role": "user"', 2, 16, /expected ',' or '}'/);
  fails('{"messages": [{"role": "user", "content": "a"},]}', 1, 48, /expected a JSON value/);
  const unclosed = '{"messages": [{"role": "user", "content": "abc';
  fails(unclosed, 1, unclosed.indexOf('"abc') + 1, /string never closed/);
  fails('{"messages": [{"role": "user", "content": "a\nb"}]}', 1, 45, /control character U\+000A inside a string/);
  const badEscape = '{"messages": [{"role": "user", "content": "\\x41"}]}';
  fails(badEscape, 1, badEscape.indexOf('\\') + 1, /bad escape "\\x"/);
  const badUnicode = '{"messages": [{"role": "user", "content": "\\u12G4"}]}';
  fails(badUnicode, 1, badUnicode.indexOf('\\') + 1, /bad unicode escape/);
  const leadingZero = '{"messages": [{"role": "user", "content": "a", "n": 01}]}';
  fails(leadingZero, 1, leadingZero.indexOf('01') + 2, /unexpected character '1' in an object: expected ',' or '}'/);
  fails('{"messages": [{"role": "user", "content": "a"}]} extra', 1, 50, /after the JSON value/);
  fails("{'messages': []}", 1, 2, /expected a "quoted" key/, 'trace.json');
});

test('deep nesting is refused with a clear error, not a stack overflow', () => {
  fails('['.repeat(100_000), 1, 65, /nested deeper than 64 levels/);
  fails('{"messages": [{"role": "user", "content": "x", "extra": ' + '{"a":'.repeat(80) + '1' + '}'.repeat(80) + '}]}', 1, null, /nested deeper/);
});

test('a large JSONL batch parses in one linear pass', () => {
  const line = '{"messages": [{"role": "user", "content": "What is 2 + 2?"}, {"role": "assistant", "content": "<think>2 + 2 = 4.</think>4"}]}';
  const trace = parseTrace(`${line}\n`.repeat(20_000), { fileName: 'big.jsonl' });
  assert.equal(trace.conversations.length, 20_000);
  assert.equal(trace.conversations[19_999].line, 20_000);
  assert.equal(answerOf(trace, 19_999), '4');
});

test('a trace above the size limit is refused before parsing', () => {
  assert.throws(() => parseTrace('x'.repeat(MAX_TRACE_CHARS + 1)), /at most/);
});

test('HTML in a JSON string is just text', () => {
  const trace = parseTrace('{"messages": [{"role": "assistant", "content": "<\\/script><script>alert(1)<\\/script>"}]}');
  assert.equal(answerOf(trace), '</script><script>alert(1)</script>');
});
