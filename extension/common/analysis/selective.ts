// Selective Steering's geometry (algorithms.md §4.3–4.5): the plane (b1, b2), the
// norm-preserving rotation in it, and the discriminative layer selection.

import { dot, firstPrincipalComponent, gramSchmidt, mostCentral, normalize, orient } from './stats';

export interface SteeringPlane {
  /** Unit vector: the most central of the per-point directions. */
  b1: Float32Array;
  /** Unit vector orthogonal to b1: PC1 of the directions with b1 removed. */
  b2: Float32Array;
  /** Which of the given directions became b1. */
  b1Index: number;
}

/**
 * The plane from per-point diff-in-means directions d_i (normalised here). The sign of b2, which
 * sets the sense of rotation, follows the same convention as every direction: its largest-|x|
 * component is positive.
 */
export function selectivePlane(directions: readonly Float32Array[]): SteeringPlane {
  if (directions.length < 2) throw new RangeError(`a steering plane needs directions from at least 2 points; got ${directions.length}`);
  const units = directions.map(normalize);
  const { index } = mostCentral(units);
  const b1 = units[index];
  const pc1 = firstPrincipalComponent(units).direction;
  return { b1, b2: orient(gramSchmidt(pc1, [b1])), b1Index: index };
}

/** Rotates the in-plane part of h by θ degrees from b1 toward b2: h − Ph + V_θ h. Norm-preserving. */
export function rotateInPlane(h: Float32Array, plane: Pick<SteeringPlane, 'b1' | 'b2'>, thetaDegrees: number): Float32Array {
  const { b1, b2 } = plane;
  const theta = (thetaDegrees * Math.PI) / 180;
  const a = dot(h, b1);
  const b = dot(h, b2);
  const along1 = a * Math.cos(theta) - b * Math.sin(theta) - a;
  const along2 = a * Math.sin(theta) + b * Math.cos(theta) - b;
  return h.map((value, i) => value + along1 * b1[i] + along2 * b2[i]);
}

/** Per class, the mean projection of unit-normalised activations on unit b1. */
export function classMeanProjections(positive: readonly Float32Array[], negative: readonly Float32Array[], b1: Float32Array): { positive: number; negative: number } {
  const unit = normalize(b1);
  const meanProjection = (activations: readonly Float32Array[], name: string) => {
    if (activations.length === 0) throw new RangeError(`no ${name} activations to project`);
    return activations.reduce((sum, h) => sum + dot(normalize(h), unit), 0) / activations.length;
  };
  return { positive: meanProjection(positive, 'positive'), negative: meanProjection(negative, 'negative') };
}

/** A point is steered iff its class means lie on opposite sides of b1 (μ⁺·μ⁻ < 0). */
export function isDiscriminative(positive: readonly Float32Array[], negative: readonly Float32Array[], b1: Float32Array): boolean {
  const means = classMeanProjections(positive, negative, b1);
  return means.positive * means.negative < 0;
}

export interface NormPointSelection {
  /** The decoder block the norm belongs to; null for the final norm, which is never steered. */
  block: number | null;
  selected: boolean;
}

/** The blocks, ascending, all of whose norm points were selected. */
export function blocksWithAllPointsSelected(points: readonly NormPointSelection[]): number[] {
  const verdict = new Map<number, boolean>();
  for (const { block, selected } of points) if (block !== null) verdict.set(block, (verdict.get(block) ?? true) && selected);
  return [...verdict].filter(([, selected]) => selected).map(([block]) => block).sort((x, y) => x - y);
}
