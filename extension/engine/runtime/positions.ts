// Inputs that depend only on positions: RoPE tables and the attention masks of (packed) continuations.

import type { ModelSpec } from '../../common/model-spec';

/** RoPE inverse frequencies with the checkpoint's scaling (transformers' rope_init_fn semantics). */
export function ropeInverseFrequencies(spec: ModelSpec): Float64Array {
  const half = spec.headDim / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(spec.ropeTheta, (2 * i) / spec.headDim));
  const scaling = spec.ropeScaling;
  if (scaling.kind === 'linear') return inv.map((f) => f / scaling.factor);
  if (scaling.kind === 'llama3') {
    const lowWavelen = scaling.originalMaxPositions / scaling.lowFreqFactor;
    const highWavelen = scaling.originalMaxPositions / scaling.highFreqFactor;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowWavelen) return f / scaling.factor;
      if (wavelen < highWavelen) return f;
      const smooth = (scaling.originalMaxPositions / wavelen - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
      return (1 - smooth) * (f / scaling.factor) + smooth * f;
    });
  }
  return inv;
}

/** cos and sin tables [count, headDim/2] for positions 0..count−1, the form RotaryEmbedding reads. */
export function ropeTables(inverseFrequencies: Float64Array, count: number): { cos: Float32Array; sin: Float32Array } {
  const half = inverseFrequencies.length;
  const cos = new Float32Array(count * half);
  const sin = new Float32Array(count * half);
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < half; i++) {
      // transformers computes position × inv_freq in float32; so do we, then cos/sin of that angle.
      const angle = Math.fround(Math.fround(t) * Math.fround(inverseFrequencies[i]));
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Cache slots a group of new tokens may attend to, and the position of the first of them. */
export interface ContextRange {
  start: number;
  end: number;
  /** Position of slot `start` in the sequence this branch continues. */
  position: number;
}

/**
 * One continuation among several computed in a single forward: `length` consecutive new tokens at
 * positions position..position+length−1 that see only `context` in the cache and the branch's own
 * earlier tokens.
 */
export interface Branch {
  length: number;
  position: number;
  context: readonly ContextRange[];
}

/** The position of every new token of `branches`, in order. */
export function branchPositions(branches: readonly Branch[]): number[] {
  return branches.flatMap((b) => Array.from({ length: b.length }, (_, t) => b.position + t));
}

/**
 * Additive mask [group·count, cacheLength+count] for branches packed after a cache: each token sees its
 * branch's context ranges and its branch's tokens up to itself, within `window` positions if set.
 */
export function branchMask(cacheLength: number, branches: readonly Branch[], group: number, window: number | null): Float32Array {
  const count = branches.reduce((n, b) => n + b.length, 0);
  const keys = cacheLength + count;
  const mask = new Float32Array(group * count * keys).fill(-Infinity);
  const near = (query: number, key: number) => key <= query && (window === null || key > query - window);
  let row = 0;
  for (const branch of branches) {
    const first = cacheLength + row;
    for (let t = 0; t < branch.length; t++, row++) {
      const query = branch.position + t;
      const line = mask.subarray(row * keys, (row + 1) * keys);
      for (const range of branch.context) {
        for (let s = range.start; s < range.end; s++) if (near(query, range.position + s - range.start)) line[s] = 0;
      }
      for (let k = 0; k <= t; k++) if (near(query, branch.position + k)) line[first + k] = 0;
    }
  }
  for (let g = 1; g < group; g++) mask.copyWithin(g * count * keys, 0, count * keys);
  return mask;
}

/** The ordinary case: `count` tokens continuing the whole cache of `past` positions. */
export function continuation(past: number, count: number): Branch {
  return { length: count, position: past, context: past > 0 ? [{ start: 0, end: past, position: 0 }] : [] };
}
