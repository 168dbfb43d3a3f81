// A direction is float32 vectors per layer plus metadata: how it was made, where it applies, and for
// which model. Stored as safetensors with a JSON sidecar (engine/directions/store.ts).

import type { HookKind } from './hooks';
import type { ModelFingerprint } from './bundle/trace-file';

export const DIRECTION_SCHEMA_ID = 'thinkscope.direction/1';

export type DirectionMethod = 'truethinking' | 'seal' | 'assistant-axis' | 'selective' | 'imported' | 'custom';

export interface DirectionMetadata {
  schema: typeof DIRECTION_SCHEMA_ID;
  name: string;
  method: DirectionMethod;
  /** The hook kind each layer's vector belongs to (e.g. hook_resid_pre, ln1.hook_normalized). */
  hook: HookKind;
  /** Layer of each stored vector, in order. */
  layers: number[];
  hiddenSize: number;
  model: ModelFingerprint | null;
  /** How many examples went into each side (e.g. {high: 120, low: 340}). */
  counts: Record<string, number>;
  /** What adding the vector with a positive scale does, in words. */
  signConvention: string;
  createdAt: string;
  /** Method-specific numbers (capping floors per layer, the selected layers, thresholds, …). */
  details: Record<string, unknown>;
}

export interface Direction {
  meta: DirectionMetadata;
  /** One vector per entry of meta.layers. */
  vectors: Float32Array[];
  /** Named companion vectors, one per layer each (Selective Steering's second plane axis b2). */
  companions: Record<string, Float32Array[]>;
}

export class DirectionError extends Error {}

/** Checks a direction against the loaded model; the message says exactly what does not fit. */
export function checkDirectionFits(direction: Direction, model: { hiddenSize: number; numLayers: number; weightsHash: string }): void {
  const { meta } = direction;
  if (meta.hiddenSize !== model.hiddenSize) {
    throw new DirectionError(`direction "${meta.name}" has hidden size ${meta.hiddenSize}; the loaded model's is ${model.hiddenSize}: it was made for another model`);
  }
  const outside = meta.layers.find((l) => l < 0 || l >= model.numLayers);
  if (outside !== undefined) throw new DirectionError(`direction "${meta.name}" has a vector for layer ${outside}; the loaded model has layers 0..${model.numLayers - 1}`);
}

/** True when the direction was made on exactly these weights (a different model of the same shape is allowed, with a warning). */
export function madeForModel(direction: Direction, weightsHash: string): boolean {
  return direction.meta.model?.weightsHash === weightsHash;
}

export function vectorAt(direction: Direction, layer: number): Float32Array {
  const index = direction.meta.layers.indexOf(layer);
  if (index < 0) throw new DirectionError(`direction "${direction.meta.name}" has no vector for layer ${layer} (it has layers ${direction.meta.layers.join(', ')})`);
  return direction.vectors[index];
}
