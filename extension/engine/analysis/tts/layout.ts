// The token layout of every True Thinking Score prompt of a trace (algorithms.md §1.2):
//   chat-templated question | step 1 | … | step i | cue | answer
// with each step intact or perturbed. Each part is tokenized on its own (see trace-steps.ts), so the
// four prompts of a step and the prompts of successive steps share their token prefixes exactly:
// the KV cache can be forked at step boundaries, and a prompt recomputed from scratch has exactly
// the same tokens as its forked computation.

import { perturbAll } from '../../../common/analysis/perturb';
import type { TextTokenizer } from '../../checkpoint/tokenizer';
import { stepPieces, thinkingPrompt, type ThinkingStep } from '../trace-steps';

export const DEFAULT_TTS_CUE = '\n The final answer is \\boxed{';

export interface TtsLayout {
  prompt: number[];
  /** Tokens of each step's piece (the step with the whitespace before it), intact. */
  intact: number[][];
  /** The same pieces with the step's numbers moved; equal to `intact` where the step has no number. */
  perturbed: number[][];
  /** Whether the step has a number to perturb; a step without one gets no score. */
  perturbable: boolean[];
  cue: number[];
  answer: number[];
}

export interface TtsLayoutInput {
  question: string | null;
  /** The decoded thinking text and its steps. */
  thinking: string;
  steps: readonly ThinkingStep[];
  answer: string;
  cue: string;
  seed: number;
}

export function ttsLayout(tokenizer: TextTokenizer, input: TtsLayoutInput): TtsLayout {
  const answer = tokenizer.encode(input.answer);
  if (answer.length === 0) throw new Error('the answer is empty: give the text the model should be confident in (e.g. the \\boxed{} answer)');
  const perturbations = perturbAll(input.steps, input.seed);
  const encodeAll = (pieces: string[]) => pieces.map((piece) => tokenizer.encode(piece));
  return {
    prompt: tokenizer.encode(thinkingPrompt(tokenizer, input.question)),
    intact: encodeAll(stepPieces(input.thinking, input.steps)),
    perturbed: encodeAll(stepPieces(input.thinking, input.steps, (i) => perturbations[i].text)),
    perturbable: perturbations.map((p) => p.perturbed),
    cue: tokenizer.encode(input.cue),
    answer,
  };
}

/** Which prompt: the step intact (x = 1) or perturbed (x = 0), the steps before it intact (c = 1) or perturbed (c = 0). */
export interface Variant {
  step: number;
  stepIntact: boolean;
  contextIntact: boolean;
}

/** The prompt of S_x(c) for one step up to the cue: the question, the context and the step. */
export function variantPrefix(layout: TtsLayout, variant: Variant): number[] {
  checkStep(layout, variant.step);
  const context = (variant.contextIntact ? layout.intact : layout.perturbed).slice(0, variant.step).flat();
  const step = (variant.stepIntact ? layout.intact : layout.perturbed)[variant.step];
  return [...layout.prompt, ...context, ...step];
}

/** Absolute token positions [start, end) of the step's piece in the variant's prompt. */
export function stepPositions(layout: TtsLayout, variant: Variant): { start: number; end: number } {
  checkStep(layout, variant.step);
  const context = variant.contextIntact ? layout.intact : layout.perturbed;
  let start = layout.prompt.length;
  for (let i = 0; i < variant.step; i++) start += context[i].length;
  return { start, end: start + (variant.stepIntact ? layout.intact : layout.perturbed)[variant.step].length };
}

function checkStep(layout: TtsLayout, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= layout.intact.length) throw new RangeError(`step ${index} does not exist: the trace has ${layout.intact.length} steps (0..${layout.intact.length - 1})`);
}
