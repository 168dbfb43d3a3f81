import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../../extension/common/trace/parse';
import { thinkingOf } from '../../extension/common/trace/query';
import { jsonStringText } from '../../extension/common/trace/mapped-text';
import { segmentSteps, stepsOf } from '../../extension/common/trace/segment';
import { classifyStep, DEFAULT_SEAL_KEYWORDS } from '../../extension/common/analysis/seal';
import type { SegmentationPolicy, Step } from '../../extension/common/trace/types';

const whole = (text: string) => ({ start: 0, end: text.length });
const texts = (steps: Step[]) => steps.map((step) => step.text);

function assertExact(source: string, steps: Step[]) {
  steps.forEach((step, i) => {
    assert.equal(step.index, i);
    assert.equal(source.slice(step.range.start, step.range.end), step.text);
  });
}

test('sentence: split after each dot, keeping decimals whole', () => {
  const source = 'First, 3.14 is pi. Then 2 plus 0.5 is 2.5. Next step';
  const steps = segmentSteps(source, whole(source), 'sentence');
  assert.deepEqual(texts(steps), ['First, 3.14 is pi.', 'Then 2 plus 0.5 is 2.5.', 'Next step']);
  assertExact(source, steps);
});

test('sentence: list numbers at a line start and ellipses do not end a step', () => {
  const source = '1. Compute 2+2.\n  12. Add 1.\nHmm... so 5. End';
  assert.deepEqual(texts(segmentSteps(source, whole(source), 'sentence')), ['1. Compute 2+2.', '12. Add 1.', 'Hmm... so 5.', 'End']);
});

test('sentence: whitespace-only pieces are dropped and ranges are offset into the source', () => {
  const source = 'Question?<think>\n A.  \n\n B.   </think>';
  const range = { start: source.indexOf('>') + 1, end: source.indexOf('</think>') };
  const steps = segmentSteps(source, range, 'sentence');
  assert.deepEqual(texts(steps), ['A.', 'B.']);
  assertExact(source, steps);
  assert.equal(steps[0].range.start, source.indexOf('A.'));
});

test('paragraph: blank lines split, lines inside a paragraph stay together', () => {
  const source = 'P1 line\nstill P1\n\nP2\n  \nP3\r\n\r\n\n\nP4';
  const steps = segmentSteps(source, whole(source), 'paragraph');
  assert.deepEqual(texts(steps), ['P1 line\nstill P1', 'P2', 'P3', 'P4']);
  assertExact(source, steps);
});

test('paragraph: SEAL\'s rule drops the text before the first blank line', () => {
  const source = 'lead\n\nP2\n\nP3';
  const steps = segmentSteps(source, whole(source), 'paragraph', { leadingParagraph: 'drop' });
  assert.deepEqual(texts(steps), ['P2', 'P3']);
  assert.deepEqual(steps.map((s) => s.index), [0, 1]);
  assert.deepEqual(segmentSteps('one paragraph', whole('one paragraph'), 'paragraph', { leadingParagraph: 'drop' }), []);
});

test('markers: a step starts at a sentence beginning with a marker, as a whole word', () => {
  const source = 'Let me add 2 and 3. So we get 5. Sometimes it is odd, but fine. Wait, check: 2+3=5.\nAlternatively multiply. Nowhere else. Now done.';
  const steps = segmentSteps(source, whole(source), 'markers');
  assert.deepEqual(texts(steps), [
    'Let me add 2 and 3.',
    'So we get 5. Sometimes it is odd, but fine.',
    'Wait, check: 2+3=5.',
    'Alternatively multiply. Nowhere else.',
    'Now done.',
  ]);
  assertExact(source, steps);
});

test('markers: a custom list, matched as written', () => {
  const source = 'Try x. then y. Then z. Check: done.';
  assert.deepEqual(texts(segmentSteps(source, whole(source), 'markers', { markers: ['Then', 'Check'] })), ['Try x. then y.', 'Then z.', 'Check: done.']);
  assert.throws(() => segmentSteps(source, whole(source), 'markers', { markers: [' '] }), /is empty/);
});

test('an unknown policy is refused by name', () => {
  assert.throws(() => segmentSteps('a', whole('a'), 'words' as SegmentationPolicy), /unknown segmentation policy "words"/);
});

for (const policy of ['sentence', 'paragraph', 'markers'] as const) {
  test(`${policy}: steps inside a JSON string are found on the decoded text and map back to the escaped source`, () => {
    const thinking = 'So "x" is 2.5.\n\nWait, let me verify: x\\2 = 1.25.\n\nNow é, then done.';
    const source = JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', reasoning_content: thinking, content: 'ok' }] }, null, 1);
    const trace = parseTrace(source);
    const steps = stepsOf(trace, thinkingOf(trace)!, policy);
    assert.ok(steps.length >= 3);
    assert.equal(texts(steps).join(' '), thinking.replace(/\s+/g, ' '));
    assert.deepEqual(texts(steps), thinking.split('\n\n'), 'each policy splits this thinking at the same three places');
    for (const step of steps) {
      const raw = source.slice(step.range.start, step.range.end);
      assert.equal(jsonStringText(source, step.range).text, step.text, `raw ${raw}`);
    }
    const quoted = steps[0];
    assert.ok(source.slice(quoted.range.start, quoted.range.end).startsWith('So \\"x\\"'));
  });
}

test('sentence: ? and ! end a sentence, a blank line always starts a step, i.e. / e.g. / decimals do not split (real R1 text)', () => {
  const source = [
    'Okay, so the question is 2.5 * 4, i.e. ten quarters? Let me see, e.g. 2 * 4 = 8 and 0.5 * 4 = 2',
    'So 8 + 2 = 10. That is the answer!',
    'Wait, is that right?! Let me verify: 10 / 4 = 2.5, yes',
  ].join('\n\n');
  const steps = segmentSteps(source, whole(source), 'sentence');
  assert.deepEqual(texts(steps), [
    'Okay, so the question is 2.5 * 4, i.e. ten quarters?',
    'Let me see, e.g. 2 * 4 = 8 and 0.5 * 4 = 2',
    'So 8 + 2 = 10.',
    'That is the answer!',
    'Wait, is that right?!',
    'Let me verify: 10 / 4 = 2.5, yes',
  ]);
  assertExact(source, steps);
});

test('sentence: "…answer!" then a blank line and "Wait, …" are two steps, the second a reflection', () => {
  const source = 'So the answer is 12!\n\nWait, I should double-check the units';
  const steps = segmentSteps(source, whole(source), 'sentence');
  assert.deepEqual(texts(steps), ['So the answer is 12!', 'Wait, I should double-check the units']);
  assert.deepEqual(steps.map((step) => classifyStep(step.text, DEFAULT_SEAL_KEYWORDS).cls), ['execution', 'reflection']);
});
