// One place per steering method: a user's choice (a saved direction, a method, layers, a strength)
// becomes what the graph applies, alike for the CLI, the engine service (Steering panel, Steer Reply…)
// and Steer this step. The rules are the papers' (algorithms.md); their words are steering-rule.ts's:
//   calibrate  SEAL §2.4: −c·v at the SEAL layer, only at the "\n\n" tokens the model generates
//              inside <think>; the prompt pass and everything after </think> are untouched
//   cap        Assistant Axis §3.4: the floor τ_l at each capping layer, every position
//   rotate     Selective Steering §4.4: rotation by θ in its plane at its selected blocks, every position
//   add/ablate generic: at each chosen layer, every position (named as such wherever it is offered)
//   TrueThinking §1.6 steers one step of a trace: +c·v on the step's tokens in the prompt pass
//   (stepSpanIntervention, used by steer-step), never a whole reply.

import { DirectionError, vectorAt, type Direction } from '../../common/direction';
import type { Intervention } from '../../common/steering-plan';
import type { HookKind } from '../../common/hooks';
import { STEERING_METHODS, type SteeringChoice } from '../../common/protocol';
import { choiceLayers, describeRule, methodsFor, steeringRule } from '../../common/steering-rule';
import { DIRECTION_LABELS } from '../../common/webview-protocol';
import { cappingInterventions } from '../analysis/persona';
import { thinkingTracker } from '../analysis/seal';
import { stepCloseTracker } from '../analysis/step-boundary';
import { selectiveInterventions } from '../analysis/selective';
import type { Model } from '../model';
import type { Steering } from '../runtime/decoder-session';
import type { GenerateOptions } from '../runtime/generate';

export type Choice = Omit<SteeringChoice, 'direction'>;

/** The TrueThinking paper's best layers are 15–22 of 28 (its demo uses 17): ≈ 60% of the depth. */
export function defaultTrueThinkingLayer(numLayers: number): number {
  return Math.min(numLayers - 1, Math.round(0.6 * numLayers));
}

/**
 * The interventions of one choice. A calibration's additions carry positions "all": generation gates
 * them token by token (generationSteering), since which tokens are boundaries is known only as they come.
 */
export function interventionsForChoice(direction: Direction, choice: Choice): Intervention[] {
  const { meta } = direction;
  if (!STEERING_METHODS.includes(choice.method)) {
    throw new DirectionError(`unknown steering method "${(choice as { method: unknown }).method}": expected one of ${STEERING_METHODS.join(', ')}`);
  }
  if (!Number.isFinite(choice.strength)) throw new DirectionError(`strength must be a finite number, got ${choice.strength}`);
  const layers = choiceLayers(meta, choice);
  switch (choice.method) {
    case 'calibrate':
      if (meta.method !== 'seal') throw new DirectionError(`direction "${meta.name}" is ${DIRECTION_LABELS[meta.method]}; SEAL calibration needs a SEAL direction (it can ${methodsFor(meta).join(', ')})`);
      return layers.map((layer) => ({ hook: `blocks.${layer}.${meta.hook}`, kind: 'add', vector: vectorAt(direction, layer), scale: -choice.strength, positions: 'all' }));
    case 'add':
      return layers.map((layer) => ({ hook: `blocks.${layer}.${meta.hook}`, kind: 'add', vector: vectorAt(direction, layer), scale: choice.strength, positions: 'all' }));
    case 'ablate':
      return layers.map((layer) => ({ hook: `blocks.${layer}.${meta.hook}`, kind: 'ablate', direction: vectorAt(direction, layer) }));
    case 'cap':
      return cappingInterventions(direction, choice.layers);
    case 'rotate':
      return selectiveInterventions(direction, choice.strength, layers);
  }
}

export interface ResolvedChoice {
  direction: Direction;
  choice: Choice;
}

export interface GenerationSteering {
  /** For generate: fixed steering, or a per-token policy when a choice is a SEAL calibration. */
  steering: GenerateOptions['steering'];
  /** The prompt pass's steering when `steering` is a policy. */
  promptSteering?: Steering;
  /** Each choice's rule in words (steering-rule.ts), in order. */
  applied: string[];
  /** The hook kinds whose steering blocks the generation uses (DecoderSession.prepareSteering). */
  kinds: readonly HookKind[];
}

/** The steering of a generation for every choice at once, each by its method's rule. */
export function generationSteering(model: Model, promptIds: readonly number[], choices: readonly ResolvedChoice[]): GenerationSteering {
  const items: { intervention: Intervention; atBoundary: boolean }[] = [];
  const applied: string[] = [];
  for (const { direction, choice } of choices) {
    const atBoundary = choice.method === 'calibrate';
    items.push(...interventionsForChoice(direction, choice).map((intervention) => ({ intervention, atBoundary })));
    applied.push(`${direction.meta.name}: ${describeRule(steeringRule(direction.meta, choice))}`);
  }
  const compile = (list: Intervention[]): Steering | undefined => (list.length === 0 ? undefined : model.session.compileSteering(list));
  const always = compile(items.filter((i) => !i.atBoundary).map((i) => i.intervention));
  if (!items.some((i) => i.atBoundary)) return { steering: always, applied, kinds: always?.kinds ?? [] };

  const { tokenizer } = model;
  if (tokenizer.thinkStartId === null || tokenizer.thinkEndId === null) {
    throw new DirectionError('this model has no <think>/</think> tokens: SEAL calibrates only the thinking, so there is nothing to steer');
  }
  const withBoundary = compile(items.map((i) => i.intervention));
  const thinking = thinkingTracker(tokenizer, promptIds);
  const closesStep = stepCloseTracker(tokenizer, promptIds);
  return {
    steering: (step) => (closesStep(step) && thinking(step) ? withBoundary : always),
    promptSteering: always,
    applied,
    kinds: withBoundary?.kinds ?? [],
  };
}

/** TrueThinking's push on one step: +c·v at hook_resid_pre of one layer, on exactly the step's token positions, in the prompt pass. */
export function stepSpanIntervention(vector: Float32Array, layer: number, scale: number, positions: number[]): Intervention {
  if (!Number.isFinite(scale)) throw new DirectionError(`scale must be a finite number, got ${scale}`);
  return { hook: `blocks.${layer}.hook_resid_pre`, kind: 'add', vector, scale, positions };
}
