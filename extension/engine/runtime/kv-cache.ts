// The KV cache as a value. Each layer's keys and values are stored position-major ([positions,
// kvHeads, headDim]), so the first n positions are a view, never a copy (a causal model's keys and
// values at a position depend only on the tokens up to it), and new positions are written after the
// last ones in place. A cache never changes: a store is only written beyond every position a cache
// of it holds, and a continuation of a prefix that another has already continued gets a store of its
// own when it is next read (copy on write), so forking a prefix is free until the fork is used.

import * as ort from 'onnxruntime-node';

/** Positions of room a copied store keeps beyond what it needs, so that decoding does not copy each step. */
const MAX_HEADROOM = 4096;

/** One cache lineage's memory: positions [0, filled) are written, [filled, capacity) are free. */
class KvStore {
  constructor(
    readonly keys: readonly Float32Array[],
    readonly values: readonly Float32Array[],
    readonly capacity: number,
    public filled: number,
  ) {}
}

/** New positions' keys and values per layer, [count, kvHeads, headDim] each. */
export interface KvRows {
  count: number;
  keys: readonly Float32Array[];
  values: readonly Float32Array[];
}

export class KvCache {
  private constructor(
    /** [kvHeads, headDim]: one position of one layer's keys (or values). */
    private readonly dims: readonly [number, number],
    private store: KvStore,
    /** Positions held in `store`, then those in `apart`. */
    private stored: number,
    /** Rows not yet in a store of this cache's own (see `extend`). */
    private apart: KvRows | null,
  ) {}

  /** The cache of no tokens for a model with these layers, KV heads and head size. */
  static empty(layers: number, kvHeads: number, headDim: number): KvCache {
    const none = () => Array.from({ length: layers }, () => new Float32Array(0));
    return new KvCache([kvHeads, headDim], new KvStore(none(), none(), 0, 0), 0, null);
  }

  /** Number of positions held. */
  get length(): number {
    return this.stored + (this.apart?.count ?? 0);
  }

  /** Floats of one position in one layer's keys (or values). */
  private get rowFloats(): number {
    return this.dims[0] * this.dims[1];
  }

  /** The first `length` positions: a view of the same memory. */
  prefix(length: number): KvCache {
    if (!Number.isInteger(length) || length < 0 || length > this.length) throw new RangeError(`cannot keep ${length} positions of a cache that holds ${this.length}`);
    if (length === this.length) return this;
    if (length > this.stored) this.settle(0);
    return new KvCache(this.dims, this.store, length, null);
  }

  /**
   * This cache followed by `rows`: written into the store in place when nothing has been written after
   * this cache's positions and there is room, else held apart until the new cache is read.
   */
  extend(rows: KvRows): KvCache {
    this.settle(rows.count);
    const { store } = this;
    const end = this.stored + rows.count;
    if (store.filled === this.stored && end <= store.capacity) {
      rows.keys.forEach((k, l) => store.keys[l].set(k, this.stored * this.rowFloats));
      rows.values.forEach((v, l) => store.values[l].set(v, this.stored * this.rowFloats));
      store.filled = end;
      return new KvCache(this.dims, store, end, null);
    }
    return new KvCache(this.dims, store, this.stored, rows);
  }

  /**
   * Per-layer tensors [positions, kvHeads, headDim] of the positions held, for the graph's past inputs.
   * `room`: positions about to be appended, kept free after them when the cache has to be copied.
   */
  tensors(room: number): { keys: ort.Tensor[]; values: ort.Tensor[] } {
    this.settle(room);
    const floats = this.stored * this.rowFloats;
    const tensor = (data: Float32Array) => new ort.Tensor('float32', data.subarray(0, floats), [this.stored, ...this.dims]);
    return { keys: this.store.keys.map(tensor), values: this.store.values.map(tensor) };
  }

  /** Moves rows held apart into a store of this cache's own, with room for `room` more positions and headroom. */
  private settle(room: number): void {
    const apart = this.apart;
    if (apart === null) return;
    const length = this.length;
    const capacity = length + Math.max(room, Math.min(length, MAX_HEADROOM));
    const copy = (source: readonly Float32Array[], added: readonly Float32Array[]) =>
      source.map((layer, l) => {
        const data = new Float32Array(capacity * this.rowFloats);
        data.set(layer.subarray(0, this.stored * this.rowFloats));
        data.set(added[l], this.stored * this.rowFloats);
        return data;
      });
    this.store = new KvStore(copy(this.store.keys, apart.keys), copy(this.store.values, apart.values), capacity, length);
    this.stored = length;
    this.apart = null;
  }
}
