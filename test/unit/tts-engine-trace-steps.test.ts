// From a parsed trace to steps and their tokens: decoded and source offsets, stored steps read back,
// the thinking prompt, natural-token spans, and every TTS question tokenized as one string.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../../extension/common/trace/parse';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { tokenizerConfig } from '../../extension/engine/make-model/chat-template';
import { trainedTokenizer } from '../../extension/engine/make-model/bpe-tokenizer';
import { segmentThinking, thinkingPrompt, thinkingWithSteps, tokenSpans } from '../../extension/engine/analysis/trace-steps';
import { stepPositions, ttsLayout, variantPrefix, variantText, type Question, type TtsLayout } from '../../extension/engine/analysis/tts/layout';
import { realTokenizer } from '../support/real-tokenizers';

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

  it('builds the thinking prompt from the chat template, opening the thinking when the template does not', () => {
    const question = [{ role: 'user', content: 'Q?' }];
    assert.equal(thinkingPrompt(tokenizer(true), question), '<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n');
    assert.equal(thinkingPrompt(tokenizer(false), question), '<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n');
    const plain = { hasChatTemplate: false, applyChatTemplate: () => '', thinkStartId: null, bosText: '' };
    assert.equal(thinkingPrompt(plain, question), 'Q?\n');
    assert.equal(thinkingPrompt({ ...plain, bosText: '<s>' }, [{ role: 'system', content: 'Be brief.' }, ...question]), '<s>Be brief.\n\nQ?\n', 'a base model gets its BOS and every message');
  });

  it('keeps the system prompt and earlier turns in the prompt of the scored reply', () => {
    const multi = parseTrace(JSON.stringify({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What is 1 + 1?' },
        { role: 'assistant', reasoning_content: 'One and one.', content: '2' },
        { role: 'user', content: 'And 3 + 4?' },
        { role: 'assistant', reasoning_content: 'Three and four is 7.', content: '\\boxed{7}' },
      ],
    }));
    const thinking = segmentThinking(multi, 'sentence');
    assert.deepEqual(thinking.messages, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'What is 1 + 1?' },
      { role: 'assistant', content: '2' },
      { role: 'user', content: 'And 3 + 4?' },
    ]);
    assert.equal(
      thinkingPrompt(tokenizer(true), thinking.messages),
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nWhat is 1 + 1?<|im_end|>\n<|im_start|>assistant\n2<|im_end|>\n<|im_start|>user\nAnd 3 + 4?<|im_end|>\n<|im_start|>assistant\n<think>\n',
    );
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

  it('tokenizes every question as one string, and stores it as the trace prefix it forks from plus its own tokens', async () => {
    const t = tokenizer(true);
    const thinking = segmentThinking(trace, 'sentence');
    const layout = await ttsLayout(t, { messages: thinking.messages, thinking: thinking.thinking.text, steps: thinking.steps, answer: '7', cue: '\n The final answer is \\boxed{', seed: 5 });
    assertQuestionsAreWholeStrings(t, layout);
    const first = variantText(layout, { step: 0, stepIntact: true, contextIntact: true });
    assert.ok(first.text.endsWith('3 + 4 = 7.\n The final answer is \\boxed{'));
    assert.notEqual(layout.texts.perturbed, layout.texts.intact);
  });
});

/** Every stored question, rebuilt from its fork and tail, is exactly the tokenization of its whole string. */
function assertQuestionsAreWholeStrings(t: Pick<TextTokenizer, 'encode' | 'encodeWithOffsets' | 'decode'>, layout: TtsLayout): void {
  assert.deepEqual(layout.intact, t.encode(layout.texts.intact));
  assert.deepEqual(layout.perturbed, t.encode(layout.texts.perturbed));
  let checked = 0;
  layout.questions.forEach((questions, step) => {
    if (!questions) return;
    for (const [key, stepIntact, contextIntact] of [['s11', true, true], ['s01', false, true], ['s10', true, false], ['s00', false, false]] as const) {
      const variant = { step, stepIntact, contextIntact };
      const question: Question = questions[key] ?? (key === 's10' ? questions.s11 : questions.s01);
      const whole = variantPrefix(t, layout, variant);
      assert.deepEqual([...layout[question.trace].slice(0, question.fork), ...question.tail], whole, `step ${step} ${key}`);
      const { start, end } = stepPositions(t, layout, variant);
      const { text, step: range } = variantText(layout, variant);
      assert.ok(t.decode(whole.slice(start, end)).includes(text.slice(range.start, range.end).trim().slice(0, 8)), `step ${step} ${key}: its tokens hold its text`);
      checked++;
    }
  });
  assert.ok(checked > 0);
}

