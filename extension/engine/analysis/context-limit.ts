// A trace longer than the model's positions: said before any work, with the way out (the last N
// tokens of thinking, or a selection), and the cut that takes only the last N tokens.

import { InputError } from '../inputs';
import type { TextTokenizer } from '../checkpoint/tokenizer';
import type { TtsLayout } from './tts/layout';
import { stepPieces, type TraceThinking } from './trace-steps';

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

/** Throws ContextLimitError when the longest TTS prompt (question, every step, cue, answer) exceeds `limit` positions. */
export function checkTtsContext(layout: TtsLayout, limit: number): void {
  const thinking = Math.max(layout.intact.flat().length, layout.perturbed.flat().length);
  const rest = layout.prompt.length + layout.cue.length + layout.answer.length;
  if (rest + thinking > limit) throw new ContextLimitError(rest + thinking, limit, Math.max(0, limit - rest));
}

/**
 * The thinking from the first step on which its steps hold at most `maxTokens` tokens (each step
 * with the text before it, as the model reads it): the steps renumbered from 0, their source ranges kept.
 */
export function lastThinkingTokens(thinking: TraceThinking, tokenizer: Pick<TextTokenizer, 'encode'>, maxTokens: number): TraceThinking {
  if (!Number.isInteger(maxTokens) || maxTokens <= 0) throw new InputError(`the number of thinking tokens to keep must be a positive integer; got ${maxTokens}`);
  const lengths = stepPieces(thinking.thinking.text, thinking.steps).map((piece) => tokenizer.encode(piece).length);
  let first = thinking.steps.length;
  for (let kept = 0; first > 0 && kept + lengths[first - 1] <= maxTokens; first--) kept += lengths[first - 1];
  if (first === 0) return thinking;
  if (first === thinking.steps.length) throw new InputError(`the last step alone is ${lengths[first - 1]} tokens: keep at least that many tokens of thinking`);
  const offset = thinking.steps[first].at.start;
  const { text, toSource } = thinking.thinking;
  return {
    ...thinking,
    thinking: { text: text.slice(offset), toSource: (i) => toSource(offset + i) },
    steps: thinking.steps.slice(first).map((step, index) => ({ ...step, index, at: { start: step.at.start - offset, end: step.at.end - offset } })),
  };
}
