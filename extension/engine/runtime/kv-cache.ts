// Cutting KV caches as values. The first n positions of a cache equal the cache of a pass over just
// those tokens (a causal model's keys and values at a position depend only on the tokens up to it).

import * as ort from 'onnxruntime-node';
import type { KvCache } from './decoder-session';

/**
 * Memory reused cut after cut: TTS cuts a trace's cache to the prefix each pack reads, and a new cache
 * each time would leave the last one's memory for the garbage collector while the next is made. A
 * cache cut into it holds until the next cut into it.
 */
export class CutBuffer {
  private readonly buffers = new Map<string, Float32Array>();

  /** Room for cuts of up to `positions` positions. */
  constructor(private readonly positions: number) {}

  /** `count` floats of the buffer for `name`, which holds a tensor of `perPosition` floats a position. */
  floats(name: string, perPosition: number, count: number): Float32Array {
    if (count > perPosition * this.positions) throw new RangeError(`a cut of ${count / perPosition} positions does not fit a buffer of ${this.positions}`);
    let buffer = this.buffers.get(name);
    if (!buffer) this.buffers.set(name, (buffer = new Float32Array(perPosition * this.positions)));
    return buffer.subarray(0, count);
  }
}

/**
 * The first `length` positions of `cache`: the cache itself when it holds just those, else a copy (into
 * `into` when given). Keys are stored [kvHeads, headDim, T] and values [kvHeads, T, headDim] (graph-builder's layout).
 */
export function cachePrefix(cache: KvCache, length: number, into?: CutBuffer): KvCache {
  if (!Number.isInteger(length) || length < 0 || length > cache.length) throw new RangeError(`cannot keep ${length} positions of a cache that holds ${cache.length}`);
  if (length === cache.length) return cache;
  return {
    length,
    keys: cache.keys.map((tensor, l) => truncate(tensor, 2, cache.length, length, into, `k${l}`)),
    values: cache.values.map((tensor, l) => truncate(tensor, 1, cache.length, length, into, `v${l}`)),
  };
}

/** The first `to` of `from` positions of a [heads, x, y] tensor whose axis 1 or 2 holds positions. */
function truncate(tensor: ort.Tensor, axis: 1 | 2, from: number, to: number, into: CutBuffer | undefined, name: string): ort.Tensor {
  if (tensor.dims[axis] !== from) throw new Error(`a cache tensor has ${tensor.dims[axis]} positions; the cache says ${from}`);
  const dims = [...tensor.dims];
  dims[axis] = to;
  const source = tensor.data as Float32Array;
  // Row-major, so the tensor is a run of contiguous blocks, each cut: per head for axis 1, per (head,
  // row) for axis 2; a block holds a position's elements (axis 1) or one element per position.
  const blocks = axis === 1 ? dims[0] : dims[0] * dims[1];
  const perPosition = axis === 1 ? dims[2] : 1;
  const [stride, take] = [from * perPosition, to * perPosition];
  const out = into ? into.floats(name, blocks * perPosition, blocks * take) : new Float32Array(blocks * take);
  for (let i = 0; i < blocks; i++) out.set(source.subarray(i * stride, i * stride + take), i * take);
  return new ort.Tensor('float32', out, dims);
}
