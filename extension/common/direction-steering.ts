// How a saved direction steers: one slider (method, layers, strength) becomes interventions.
//   add     h += strength · v_l                 at blocks.l.<hook> for each chosen layer
//   ablate  h −= ⟨h, v̂_l⟩ v̂_l
//   cap     h += v̂_l · max(0, τ_l − ⟨h, v̂_l⟩)    τ_l from the direction's floors (Assistant Axis)
//   rotate  rotate by `strength` degrees in the plane (v_l, b2_l) (Selective Steering)

import { vectorAt, DirectionError, type Direction } from './direction';
import type { Intervention, Positions } from './steering-plan';

export type SteeringMethod = 'add' | 'ablate' | 'cap' | 'rotate';
export const STEERING_METHODS: readonly SteeringMethod[] = ['add', 'ablate', 'cap', 'rotate'];

export interface DirectionSteering {
  method: SteeringMethod;
  /** Layers to steer; default: the direction's recommended layers (details.layers) or all of its layers. */
  layers?: number[];
  /** add: the scale; rotate: degrees; ablate and cap: unused. */
  strength: number;
  positions?: Positions;
}

export function recommendedLayers(direction: Direction): number[] {
  const recommended = direction.meta.details.recommendedLayers;
  return Array.isArray(recommended) && recommended.every(Number.isInteger) ? (recommended as number[]) : direction.meta.layers;
}

export function capFloors(direction: Direction): Record<number, number> | null {
  const floors = direction.meta.details.floors;
  return floors && typeof floors === 'object' ? (floors as Record<number, number>) : null;
}

export function interventionsFor(direction: Direction, steering: DirectionSteering): Intervention[] {
  const layers = steering.layers ?? recommendedLayers(direction);
  if (layers.length === 0) throw new DirectionError(`direction "${direction.meta.name}": choose at least one layer to steer`);
  const { positions } = steering;
  return layers.map((layer): Intervention => {
    const hook = `blocks.${layer}.${direction.meta.hook}`;
    const v = vectorAt(direction, layer);
    switch (steering.method) {
      case 'add':
        return { hook, kind: 'add', vector: v, scale: steering.strength, positions };
      case 'ablate':
        return { hook, kind: 'ablate', direction: v, positions };
      case 'cap': {
        const floor = capFloors(direction)?.[layer];
        if (typeof floor !== 'number') throw new DirectionError(`direction "${direction.meta.name}" has no capping floor for layer ${layer}; capping needs an Assistant-Axis direction built with floors`);
        return { hook, kind: 'cap', direction: v, min: floor, positions };
      }
      case 'rotate': {
        const b2 = direction.companions.b2;
        if (!b2) throw new DirectionError(`direction "${direction.meta.name}" has no second plane axis (b2); rotation needs a Selective Steering direction`);
        return { hook, kind: 'rotate', plane: [v, b2[direction.meta.layers.indexOf(layer)]], degrees: steering.strength, positions };
      }
    }
  });
}
