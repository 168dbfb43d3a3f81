// Reshaping KV caches as values. The first n positions of a cache equal the cache of a pass over just
// those tokens (a causal model's keys and values at a position depend only on the tokens up to it);
// two caches side by side let one forward continue either, each token seeing only its own part.

import * as ort from 'onnxruntime-node';
import type { KvCache } from './decoder-session';

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

/** `a`'s positions followed by `b`'s, as one cache of a.length + b.length slots. */
export function concatCaches(a: KvCache, b: KvCache): KvCache {
  return {
    length: a.length + b.length,
    keys: a.keys.map((tensor, l) => joinAxis(tensor, b.keys[l], 2)),
    values: a.values.map((tensor, l) => joinAxis(tensor, b.values[l], 1)),
  };
}

/** Two [heads, x, y] tensors joined along axis 1 or 2 (the axes that hold positions). */
function joinAxis(a: ort.Tensor, b: ort.Tensor, axis: 1 | 2): ort.Tensor {
  const heads = a.dims[0];
  const dims = [...a.dims];
  dims[axis] += b.dims[axis];
  const sa = a.data as Float32Array;
  const sb = b.data as Float32Array;
  const out = new Float32Array(sa.length + sb.length);
  // Row-major, so the tensors are runs of contiguous blocks to interleave: per head for axis 1, per
  // (head, row) for axis 2.
  const blocks = axis === 1 ? heads : heads * a.dims[1];
  const blockA = sa.length / blocks;
  const blockB = sb.length / blocks;
  for (let i = 0; i < blocks; i++) {
    out.set(sa.subarray(i * blockA, (i + 1) * blockA), i * (blockA + blockB));
    out.set(sb.subarray(i * blockB, (i + 1) * blockB), i * (blockA + blockB) + blockA);
  }
  return new ort.Tensor('float32', out, dims);
}