const R1_STYLE = [
  'Okay, so I need to add 3 and 4.',
  'That gives 3 + 4 = 7.',
  'Wait, is 7 right? Let me check: 7 - 4 = 3, yes!',
  'So the answer is 7.',
].join('\n\n');

describe('joint tokenization on real tokenizers', () => {
  const realTrace = parseTrace(JSON.stringify({
    messages: [
      { role: 'system', content: 'Think step by step.' },
      { role: 'user', content: 'What is 3 + 4?' },
      { role: 'assistant', reasoning_content: R1_STYLE, content: 'The answer is \\boxed{7}.' },
    ],
  }));

  it('Qwen: the dot ending a step merges with the blank line after it into one token, and every question is still its own whole string', async () => {
    const qwen = await realTokenizer('qwen3');
    const merged = qwen.tokenId('.ĊĊ');
    assert.ok(merged !== null && qwen.encode('7.\n\nWait').includes(merged), '".\\n\\n" is one Qwen token');
    const thinking = segmentThinking(realTrace, 'paragraph');
    const layout = await ttsLayout(qwen, { messages: thinking.messages, thinking: thinking.thinking.text, steps: thinking.steps, answer: '7', cue: '\n The final answer is \\boxed{', seed: 3 });
    assert.ok(layout.intact.includes(merged), 'the whole trace keeps the merged token');
    // Step 0's last token also holds the blank line after it.
    const { offsets } = qwen.encodeWithOffsets(layout.texts.intact);
    const spans = tokenSpans(offsets, layout.ranges.intact);
    assert.equal(layout.intact[spans[0].end - 1], merged, 'step 0 ends in the token that holds ".\\n\\n"');
    assert.equal(spans[0].end, spans[1].start);
    assert.ok(layout.texts.intact.startsWith('<|im_start|>system\nThink step by step.<|im_end|>'), 'the system prompt is part of what the model reads');
    assertQuestionsAreWholeStrings(qwen, layout);
    // The question after step 1 forks from the trace just before the merged token and re-reads "." + cue.
    const s11 = layout.questions[1]!.s11;
    assert.equal(qwen.decode(s11.tail).startsWith('.'), true);
    assert.equal(layout.intact[s11.fork], merged);
  });

  it('Mistral (SentencePiece): no space is put before any step, unlike tokenizing the steps one by one', async () => {
    const sp = await realTokenizer('mistral');
    const thinking = segmentThinking(realTrace, 'sentence');
    const layout = await ttsLayout(sp, { messages: [{ role: 'user', content: 'What is 3 + 4?' }], thinking: thinking.thinking.text, steps: thinking.steps, answer: '7', cue: '\n The final answer is \\boxed{', seed: 3 });
    assert.equal(sp.decode(layout.intact, { skipSpecialTokens: true }), layout.texts.intact.replace('<s>', '').trimStart(), 'the trace decodes to exactly its text');
    assertQuestionsAreWholeStrings(sp, layout);
    // What piecewise tokenization gave: each separately encoded step starts with "▁", a space the text does not have.
    const piecewise = thinking.steps.map((step) => sp.encode(step.text));
    assert.ok(piecewise.every((ids) => sp.tokenString(ids[0])!.startsWith('▁')));
    const joint = sp.encode(thinking.thinking.text);
    assert.ok(sp.decode(piecewise.flat()).length > thinking.steps.map((s) => s.text).join('').length, 'piecewise adds a space per step');
    assert.ok(!sp.decode(joint).includes('\n\n '), 'the joint tokenization has no space after a blank line');
    // The answer follows the cue as it would in the text: "7", not "▁7".
    assert.deepEqual(layout.answer, sp.encode('{7').slice(-1));
    assert.equal(sp.tokenString(layout.answer[0]), '7');
  });
});
