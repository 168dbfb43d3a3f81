import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../../extension/common/trace/parse';
import { readableTrace, sourceStep } from '../../extension/common/trace/readable';
import { analyzeDocument } from '../../extension/engine/analysis/analyze-document';

const THINKING = 'The train leaves at 3:40 pm.\nThe trip takes "2 h 35 min".\n\nWait, 3:40 + 2:35 is 6:15.\nSo it arrives at 6:15 pm — café time.';
const JSON_TRACE = JSON.stringify(
  {
    messages: [
      { role: 'user', content: 'When does the train arrive?' },
      { role: 'assistant', reasoning_content: THINKING, content: 'It arrives at \\boxed{6:15 pm}.' },
    ],
  },
  null,
  2,
);

test('a JSON trace reads as decoded Markdown: the question, one step per line, paragraph breaks kept, the answer', async () => {
  const trace = parseTrace(JSON_TRACE, { fileName: 'chat.json' });
  const { file } = await analyzeDocument(trace, { name: 'chat.json', toolVersion: 'test', segmentation: 'sentence', model: null, tts: null, seal: {}, persona: null });
  assert.ok(file.steps.some((s) => JSON_TRACE.slice(s.start, s.end).includes('\\"')), 'the JSON steps sit on escaped source text');
  const readable = readableTrace(trace, file).file;
  const { text } = readable.source;
  assert.equal(
    text,
    '**Question:** When does the train arrive?\n\n<think>\nThe train leaves at 3:40 pm.\nThe trip takes "2 h 35 min".\n\nWait, 3:40 + 2:35 is 6:15.\nSo it arrives at 6:15 pm — café time.\n</think>\n\n**Answer:** It arrives at \\boxed{6:15 pm}.\n',
  );
  assert.equal(readable.steps.length, file.steps.length);
  for (const step of readable.steps) assert.equal(text.slice(step.start, step.end), step.text, `step ${step.index} sits on its decoded text`);
  assert.deepEqual(readable.steps.map((s) => s.sealClass), file.steps.map((s) => s.sealClass), 'the annotations are the JSON’s');
  // The readable view is itself a Markdown trace with the same steps.
  const again = await analyzeDocument(parseTrace(text, { fileName: 'chat (readable).md' }), { name: 'r.md', toolVersion: 'test', segmentation: 'sentence', model: null, tts: null, seal: {}, persona: null });
  assert.deepEqual(again.file.steps.map((s) => s.text), readable.steps.map((s) => s.text));
});

test('a place in the readable text maps back to its step in the JSON', async () => {
  const trace = parseTrace(JSON_TRACE, { fileName: 'chat.json' });
  const { file } = await analyzeDocument(trace, { name: 'chat.json', toolVersion: 'test', segmentation: 'sentence', model: null, tts: null, seal: {}, persona: null });
  const readable = readableTrace(trace, file).file;
  const wait = readable.steps.find((s) => s.text.startsWith('Wait'))!;
  assert.equal(sourceStep(readable, wait.start + 3), wait.index);
  assert.equal(sourceStep(readable, 0), undefined, 'the question is before every step');
  const json = file.steps[wait.index];
  assert.ok(JSON_TRACE.slice(json.start, json.end).startsWith('Wait'));
});
