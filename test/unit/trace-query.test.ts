import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseTrace } from '../../extension/common/trace/parse';
import { answerOf, boxedAnswer, questionOf, thinkingOf } from '../../extension/common/trace/query';
import { segmentSteps } from '../../extension/common/trace/segment';
import { classifyStep } from '../../extension/common/analysis/seal';
import { perturbAll } from '../../extension/common/analysis/perturb';

test('boxedAnswer takes the last closed \\boxed{…}, nested braces included', () => {
  assert.equal(boxedAnswer('first \\boxed{1}, then \\boxed{\\frac{1}{2}}.'), '\\frac{1}{2}');
  assert.equal(boxedAnswer('\\boxed{\\{1, 2\\}}'), '\\{1, 2\\}');
  assert.equal(boxedAnswer('\\boxed{7} and an unclosed \\boxed{8'), '7');
  assert.equal(boxedAnswer('no box here'), null);
  assert.equal(boxedAnswer('\\boxed{}'), '');
});

test('the question is the last user message before the last assistant turn', () => {
  const trace = parseTrace(JSON.stringify({
    messages: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'one' },
      { role: 'user', content: 'second' },
      { role: 'assistant', reasoning_content: 'think', content: 'two' },
      { role: 'user', content: 'unanswered' },
    ],
  }));
  assert.equal(questionOf(trace), 'second');
  assert.equal(answerOf(trace), 'two');
  assert.equal(trace.text.slice(thinkingOf(trace)!.start, thinkingOf(trace)!.end), 'think');
});

test('a conversation without an assistant has no thinking or answer', () => {
  const trace = parseTrace('{"messages": [{"role": "user", "content": "q"}]}');
  assert.equal(thinkingOf(trace), null);
  assert.equal(answerOf(trace), null);
  assert.equal(questionOf(trace), 'q');
});

test('the long sample trace parses into a question, ~24 mixed steps and a boxed answer', () => {
  const text = readFileSync(new URL('../fixtures/sample-trace.md', import.meta.url), 'utf8');
  const trace = parseTrace(text, { fileName: 'sample-trace.md' });
  assert.match(questionOf(trace)!, /^A bag holds red and blue marbles/);
  assert.equal(boxedAnswer(answerOf(trace)!), '64');
  const steps = segmentSteps(text, thinkingOf(trace)!, 'paragraph');
  assert.ok(steps.length >= 20 && steps.length <= 30, `${steps.length} steps`);
  const classes = new Set(steps.map((step) => classifyStep(step.text).cls));
  assert.deepEqual([...classes].sort(), ['execution', 'reflection', 'transition']);
  const perturbable = perturbAll(steps).filter((step) => step.perturbed).length;
  assert.ok(perturbable > steps.length / 2);
});
