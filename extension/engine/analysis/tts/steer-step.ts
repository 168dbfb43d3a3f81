// Does the model use this step? Steer along (+) or against (−) the TrueThinking direction on the step's
// tokens, at one layer, during the prompt pass, and score the step again: the four S values and the
// TTS with and without the push, and with a random direction of the same norm pushed the same way
// (the paper's control: a change the random push makes as well is not the direction's doing).

import { vectorAt, DirectionError, type Direction } from '../../../common/direction';
import { trueThinking } from '../../../common/analysis/tts';
import type { ParsedTrace, SegmentationPolicy } from '../../../common/trace/types';
import type { SteeredStep, StepScores } from '../../../common/protocol';
import type { Model } from '../../model';
import { defaultTrueThinkingLayer, stepSpanIntervention } from '../../directions/steering-methods';
import { mulberry32 } from '../../../common/analysis/perturb';
import { norm } from '../../../common/analysis/stats';
import { throwIfCancelled, type Progress } from '../../runtime/progress';
import { traceLayout, type TtsSettings } from './annotate';
import { steeredConfidence, variantConfidence } from './compute';

export interface SteerStepOptions extends Progress, TtsSettings {
  segmentation: SegmentationPolicy;
  conversation?: number;
  step: number;
  direction: Direction;
  /** Default: the TrueThinking paper's ≈60% of depth. */
  layer?: number;
  /** Positive along the direction (make the model use the step), negative against it. */
  scale: number;
  /** Seed of the random control direction (default CONTROL_SEED). */
  controlSeed?: number;
}

export const CONTROL_SEED = 100;

/** A random direction (normal entries, seeded) with the norm of `like`. */
export function randomLike(like: Float32Array, seed: number): Float32Array {
  const random = mulberry32(seed);
  // Box–Muller: a Gaussian vector points uniformly in every direction.
  const v = Float32Array.from(like, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
  const scale = norm(like) / norm(v);
  return v.map((x) => x * scale);
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
  const { thinking, layout } = await traceLayout(model.tokenizer, trace, options);
  const step = thinking.steps[options.step];
  if (!step) throw new Error(`step ${options.step} does not exist: the thinking has ${thinking.steps.length} steps (0..${thinking.steps.length - 1})`);
  if (!layout.perturbable[options.step]) throw new Error(`step ${options.step} has no number to perturb, so it has no True Thinking Score to move`);
  const layer = options.layer ?? defaultTrueThinkingLayer(model.spec.numLayers);
  const vector = vectorAt(options.direction, layer);
  const push = { vector, layer, scale: options.scale };
  const controlPush = { vector: randomLike(vector, options.controlSeed ?? CONTROL_SEED), layer, scale: options.scale };
  // The push's steering blocks first, so that adding them (once per loaded model) is reported as such.
  await model.session.prepareSteering(model.session.compileSteering([stepSpanIntervention(vector, layer, options.scale, [])]).kinds, options);
  const before: Partial<StepScores> = {};
  const after: Partial<StepScores> = {};
  const control: Partial<StepScores> = {};
  for (const [i, [key, stepIntact, contextIntact]] of VARIANTS.entries()) {
    throwIfCancelled(options.signal);
    options.report?.({ message: `scoring step ${options.step} with and without steering`, done: i, total: VARIANTS.length });
    const variant = { step: options.step, stepIntact, contextIntact };
    before[key] = await variantConfidence(model.session, model.tokenizer, layout, variant);
    after[key] = await steeredConfidence(model.session, model.tokenizer, layout, variant, push);
    control[key] = await steeredConfidence(model.session, model.tokenizer, layout, variant, controlPush);
  }
  const scores = (s: Partial<StepScores>): StepScores => {
    const values = { s11: s.s11!, s01: s.s01!, s10: s.s10!, s00: s.s00! };
    return { ...values, tts: trueThinking(values).tts };
  };
  return { step: options.step, layer, scale: options.scale, before: scores(before), after: scores(after), control: scores(control) };
}
