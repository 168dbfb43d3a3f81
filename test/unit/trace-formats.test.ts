// Every trace format users have, parsed into one model: the question, the thinking and the answer as
// the model reads them, each range mapped back to the characters of the source file.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace, textOf } from '../../extension/common/trace/parse';
import { answerOf, promptMessagesOf, questionOf, thinkingOf } from '../../extension/common/trace/query';
import { stepsOf } from '../../extension/common/trace/segment';
import type { ParsedTrace, TextRange } from '../../extension/common/trace/types';

const THINKING = 'Okay, 3 + 4 = 7.\n\nWait, check: 7 - 4 = 3, yes!';

/** The raw source characters of a range inside a JSON string decode to `expected`. */
function assertJsonRange(source: string, range: TextRange, expected: string): void {
  assert.equal(JSON.parse(`"${source.slice(range.start, range.end)}"`), expected);
}

function assertTrace(trace: ParsedTrace, conversation: number, expected: { question: string | null; thinking: string; answer: string }): void {
  assert.equal(questionOf(trace, conversation), expected.question);
  const thinking = thinkingOf(trace, conversation);
  assert.ok(thinking, 'the thinking is found');
  assert.equal(textOf(trace, thinking).text, expected.thinking);
  assert.equal(answerOf(trace, conversation), expected.answer);
  const steps = stepsOf(trace, thinking, 'sentence');
  assert.deepEqual(steps.map((s) => s.text), ['Okay, 3 + 4 = 7.', 'Wait, check: 7 - 4 = 3, yes!']);
  for (const step of steps) {
    if (trace.format === 'chat-json' || trace.format === 'jsonl') assertJsonRange(trace.text, step.range, step.text);
    else assert.equal(trace.text.slice(step.range.start, step.range.end), step.text);
  }
}

