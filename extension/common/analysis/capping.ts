// Assistant-Axis projection and activation capping (algorithms.md §3.3–3.4): the paper's floor
// semantics, h ← h + v̂·max(0, τ − ⟨h, v̂⟩), with τ a percentile of the layer's projections.

import { dot, normalize, percentile } from './stats';

export const DEFAULT_CAPPING_PERCENTILE = 25;

/** ⟨h, axis/‖axis‖⟩: higher means more Assistant-like. */
export function projectOnto(h: ArrayLike<number>, axis: Float32Array): number {
  return dot(h, normalize(axis));
}

/** τ for one layer: the given percentile of its projection distribution. */
export function cappingFloor(projections: ArrayLike<number>, percentileRank = DEFAULT_CAPPING_PERCENTILE): number {
  return percentile(projections, percentileRank);
}

/** τ_l for each layer from that layer's projections. */
export function cappingFloors(projectionsPerLayer: readonly ArrayLike<number>[], percentileRank = DEFAULT_CAPPING_PERCENTILE): number[] {
  return projectionsPerLayer.map((projections) => cappingFloor(projections, percentileRank));
}

/** Raises h along the unit axis until its projection is at least `floor`; h is returned unchanged when it already is. */
export function capToFloor(h: Float32Array, axis: Float32Array, floor: number): Float32Array {
  const unit = normalize(axis);
  const lift = Math.max(0, floor - dot(h, unit));
  return lift === 0 ? h.slice() : h.map((value, i) => value + lift * unit[i]);
}
