// A trace longer than the model's positions: said before any work, with the way out (the last N
// tokens of thinking, or a selection), and the cut that takes only the last N tokens.

import { InputError } from '../inputs';
import type { TextTokenizer } from '../checkpoint/tokenizer';
import { tokenSpans, type TraceThinking } from './trace-steps';

/** The trace does not fit the model's positions; `fits` is the most thinking tokens that would. */
export class ContextLimitError extends InputError {
  constructor(
    readonly needed: number,
    readonly limit: number,
    readonly fits: number,
  ) {
    super(
      `the trace needs ${needed.toLocaleString('en-US')} positions (question, thinking, cue and answer) but the model holds ${limit.toLocaleString('en-US')}: ` +
        (fits > 0 ? `analyse a selection of the thinking, or only its last ${fits.toLocaleString('en-US')} tokens` : 'the question, cue and answer alone do not fit'),
    );
    this.name = 'ContextLimitError';
  }
}

/** Token counts of the longest TTS prompt: the prompt before the thinking, the (longer of intact and perturbed) thinking, the cue, the answer. */
export interface TtsLength {
  prompt: number;
  thinking: number;
  cue: number;
  answer: number;
}

/** Throws ContextLimitError when the longest TTS prompt (question, every step, cue, answer) exceeds `limit` positions. */
export function checkTtsContext(length: TtsLength, limit: number): void {
  const rest = length.prompt + length.cue + length.answer;
  if (rest + length.thinking > limit) throw new ContextLimitError(rest + length.thinking, limit, Math.max(0, limit - rest));
}

/**
 * The thinking from the first step on which its steps hold at most `maxTokens` tokens (the thinking
 * tokenized as one text, each step counted with the text before it): the steps renumbered from 0,
 * their source ranges kept.
 */
export function lastThinkingTokens(thinking: TraceThinking, tokenizer: Pick<TextTokenizer, 'encodeWithOffsets'>, maxTokens: number): TraceThinking {
  if (!Number.isInteger(maxTokens) || maxTokens <= 0) throw new InputError(`the number of thinking tokens to keep must be a positive integer; got ${maxTokens}`);
  const { ids, offsets } = tokenizer.encodeWithOffsets(thinking.thinking.text);
  const steps = thinking.steps;
  const pieces = steps.map((step, i) => ({ start: i === 0 ? 0 : steps[i - 1].at.end, end: step.at.end }));
  const starts = tokenSpans(offsets, pieces).map((span) => span.start);
  let first = steps.length;
  while (first > 0 && ids.length - starts[first - 1] <= maxTokens) first--;
  if (first === 0) return thinking;
  if (first === steps.length) throw new InputError(`the last step alone is ${ids.length - starts[first - 1]} tokens: keep at least that many tokens of thinking`);
  const offset = thinking.steps[first].at.start;
  const { text, toSource } = thinking.thinking;
  return {
    ...thinking,
    thinking: { text: text.slice(offset), toSource: (i) => toSource(offset + i) },
    steps: thinking.steps.slice(first).map((step, index) => ({ ...step, index, at: { start: step.at.start - offset, end: step.at.end - offset } })),
  };
}
