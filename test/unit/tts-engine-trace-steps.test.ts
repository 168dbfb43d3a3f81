// From a parsed trace to steps and their tokens: decoded and source offsets, stored steps read back,
// piecewise tokenization at step boundaries, the thinking prompt, and natural-token spans.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../../extension/common/trace/parse';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { tokenizerConfig } from '../../extension/engine/make-model/chat-template';
import { trainedTokenizer } from '../../extension/engine/make-model/bpe-tokenizer';
import { segmentThinking, stepPieces, thinkingPrompt, thinkingWithSteps, tokenizePieces, tokenSpans } from '../../extension/engine/analysis/trace-steps';
import { stepPositions, ttsLayout, variantPrefix } from '../../extension/engine/analysis/tts/layout';

function tokenizer(reasoning: boolean): TextTokenizer {
  const trained = trainedTokenizer();
  return new TextTokenizer(trained.tokenizerJson, tokenizerConfig(trained, reasoning, 2048), 'generated');
}

// The thinking holds JSON escapes (\n, \u00e9) so decoded and source offsets differ.
const SOURCE = JSON.stringify({
  messages: [
    { role: 'user', content: 'What is 3 + 4?' },
    { role: 'assistant', reasoning_content: 'Caf\u00e9 first: 3 + 4 = 7.\n\nWait, check 7 - 4 = 3.\n\nSo it is 7.', content: 'The answer is \\boxed{7}.' },
  ],
}).replace('é', '\\u00e9');

describe('trace steps', () => {
  const trace = parseTrace(SOURCE);

  it('segments the thinking with decoded offsets and source ranges', () => {
    const thinking = segmentThinking(trace, 'paragraph');
    assert.equal(thinking.question, 'What is 3 + 4?');
    assert.equal(thinking.reply, 'The answer is \\boxed{7}.');
    assert.deepEqual(thinking.steps.map((s) => s.text), ['Café first: 3 + 4 = 7.', 'Wait, check 7 - 4 = 3.', 'So it is 7.']);
    for (const step of thinking.steps) {
      assert.equal(thinking.thinking.text.slice(step.at.start, step.at.end), step.text);
      assert.equal(JSON.parse(`"${SOURCE.slice(step.range.start, step.range.end)}"`), step.text);
    }
    assert.ok(thinking.steps[1].range.start - thinking.steps[1].at.start > thinking.steps[0].range.start - thinking.steps[0].at.start, 'escapes shift the source offsets');
  });

  it('reads stored steps back from their source ranges, and refuses ranges that no longer fit', () => {
    const segmented = segmentThinking(trace, 'sentence');
    const stored = thinkingWithSteps(trace, segmented.steps.map((s) => s.range));
    assert.deepEqual(stored.steps, segmented.steps);
    const edited = SOURCE.replace('Wait, check', 'Well, check');
    assert.deepEqual(thinkingWithSteps(parseTrace(edited), segmented.steps.map((s) => s.range)).steps[1].text, 'Well, check 7 - 4 = 3.');
    assert.throws(() => thinkingWithSteps(trace, [{ start: 3, end: 10 }]), /not inside the thinking/);
    const inside = segmented.steps[0].range;
    assert.throws(() => thinkingWithSteps(trace, [{ start: inside.start + 4, end: inside.start + 5 }]), /does not match the thinking text/);
  });

  it('cuts pieces at step ends, so pieces concatenate to the thinking and a replaced step changes only its piece', () => {
    const thinking = segmentThinking(trace, 'paragraph');
    const pieces = stepPieces(thinking.thinking.text, thinking.steps);
    assert.equal(pieces.join(''), thinking.thinking.text);
    assert.deepEqual(pieces.slice(1), ['\n\nWait, check 7 - 4 = 3.', '\n\nSo it is 7.']);
    const replaced = stepPieces(thinking.thinking.text, thinking.steps, (i) => (i === 1 ? 'Wait, check 9 - 4 = 5.' : undefined));
    assert.deepEqual(replaced, [pieces[0], '\n\nWait, check 9 - 4 = 5.', pieces[2]]);
  });

  it('tokenizes piece by piece, every step ending on a token boundary', () => {
    const t = tokenizer(true);
    const thinking = segmentThinking(trace, 'paragraph');
    const pieces = stepPieces(thinking.thinking.text, thinking.steps);
    const { ids, ends } = tokenizePieces(t, pieces);
    assert.equal(ends.length, 3);
    assert.equal(ends[2], ids.length);
    pieces.forEach((piece, i) => assert.deepEqual(ids.slice(i ? ends[i - 1] : 0, ends[i]), t.encode(piece)));
    assert.equal(t.decode(ids), thinking.thinking.text);
  });

  it('builds the thinking prompt from the chat template, opening the thinking when the template does not', () => {
    assert.equal(thinkingPrompt(tokenizer(true), 'Q?'), '<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n');
    assert.equal(thinkingPrompt(tokenizer(false), 'Q?'), '<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n');
    const plain = { hasChatTemplate: false, applyChatTemplate: () => '', thinkStartId: null };
    assert.equal(thinkingPrompt(plain, 'Q?'), 'Q?\n');
  });

  it('maps character ranges onto natural tokens', () => {
    const t = tokenizer(true);
    const text = 'We keep 5 apples.\n\nThen 3 go bad.';
    const { offsets } = t.encodeWithOffsets(text);
    const spans = tokenSpans(offsets, [{ start: 0, end: 17 }, { start: 19, end: 33 }]);
    assert.equal(t.decode(t.encode(text).slice(spans[0].start, spans[0].end)).trim(), 'We keep 5 apples.');
    assert.equal(t.decode(t.encode(text).slice(spans[1].start, spans[1].end)).trim(), 'Then 3 go bad.');
    assert.ok(spans[0].end <= spans[1].start);
  });

  it('places each step at the same tokens in every prompt of the step', () => {
    const t = tokenizer(true);
    const thinking = segmentThinking(trace, 'sentence');
    const layout = ttsLayout(t, { question: thinking.question, thinking: thinking.thinking.text, steps: thinking.steps, answer: '7', cue: '\n The final answer is \\boxed{', seed: 5 });
    for (let step = 0; step < layout.intact.length; step++) {
      for (const stepIntact of [true, false]) {
        for (const contextIntact of [true, false]) {
          const variant = { step, stepIntact, contextIntact };
          const { start, end } = stepPositions(layout, variant);
          const prefix = variantPrefix(layout, variant);
          assert.equal(end, prefix.length);
          assert.deepEqual(prefix.slice(start, end), (stepIntact ? layout.intact : layout.perturbed)[step]);
          assert.deepEqual(prefix.slice(0, layout.prompt.length), layout.prompt);
        }
      }
    }
    assert.equal(t.decode(variantPrefix(layout, { step: 0, stepIntact: true, contextIntact: true })).endsWith('3 + 4 = 7.'), true);
    assert.notEqual(t.decode(layout.perturbed[0]), t.decode(layout.intact[0]));
  });
});
