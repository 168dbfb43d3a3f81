// How a saved direction steers a generation, by the method that made it:
//   seal           −c·v at "\n\n" tokens while thinking (the paper's calibration, c = scale)
//   truethinking   +c·v at one layer, at every generated token while thinking
//   assistant-axis floor caps at the capping layers, every position (prompt and reply)
//   selective      rotation by θ in its plane at its selected blocks, every position
//   anything else  +c·v at each of its layers, every position

import { DirectionError, vectorAt, type Direction } from '../../common/direction';
import type { Intervention } from '../../common/steering-plan';
import { STEERING_METHODS, type SteeringChoice } from '../../common/protocol';
import { cappingInterventions } from '../analysis/persona';
import { sealSteeringPolicy, thinkingTracker } from '../analysis/seal';
import { selectiveInterventions } from '../analysis/selective';
import type { Model } from '../model';
import type { Steering } from '../runtime/decoder-session';
import type { GenerateOptions } from '../runtime/generate';

export const PRESETS = ['seal', 'truethinking', 'assistant-cap'] as const;
export type Preset = (typeof PRESETS)[number];

const PRESET_METHOD: Record<Preset, Direction['meta']['method']> = { seal: 'seal', truethinking: 'truethinking', 'assistant-cap': 'assistant-axis' };

export interface SteerOptions {
  /** When given, the direction must be of the preset's kind. */
  preset?: Preset;
  /** c: SEAL's calibration strength, or the multiple of an added vector (default 1). */
  scale?: number;
  /** The one layer of seal/truethinking steering. */
  layer?: number;
  /** Capping layers, or the layers an added direction is applied at. */
  layers?: number[];
  /** Selective Steering's rotation angle. */
  degrees?: number;
}

export interface DirectionSteering {
  steering: NonNullable<GenerateOptions['steering']>;
  /** In words, for the user. */
  description: string;
}

/** The TrueThinking paper's best layers are 15–22 of 28 (its demo uses 17): ≈ 60% of the depth. */
export function defaultTrueThinkingLayer(numLayers: number): number {
  return Math.min(numLayers - 1, Math.round(0.6 * numLayers));
}

export function steeringFromDirection(model: Model, direction: Direction, promptIds: readonly number[], options: SteerOptions = {}): DirectionSteering {
  const { meta } = direction;
  if (options.preset && meta.method !== PRESET_METHOD[options.preset]) {
    throw new DirectionError(`preset ${options.preset} needs a ${PRESET_METHOD[options.preset]} direction; "${meta.name}" is a ${meta.method} direction`);
  }
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new DirectionError(`scale must be a finite number, got ${scale}`);
  const compile = (interventions: Intervention[]): Steering => model.session.compileSteering(interventions);
  switch (meta.method) {
    case 'seal': {
      const { policy, hook } = sealSteeringPolicy(model, promptIds, { direction, layer: options.layer, scale });
      return { steering: policy, description: `SEAL calibration: ${signed(-scale)}·vector at ${hook}, at "\\n\\n" tokens while thinking` };
    }
    case 'truethinking': {
      const layer = options.layer ?? defaultTrueThinkingLayer(model.spec.numLayers);
      const hook = `blocks.${layer}.${meta.hook}`;
      const steering = compile([{ hook, kind: 'add', vector: vectorAt(direction, layer), scale, positions: 'all' }]);
      const thinks = model.tokenizer.thinkStartId !== null;
      const thinking = thinkingTracker(model.tokenizer, promptIds);
      return {
        steering: (step) => (!thinks || thinking(step) ? steering : undefined),
        description: `TrueThinking: ${signed(scale)}·vector at ${hook}, at every generated token${thinks ? ' while thinking' : ''}`,
      };
    }
    case 'assistant-axis': {
      if (options.scale !== undefined) throw new DirectionError('capping has no scale: it lifts activations to the floor τ of each layer (choose layers with --layers)');
      const interventions = cappingInterventions(direction, options.layers);
      return { steering: compile(interventions), description: `Assistant-Axis capping at layers ${interventions.map((i) => i.hook.split('.')[1]).join(', ')}, every position` };
    }
    case 'selective': {
      if (options.degrees === undefined) throw new DirectionError('a Selective Steering direction rotates: give the angle in degrees');
      return { steering: compile(selectiveInterventions(direction, options.degrees)), description: `Selective Steering: rotation by ${options.degrees}° at blocks ${meta.layers.join(', ')}` };
    }
    default: {
      const layers = options.layers ?? meta.layers;
      const interventions = interventionsForChoice(direction, { method: 'add', strength: scale, layers });
      return { steering: compile(interventions), description: `${signed(scale)}·vector at ${meta.hook} of layers ${layers.join(', ')}, every position` };
    }
  }
}

/**
 * One steering slider (method, layers, strength) as interventions, whatever made the direction:
 * add and ablate at the direction's hook of each layer; cap with the Assistant Axis's floors; rotate in
 * a Selective Steering plane.
 */
export function interventionsForChoice(direction: Direction, choice: Omit<SteeringChoice, 'direction'>): Intervention[] {
  const { meta } = direction;
  const layers = choice.layers ?? meta.layers;
  switch (choice.method) {
    case 'add':
      return layers.map((layer) => ({ hook: `blocks.${layer}.${meta.hook}`, kind: 'add', vector: vectorAt(direction, layer), scale: choice.strength, positions: 'all' }));
    case 'ablate':
      return layers.map((layer) => ({ hook: `blocks.${layer}.${meta.hook}`, kind: 'ablate', direction: vectorAt(direction, layer) }));
    case 'cap':
      return cappingInterventions(direction, choice.layers);
    case 'rotate':
      return selectiveInterventions(direction, choice.strength, layers);
    default:
      throw new DirectionError(`unknown steering method "${(choice as { method: unknown }).method}": expected one of ${STEERING_METHODS.join(', ')}`);
  }
}

/** A scale with its sign always shown: +2, −2. */
function signed(scale: number): string {
  return scale < 0 ? `−${-scale}` : `+${scale}`;
}
