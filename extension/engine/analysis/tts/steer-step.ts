// Does the model use this step? Steer along (+) or against (−) the TrueThinking direction on the step's
// tokens, at one layer, during the prompt pass, and score the step again: the four S values and the
// TTS with and without the push.

import { vectorAt, DirectionError, type Direction } from '../../../common/direction';
import { trueThinking } from '../../../common/analysis/tts';
import type { ParsedTrace, SegmentationPolicy } from '../../../common/trace/types';
import type { SteeredStep, StepScores } from '../../../common/protocol';
import type { Model } from '../../model';
import { defaultTrueThinkingLayer } from '../../directions/presets';
import { throwIfCancelled, type Progress } from '../../runtime/progress';
import { segmentThinking } from '../trace-steps';
import { traceAnswer, type TtsSettings } from './annotate';
import { steeredConfidence, variantConfidence } from './compute';
import { DEFAULT_TTS_CUE, ttsLayout } from './layout';
import { DEFAULT_PERTURBATION_SEED } from '../../../common/analysis/perturb';

export interface SteerStepOptions extends Progress, TtsSettings {
  segmentation: SegmentationPolicy;
  conversation?: number;
  step: number;
  direction: Direction;
  /** Default: the TrueThinking paper's ≈60% of depth. */
  layer?: number;
  /** Positive along the direction (make the model use the step), negative against it. */
  scale: number;
}

const VARIANTS = [
  ['s11', true, true],
  ['s01', false, true],
  ['s10', true, false],
  ['s00', false, false],
] as const;

export async function steerStep(model: Model, trace: ParsedTrace, options: SteerStepOptions): Promise<SteeredStep> {
  if (options.direction.meta.method !== 'truethinking') {
    throw new DirectionError(`direction "${options.direction.meta.name}" is a ${options.direction.meta.method} direction; steering a step needs a TrueThinking direction`);
  }
  const thinking = segmentThinking(trace, options.segmentation, { conversation: options.conversation });
  const step = thinking.steps[options.step];
  if (!step) throw new Error(`step ${options.step} does not exist: the thinking has ${thinking.steps.length} steps (0..${thinking.steps.length - 1})`);
  const answer = traceAnswer(thinking, options.answer);
  if (answer === null) throw new Error('the trace has no \\boxed{} answer and no final reply: give the answer to score');
  const layout = ttsLayout(model.tokenizer, {
    question: thinking.question,
    thinking: thinking.thinking.text,
    steps: thinking.steps,
    answer,
    cue: options.cue ?? DEFAULT_TTS_CUE,
    seed: options.seed ?? DEFAULT_PERTURBATION_SEED,
  });
  if (!layout.perturbable[options.step]) throw new Error(`step ${options.step} has no number to perturb, so it has no True Thinking Score to move`);
  const layer = options.layer ?? defaultTrueThinkingLayer(model.spec.numLayers);
  const push = { vector: vectorAt(options.direction, layer), layer, scale: options.scale };
  const before: Partial<StepScores> = {};
  const after: Partial<StepScores> = {};
  for (const [i, [key, stepIntact, contextIntact]] of VARIANTS.entries()) {
    throwIfCancelled(options.signal);
    options.report?.({ message: `scoring step ${options.step} with and without steering`, done: i, total: VARIANTS.length });
    const variant = { step: options.step, stepIntact, contextIntact };
    before[key] = await variantConfidence(model.session, layout, variant);
    after[key] = await steeredConfidence(model.session, layout, variant, push);
  }
  const scores = (s: Partial<StepScores>): StepScores => {
    const values = { s11: s.s11!, s01: s.s01!, s10: s.s10!, s00: s.s00! };
    return { ...values, tts: trueThinking(values).tts };
  };
  return { step: options.step, layer, scale: options.scale, before: scores(before), after: scores(after) };
}
