// The first n positions of a KV cache, as a new immutable cache. A causal model's keys and values
// at a position depend only on the tokens up to it, so this equals the cache of a pass over just
// those tokens: one forward over a step and its answer cue also yields the step's prefix cache.

import * as ort from 'onnxruntime-node';
import type { KvCache } from '../../runtime/decoder-session';

/** Keys are stored [kvHeads, headDim, T] and values [kvHeads, T, headDim] (graph-builder's layout). */
export function cachePrefix(cache: KvCache, length: number): KvCache {
  if (!Number.isInteger(length) || length < 0 || length > cache.length) throw new RangeError(`cannot keep ${length} positions of a cache that holds ${cache.length}`);
  if (length === cache.length) return cache;
  return {
    length,
    keys: cache.keys.map((tensor) => truncateLastAxis(tensor, cache.length, length)),
    values: cache.values.map((tensor) => truncateMiddleAxis(tensor, cache.length, length)),
  };
}

function truncateLastAxis(tensor: ort.Tensor, from: number, to: number): ort.Tensor {
  const [heads, dim, positions] = tensor.dims;
  if (positions !== from) throw new Error(`a key tensor has ${positions} positions; the cache says ${from}`);
  const source = tensor.data as Float32Array;
  const out = new Float32Array(heads * dim * to);
  for (let row = 0; row < heads * dim; row++) out.set(source.subarray(row * from, row * from + to), row * to);
  return new ort.Tensor('float32', out, [heads, dim, to]);
}

function truncateMiddleAxis(tensor: ort.Tensor, from: number, to: number): ort.Tensor {
  const [heads, positions, dim] = tensor.dims;
  if (positions !== from) throw new Error(`a value tensor has ${positions} positions; the cache says ${from}`);
  const source = tensor.data as Float32Array;
  const out = new Float32Array(heads * to * dim);
  for (let head = 0; head < heads; head++) out.set(source.subarray(head * from * dim, (head * from + to) * dim), head * to * dim);
  return new ort.Tensor('float32', out, [heads, to, dim]);
}
