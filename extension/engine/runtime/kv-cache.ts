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

/**
 * Memory for joined caches, reused join after join: TTS joins two caches' prefixes once per pack, and a
 * new cache each time would leave the last one's memory for the garbage collector while the next is
 * made. A cache joined into it holds until the next join into it.
 */
export class JoinBuffer {
  private readonly buffers = new Map<string, Float32Array>();

  /** Room for joins of up to `positions` positions. */
  constructor(private readonly positions: number) {}

  /** `count` floats of the buffer for `name`, which holds a tensor of `perPosition` floats a position. */
  floats(name: string, perPosition: number, count: number): Float32Array {
    if (count > perPosition * this.positions) throw new RangeError(`a join of ${count / perPosition} positions does not fit a buffer of ${this.positions}`);
    let buffer = this.buffers.get(name);
    if (!buffer) this.buffers.set(name, (buffer = new Float32Array(perPosition * this.positions)));
    return buffer.subarray(0, count);
  }
}

/**
 * The first `aLength` positions of `a` followed by the first `bLength` of `b`, as one cache, copied
 * once into `into` (a prefix of either alone is `cachePrefix`; a whole cache alone is not copied).
 */
export function concatCaches(a: KvCache, b: KvCache, aLength: number, bLength: number, into: JoinBuffer): KvCache {
  if (bLength === 0 && aLength === a.length) return a;
  if (aLength === 0 && bLength === b.length) return b;
  if (!(aLength <= a.length && bLength <= b.length)) throw new RangeError(`cannot keep ${aLength} and ${bLength} positions of caches that hold ${a.length} and ${b.length}`);
  return {
    length: aLength + bLength,
    keys: a.keys.map((tensor, l) => joinAxis(tensor, b.keys[l], 2, aLength, bLength, into, `k${l}`)),
    values: a.values.map((tensor, l) => joinAxis(tensor, b.values[l], 1, aLength, bLength, into, `v${l}`)),
  };
}

/** The first `keepA` and `keepB` positions of two [heads, x, y] tensors joined along axis 1 or 2 (the axes that hold positions). */
function joinAxis(a: ort.Tensor, b: ort.Tensor, axis: 1 | 2, keepA: number, keepB: number, into: JoinBuffer, name: string): ort.Tensor {
  const heads = a.dims[0];
  const dims = [...a.dims];
  dims[axis] = keepA + keepB;
  const sa = a.data as Float32Array;
  const sb = b.data as Float32Array;
  // Row-major, so the tensors are runs of contiguous blocks to interleave: per head for axis 1, per
  // (head, row) for axis 2; a block holds a position's elements (axis 1) or one element per position.
  const blocks = axis === 1 ? heads : heads * a.dims[1];
  const perPosition = axis === 1 ? a.dims[2] : 1;
  const [strideA, strideB] = [a.dims[axis] * perPosition, b.dims[axis] * perPosition];
  const [takeA, takeB] = [keepA * perPosition, keepB * perPosition];
  const out = into.floats(name, blocks * perPosition, blocks * (takeA + takeB));
  for (let i = 0; i < blocks; i++) {
    out.set(sa.subarray(i * strideA, i * strideA + takeA), i * (takeA + takeB));
    out.set(sb.subarray(i * strideB, i * strideB + takeB), i * (takeA + takeB) + takeA);
  }
  return new ort.Tensor('float32', out, dims);
}