describe('trace formats', () => {
  it('DeepSeek / OpenAI API response: choices[].message with reasoning_content, one conversation per choice', () => {
    const source = JSON.stringify({
      id: 'chatcmpl-1', object: 'chat.completion', model: 'deepseek-reasoner',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'It is \\boxed{7}.', reasoning_content: THINKING }, finish_reason: 'stop' },
        { index: 1, message: { role: 'assistant', content: 'Seven: \\boxed{7}.', reasoning_content: THINKING } },
      ],
      usage: { prompt_tokens: 10 },
    }, null, 2);
    const trace = parseTrace(source, { fileName: 'response.json' });
    assert.equal(trace.conversations.length, 2);
    assertTrace(trace, 0, { question: null, thinking: THINKING, answer: 'It is \\boxed{7}.' });
    assertTrace(trace, 1, { question: null, thinking: THINKING, answer: 'Seven: \\boxed{7}.' });
  });

  it('OpenAI messages with the thinking inline in <think> tags, and the system prompt kept', () => {
    const source = JSON.stringify({ messages: [{ role: 'system', content: 'Be exact.' }, { role: 'user', content: 'What is 3 + 4?' }, { role: 'assistant', content: `<think>\n${THINKING}\n</think>\n\nIt is 7.` }] });
    const trace = parseTrace(source);
    assertTrace(trace, 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: 'It is 7.' });
    assert.deepEqual(promptMessagesOf(trace), [{ role: 'system', content: 'Be exact.' }, { role: 'user', content: 'What is 3 + 4?' }]);
  });

  it('ShareGPT: conversations with from / value, as JSON and as JSONL', () => {
    const row = { conversations: [{ from: 'system', value: 'Be exact.' }, { from: 'human', value: 'What is 3 + 4?' }, { from: 'gpt', value: `<think>${THINKING}</think>It is 7.` }] };
    assertTrace(parseTrace(JSON.stringify(row)), 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: 'It is 7.' });
    const jsonl = parseTrace(`${JSON.stringify(row)}\n${JSON.stringify(row)}\n`, { fileName: 'data.jsonl' });
    assert.equal(jsonl.conversations.length, 2);
    assertTrace(jsonl, 1, { question: 'What is 3 + 4?', thinking: THINKING, answer: 'It is 7.' });
    assert.throws(() => parseTrace(JSON.stringify({ conversations: [{ from: 'robot', value: 'x' }] })), /"from": "human", "gpt" or "system"; found "robot"/);
  });

  it('JSONL dataset rows: question / reasoning / answer fields detected, or named by the caller', () => {
    const detected = parseTrace(`${JSON.stringify({ problem: 'What is 3 + 4?', reasoning: THINKING, solution: '7' })}\n${JSON.stringify({ question: 'What is 3 + 4?', deepseek_reasoning: THINKING, answer: '7' })}\n`, { fileName: 'rows.jsonl' });
    assert.equal(detected.conversations.length, 2);
    assertTrace(detected, 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: '7' });
    assertTrace(detected, 1, { question: 'What is 3 + 4?', thinking: THINKING, answer: '7' });
    const named = parseTrace(`${JSON.stringify({ q: 'What is 3 + 4?', trace: THINKING, final: '7', answer: 'not this' })}\n`, { fileName: 'rows.jsonl', fields: { question: 'q', reasoning: 'trace', answer: 'final' } });
    assertTrace(named, 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: '7' });
    assert.throws(() => parseTrace(JSON.stringify({ q: 'x' }), { fields: { question: 'question' } }), /no "question" field/);
    const inline = parseTrace(JSON.stringify({ prompt: 'What is 3 + 4?', completion: `<think>${THINKING}</think> 7` }));
    assertTrace(inline, 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: '7' });
  });

  it("ChatGPT export: the current branch of the mapping tree, in order, thoughts as the reply's thinking", () => {
    const message = (role: string, content: unknown) => ({ author: { role }, content });
    const conversations = [{
      title: 'Sum',
      current_node: 'd',
      mapping: {
        root: { id: 'root', message: null, parent: null, children: ['s'] },
        s: { id: 's', message: message('system', { content_type: 'text', parts: [''] }), parent: 'root', children: ['a'] },
        a: { id: 'a', message: message('user', { content_type: 'text', parts: ['What is 3 + 4?'] }), parent: 's', children: ['old', 't'] },
        old: { id: 'old', message: message('assistant', { content_type: 'text', parts: ['An abandoned branch.'] }), parent: 'a', children: [] },
        t: { id: 't', message: message('assistant', { content_type: 'thoughts', thoughts: [{ summary: 'Adding', content: THINKING }] }), parent: 'a', children: ['d'] },
        d: { id: 'd', message: message('assistant', { content_type: 'text', parts: ['It is 7.'] }), parent: 't', children: [] },
      },
    }];
    const trace = parseTrace(JSON.stringify(conversations, null, 1), { fileName: 'conversations.json' });
    assert.equal(trace.conversations.length, 1);
    assert.deepEqual(trace.conversations[0].turns.map((t) => t.role), ['user', 'assistant']);
    assertTrace(trace, 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: 'It is 7.' });
  });

  it('Open WebUI export: the history branch ending at currentId, the thinking in <details type="reasoning"> or <think>', () => {
    const chat = (content: string) => ({
      id: 'c1',
      title: 'Sum',
      chat: {
        history: {
          currentId: 'm3',
          messages: {
            m1: { id: 'm1', parentId: null, childrenIds: ['m2', 'm3'], role: 'user', content: 'What is 3 + 4?' },
            m2: { id: 'm2', parentId: 'm1', childrenIds: [], role: 'assistant', content: 'A regenerated reply.' },
            m3: { id: 'm3', parentId: 'm1', childrenIds: [], role: 'assistant', content },
          },
        },
      },
    });
    const details = `<details type="reasoning" done="true" duration="2">\n<summary>Thought for 2 seconds</summary>\n${THINKING}\n</details>\nIt is 7.`;
    assertTrace(parseTrace(JSON.stringify([chat(details)]), { fileName: 'chat-export.json' }), 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: 'It is 7.' });
    assertTrace(parseTrace(JSON.stringify([chat(`<think>${THINKING}</think>It is 7.`)])), 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: 'It is 7.' });
  });

  it('Markdown with and without the opening <think> (R1 replies exported after the template opened it)', () => {
    const withTag = `What is 3 + 4?\n\n<think>\n${THINKING}\n</think>\n\nIt is 7.`;
    assertTrace(parseTrace(withTag, { fileName: 'trace.md' }), 0, { question: 'What is 3 + 4?', thinking: THINKING, answer: 'It is 7.' });
    const withoutOpening = `${THINKING}\n</think>\n\nIt is 7.`;
    assertTrace(parseTrace(withoutOpening, { fileName: 'reply.md' }), 0, { question: null, thinking: THINKING, answer: 'It is 7.' });
  });

  it('CRLF files: ranges stay on the source characters and steps split at CRLF blank lines', () => {
    const crlf = `## Question\r\nWhat is 3 + 4?\r\n\r\n## Thinking\r\n${THINKING.replace(/\n/g, '\r\n')}\r\n\r\n## Answer\r\nIt is 7.\r\n`;
    const trace = parseTrace(crlf, { fileName: 'trace.md' });
    assert.equal(questionOf(trace), 'What is 3 + 4?');
    assert.equal(answerOf(trace), 'It is 7.');
    const thinking = thinkingOf(trace)!;
    const steps = stepsOf(trace, thinking, 'sentence');
    assert.deepEqual(steps.map((s) => s.text), ['Okay, 3 + 4 = 7.', 'Wait, check: 7 - 4 = 3, yes!']);
    for (const step of steps) assert.equal(crlf.slice(step.range.start, step.range.end), step.text);
    // The model reads the line breaks it wrote: the same text as the LF file, mapped back to CRLF source offsets.
    const lf = parseTrace(crlf.replace(/\r\n/g, '\n'), { fileName: 'trace.md' });
    const read = textOf(trace, thinking);
    assert.equal(read.text, textOf(lf, thinkingOf(lf)!).text);
    assert.ok(!read.text.includes('\r'));
    const breakAt = read.text.indexOf('\n');
    assert.equal(crlf.slice(read.toSource(breakAt), read.toSource(breakAt + 1)), '\r\n');
    assert.equal(read.toSource(read.text.length), thinking.end);
    const chat = JSON.stringify({ messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', reasoning_content: THINKING, content: 'A' }] });
    const lines = parseTrace(`${chat}\r\n${chat}\r\n`, { fileName: 'data.jsonl' });
    assert.equal(lines.conversations.length, 2);
    assert.equal(textOf(lines, thinkingOf(lines, 1)!).text, THINKING);
  });
});
