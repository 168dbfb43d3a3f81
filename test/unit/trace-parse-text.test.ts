import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFormat, parseTrace, TraceParseError } from '../../extension/common/trace/parse';
import type { ParsedTrace, TextRange } from '../../extension/common/trace/types';

const slice = (trace: ParsedTrace, range: TextRange | undefined) => (range ? trace.text.slice(range.start, range.end) : undefined);

function parts(trace: ParsedTrace) {
  const turns = trace.conversations[0].turns;
  const user = turns.find((t) => t.role === 'user');
  const assistant = turns.find((t) => t.role === 'assistant')!;
  return { question: user && slice(trace, user.content), thinking: slice(trace, assistant.reasoning), answer: slice(trace, assistant.content) };
}

test('a <think> block splits question, thinking and answer, labels left out', () => {
  const trace = parseTrace('Question: What is 2+3?\n\n<think>\nAdd them. 2+3=5.\n</think>\n\nAnswer: \\boxed{5}\n', { fileName: 'x.md' });
  assert.equal(trace.format, 'markdown');
  assert.deepEqual(parts(trace), { question: 'What is 2+3?', thinking: 'Add them. 2+3=5.', answer: '\\boxed{5}' });
  assert.equal(trace.conversations[0].line, 1);
});

test('an "Assistant:" label before <think> is not part of the question', () => {
  const trace = parseTrace('User: hi there\nAssistant: <think>x</think>y', { fileName: 'chat.txt' });
  assert.equal(trace.format, 'text');
  assert.deepEqual(parts(trace), { question: 'hi there', thinking: 'x', answer: 'y' });
});

test('a closing tag alone means the text starts inside the thinking', () => {
  const trace = parseTrace('Start thinking. 1+1=2.\n</think>\nDone.');
  assert.equal(trace.conversations[0].turns.length, 1);
  assert.deepEqual(parts(trace), { question: undefined, thinking: 'Start thinking. 1+1=2.', answer: 'Done.' });
});

test('an unclosed <think> runs to the end and leaves an empty answer at the end', () => {
  const text = 'Q?\n<think>\nhalf a thought';
  const trace = parseTrace(text);
  assert.deepEqual(parts(trace), { question: 'Q?', thinking: 'half a thought', answer: '' });
  assert.deepEqual(trace.conversations[0].turns[1].content, { start: text.length, end: text.length });
});

test('<thinking> tags count as <think>', () => {
  assert.deepEqual(parts(parseTrace('Q\n<thinking>t</thinking>\nA')), { question: 'Q', thinking: 't', answer: 'A' });
});

test('labelled sections: question, reasoning and answer', () => {
  const trace = parseTrace('Question: Q?\n\nReasoning: think a.\nthink b.\n\nAnswer: 42');
  assert.deepEqual(parts(trace), { question: 'Q?', thinking: 'think a.\nthink b.', answer: '42' });
});

test('labelled question and answer: the answer section\'s last paragraph is the answer, the rest is thinking', () => {
  const trace = parseTrace('**Question:** Q?\n\n**Answer:** step one.\n\nstep two.\n\nSo 42.');
  assert.deepEqual(parts(trace), { question: 'Q?', thinking: 'step one.\n\nstep two.', answer: 'So 42.' });
});

test('markdown heading labels', () => {
  const trace = parseTrace('## Problem\nFind x.\n\n## Thinking\nx is 1.\n\n## Final answer\n1', { fileName: 'a.markdown' });
  assert.deepEqual(parts(trace), { question: 'Find x.', thinking: 'x is 1.', answer: '1' });
});

test('unlabelled paragraphs: first is the question, last the answer, the middle the thinking', () => {
  assert.deepEqual(parts(parseTrace('Q?\n\nT1.\n\nT2.\n\nA.')), { question: 'Q?', thinking: 'T1.\n\nT2.', answer: 'A.' });
});

test('fewer than three paragraphs are all thinking', () => {
  const text = 'Just thinking here.\n\nMore thinking.';
  const trace = parseTrace(text);
  assert.equal(trace.conversations[0].turns.length, 1);
  assert.deepEqual(parts(trace), { question: undefined, thinking: text, answer: '' });
});

test('an empty trace is refused at line 1', () => {
  for (const text of ['', '\n\n   \t']) {
    assert.throws(() => parseTrace(text), (e: unknown) => e instanceof TraceParseError && e.line === 1 && /empty/.test(e.message));
  }
});

test('a NUL character is refused with its line and column', () => {
  assert.throws(() => parseTrace('abc\nd\0ef'), (e: unknown) => e instanceof TraceParseError && e.line === 2 && e.column === 2 && /binary/.test(e.message));
});

test('bidi controls and </script> are kept as text, and ranges still slice exactly', () => {
  const text = 'Is \u202Eevil\u202C safe?\n<think>A </script><script>alert(1)</script> step.</think>\u2067done';
  const trace = parseTrace(text);
  assert.deepEqual(parts(trace), { question: 'Is \u202Eevil\u202C safe?', thinking: 'A </script><script>alert(1)</script> step.', answer: '\u2067done' });
});

test('a byte-order mark keeps offsets into the original text', () => {
  const text = '\uFEFFQ?\n<think>a</think>b';
  const trace = parseTrace(text);
  assert.equal(trace.text, text);
  assert.deepEqual(trace.conversations[0].turns[0].content, { start: 1, end: 3 });
});

test('format detection from the file name, else from the content', () => {
  assert.equal(detectFormat('{"messages": []}', 'notes.md'), 'markdown');
  assert.equal(detectFormat('anything', 'trace.jsonl'), 'jsonl');
  assert.equal(detectFormat('{"messages": []}'), 'chat-json');
  assert.equal(detectFormat('  [\n {"role": "user"}]'), 'chat-json');
  assert.equal(detectFormat('{"messages": []}\n{"messages": []}\n'), 'jsonl');
  assert.equal(detectFormat('[1] First point\n{ braces }'), 'text');
  assert.equal(detectFormat('Q?\n<think>x</think>'), 'text');
});
