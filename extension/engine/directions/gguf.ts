// GGUF v3 (and v2, the same layout) reading and writing, and llama.cpp control vectors on top of it.
// Layout, little-endian: "GGUF", u32 version, u64 tensor count, u64 metadata count, the metadata
// key/values, the tensor infos (name, n_dims, dims (ne[0] first), ggml type, offset), padding to
// `general.alignment` (default 32), then the tensor data, each tensor at its offset from there.
// Files come from strangers: every count, length and offset is checked against the bytes present
// before anything is allocated.

import { f16ToF32 } from '../checkpoint/dtypes';

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const GGUF_DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4; // GGML_MAX_DIMS

export enum GgufType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** ggml tensor types: this module reads F32 and F16; a model file writer may store any of these. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
}
const GGML_F32 = GgmlType.F32;
const GGML_F16 = GgmlType.F16;

/** Values per block and bytes per block of each type (Q4_0 and Q8_0: an f16 scale and 32 codes). */
const GGML_LAYOUT: Record<GgmlType, { values: number; bytes: number }> = {
  [GgmlType.F32]: { values: 1, bytes: 4 },
  [GgmlType.F16]: { values: 1, bytes: 2 },
  [GgmlType.Q4_0]: { values: 32, bytes: 2 + 16 },
  [GgmlType.Q8_0]: { values: 32, bytes: 2 + 32 },
};

/** Bytes a tensor of `count` values takes in `type` (whole blocks; ggml blocks run along dims[0]). */
export function ggmlBytes(type: GgmlType, count: number): number {
  const layout = GGML_LAYOUT[type];
  if (count % layout.values !== 0) throw new GgufError(`${count} values do not fill whole blocks of ${layout.values} (ggml type ${type})`);
  return (count / layout.values) * layout.bytes;
}

export type GgufScalar = number | bigint | boolean | string;
export interface GgufValue {
  type: GgufType;
  /** For ARRAY: the type of its items. */
  itemType?: GgufType;
  value: GgufScalar | GgufScalar[];
}

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the fastest-varying (a vector of n values has dims [n]). */
  dims: number[];
  /** Values widened to float32. */
  data: Float32Array;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensor[];
}

export class GgufError extends Error {}

const SCALAR_BYTES: Partial<Record<GgufType, number>> = {
  [GgufType.UINT8]: 1, [GgufType.INT8]: 1, [GgufType.BOOL]: 1,
  [GgufType.UINT16]: 2, [GgufType.INT16]: 2,
  [GgufType.UINT32]: 4, [GgufType.INT32]: 4, [GgufType.FLOAT32]: 4,
  [GgufType.UINT64]: 8, [GgufType.INT64]: 8, [GgufType.FLOAT64]: 8,
};

class Reader {
  private readonly view: DataView;
  offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.length - this.offset;
  }

  need(count: number, what: string): void {
    if (count > this.left) throw new GgufError(`${this.what}: ${what} needs ${count} bytes at offset ${this.offset}, but the file ends ${this.left} bytes later (truncated or corrupt)`);
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  /** A u64 that must fit a safe integer and stay at or below `max` (a count or a length). */
  u64(what: string, max: number): number {
    this.need(8, what);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    if (value > BigInt(max)) throw new GgufError(`${this.what}: ${what} is ${value}, more than the file could hold (at most ${max})`);
    return Number(value);
  }

  string(what: string): string {
    const length = this.u64(`the length of ${what}`, this.left - 8);
    this.need(length, what);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }

  scalar(type: GgufType, what: string): GgufScalar {
    if (type === GgufType.STRING) return this.string(what);
    const size = SCALAR_BYTES[type];
    if (size === undefined) throw new GgufError(`${this.what}: ${what} has value type ${type}, which is not a GGUF scalar type (0..12 except 9)`);
    this.need(size, what);
    const at = this.offset;
    this.offset += size;
    const v = this.view;
    switch (type) {
      case GgufType.UINT8: return v.getUint8(at);
      case GgufType.INT8: return v.getInt8(at);
      case GgufType.BOOL: return v.getUint8(at) !== 0;
      case GgufType.UINT16: return v.getUint16(at, true);
      case GgufType.INT16: return v.getInt16(at, true);
      case GgufType.UINT32: return v.getUint32(at, true);
      case GgufType.INT32: return v.getInt32(at, true);
      case GgufType.FLOAT32: return v.getFloat32(at, true);
      case GgufType.UINT64: return v.getBigUint64(at, true);
      case GgufType.INT64: return v.getBigInt64(at, true);
      default: return v.getFloat64(at, true);
    }
  }

  value(what: string): GgufValue {
    const type = this.u32(`the type of ${what}`) as GgufType;
    if (type !== GgufType.ARRAY) return { type, value: this.scalar(type, what) };
    const itemType = this.u32(`the item type of ${what}`) as GgufType;
    if (itemType === GgufType.ARRAY) throw new GgufError(`${this.what}: ${what} is an array of arrays, which control vectors never use`);
    // Every item takes at least one byte (strings at least 8), so a larger count is a lie.
    const minItem = itemType === GgufType.STRING ? 8 : (SCALAR_BYTES[itemType] ?? 1);
    const count = this.u64(`the length of ${what}`, Math.floor(this.left / minItem));
    const items: GgufScalar[] = [];
    for (let i = 0; i < count; i++) items.push(this.scalar(itemType, `${what}[${i}]`));
    return { type, itemType, value: items };
  }
}

/** Parses a whole GGUF file held in memory. F32 and F16 tensors are read; other ggml types are refused by name. */
export function readGguf(bytes: Uint8Array, source = 'GGUF file'): GgufFile {
  const r = new Reader(bytes, source);
  if (bytes.length < 4 || r.u32('the magic') !== GGUF_MAGIC) throw new GgufError(`${source}: not a GGUF file (it does not start with "GGUF")`);
  const version = r.u32('the version');
  if (version !== 2 && version !== 3) throw new GgufError(`${source}: GGUF version ${version} is not supported (expected 2 or 3)`);
  // A tensor info takes at least 8 (name) + 4 + 8 + 4 + 8 bytes, a key/value at least 8 + 4 + 1.
  const tensorCount = r.u64('the tensor count', Math.floor(r.left / 32));
  const kvCount = r.u64('the metadata count', Math.floor(r.left / 13));

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = r.string(`metadata key ${i}`);
    if (metadata.has(key)) throw new GgufError(`${source}: metadata key "${key}" appears twice`);
    metadata.set(key, r.value(`metadata "${key}"`));
  }
  const alignmentValue = metadata.get('general.alignment');
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (alignmentValue) {
    const a = alignmentValue.value;
    if (alignmentValue.type !== GgufType.UINT32 || typeof a !== 'number' || a === 0 || (a & (a - 1)) !== 0) {
      throw new GgufError(`${source}: general.alignment must be a u32 power of two, got ${String(a)}`);
    }
    alignment = a;
  }

  const infos: { name: string; dims: number[]; type: number; offset: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = r.string(`the name of tensor ${i}`);
    if (names.has(name)) throw new GgufError(`${source}: tensor "${name}" appears twice`);
    names.add(name);
    const nDims = r.u32(`the dimension count of tensor "${name}"`);
    if (nDims < 1 || nDims > MAX_DIMS) throw new GgufError(`${source}: tensor "${name}" has ${nDims} dimensions (expected 1..${MAX_DIMS})`);
    const dims = Array.from({ length: nDims }, (_, d) => r.u64(`dimension ${d} of tensor "${name}"`, bytes.length));
    const type = r.u32(`the type of tensor "${name}"`);
    const offset = r.u64(`the offset of tensor "${name}"`, bytes.length);
    infos.push({ name, dims, type, offset });
  }
  const dataStart = alignUp(r.offset, alignment);

  const tensors = infos.map(({ name, dims, type, offset }): GgufTensor => {
    if (type !== GGML_F32 && type !== GGML_F16) throw new GgufError(`${source}: tensor "${name}" has ggml type ${type}; only F32 (0) and F16 (1) are supported`);
    if (offset % alignment !== 0) throw new GgufError(`${source}: tensor "${name}" starts at offset ${offset}, not a multiple of the alignment ${alignment}`);
    const count = dims.reduce((a, b) => a * b, 1);
    const size = count * (type === GGML_F32 ? 4 : 2);
    const start = dataStart + offset;
    if (!Number.isSafeInteger(start + size) || start + size > bytes.length) {
      throw new GgufError(`${source}: tensor "${name}" ([${dims.join(', ')}]) ends at byte ${start + size}, past the end of the file (${bytes.length} bytes)`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, size);
    if (type === GGML_F16) return { name, dims, data: f16ToF32(Uint16Array.from({ length: count }, (_, i) => view.getUint16(i * 2, true))) };
    return { name, dims, data: Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true)) };
  });
  return { version, metadata, tensors };
}

export interface GgufToWrite {
  /** Written in this order. */
  metadata: [string, GgufValue][];
  /** F32 tensors. */
  tensors: { name: string; dims: number[]; data: Float32Array }[];
  alignment?: number;
}

/** A tensor as the header describes it; its data is `ggmlBytes(type, count)` bytes at `offset` from the data start. */
export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: GgmlType;
}

/**
 * Everything of a GGUF v3 file before the tensor data (padded to the alignment), and where each
 * tensor's data goes from there: a writer then streams the tensors one at a time.
 */
export function ggufHeader(metadataEntries: [string, GgufValue][], tensors: readonly GgufTensorInfo[], alignment = GGUF_DEFAULT_ALIGNMENT): { header: Uint8Array; offsets: number[]; dataBytes: number } {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const push = (bytes: Uint8Array) => {
    chunks.push(bytes);
    length += bytes.length;
  };
  const fixed = (size: number, write: (view: DataView) => void) => {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    push(bytes);
  };
  const u32 = (v: number) => fixed(4, (d) => d.setUint32(0, v, true));
  const u64 = (v: number | bigint) => fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
  const string = (s: string) => {
    const bytes = new TextEncoder().encode(s);
    u64(bytes.length);
    push(bytes);
  };
  const scalar = (type: GgufType, v: GgufScalar) => {
    switch (type) {
      case GgufType.STRING: return string(String(v));
      case GgufType.UINT8: return fixed(1, (d) => d.setUint8(0, Number(v)));
      case GgufType.INT8: return fixed(1, (d) => d.setInt8(0, Number(v)));
      case GgufType.BOOL: return fixed(1, (d) => d.setUint8(0, v ? 1 : 0));
      case GgufType.UINT16: return fixed(2, (d) => d.setUint16(0, Number(v), true));
      case GgufType.INT16: return fixed(2, (d) => d.setInt16(0, Number(v), true));
      case GgufType.UINT32: return fixed(4, (d) => d.setUint32(0, Number(v), true));
      case GgufType.INT32: return fixed(4, (d) => d.setInt32(0, Number(v), true));
      case GgufType.FLOAT32: return fixed(4, (d) => d.setFloat32(0, Number(v), true));
      case GgufType.UINT64: return fixed(8, (d) => d.setBigUint64(0, BigInt(v), true));
      case GgufType.INT64: return fixed(8, (d) => d.setBigInt64(0, BigInt(v), true));
      case GgufType.FLOAT64: return fixed(8, (d) => d.setFloat64(0, Number(v), true));
      default: throw new GgufError(`cannot write GGUF value type ${type} as a scalar`);
    }
  };

  u32(GGUF_MAGIC);
  u32(3);
  u64(tensors.length);
  const metadata = metadataEntries.filter(([key]) => key !== 'general.alignment');
  if (alignment !== GGUF_DEFAULT_ALIGNMENT) metadata.push(['general.alignment', { type: GgufType.UINT32, value: alignment }]);
  u64(metadata.length);
  for (const [key, entry] of metadata) {
    string(key);
    u32(entry.type);
    if (entry.type === GgufType.ARRAY) {
      const items = entry.value as GgufScalar[];
      u32(entry.itemType!);
      u64(items.length);
      for (const item of items) scalar(entry.itemType!, item);
    } else scalar(entry.type, entry.value as GgufScalar);
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    string(tensor.name);
    u32(tensor.dims.length);
    tensor.dims.forEach((d) => u64(d));
    u32(tensor.type);
    u64(offset);
    offsets.push(offset);
    offset = alignUp(offset + ggmlBytes(tensor.type, tensor.dims.reduce((a, b) => a * b, 1)), alignment);
  }
  push(new Uint8Array(alignUp(length, alignment) - length));
  return { header: concatBytes(chunks, length), offsets, dataBytes: offset };
}

/** Serialises a GGUF v3 file with F32 tensors. */
export function writeGguf(file: GgufToWrite): Uint8Array {
  for (const tensor of file.tensors) {
    const count = tensor.dims.reduce((a, b) => a * b, 1);
    if (count !== tensor.data.length) throw new GgufError(`tensor "${tensor.name}": dims [${tensor.dims.join(', ')}] hold ${count} values, the data has ${tensor.data.length}`);
  }
  const { header, offsets, dataBytes } = ggufHeader(
    file.metadata,
    file.tensors.map((t) => ({ name: t.name, dims: t.dims, type: GgmlType.F32 })),
    file.alignment,
  );
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header);
  const view = new DataView(out.buffer);
  file.tensors.forEach((tensor, i) => tensor.data.forEach((x, j) => view.setFloat32(header.length + offsets[i] + j * 4, x, true)));
  return out;
}

function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

// ---- llama.cpp control vectors ----

/**
 * A control vector: `direction.{k}` is added to the output of block k (blocks.{k}.hook_resid_post),
 * blocks counted from 0. llama.cpp never steers block 0, so k starts at 1.
 */
export interface ControlVector {
  /** `controlvector.model_hint`: the architecture it was made for (e.g. "qwen2"), or null. */
  modelHint: string | null;
  /** Block indices, ascending. */
  layers: number[];
  vectors: Float32Array[];
}

export function parseControlVector(bytes: Uint8Array, source = 'control vector'): ControlVector {
  const file = readGguf(bytes, source);
  const architecture = file.metadata.get('general.architecture')?.value;
  if (architecture !== undefined && architecture !== 'controlvector') {
    throw new GgufError(`${source}: general.architecture is "${String(architecture)}": this is a model file, not a control vector ("controlvector")`);
  }
  const hint = file.metadata.get('controlvector.model_hint')?.value;
  const entries: { layer: number; data: Float32Array }[] = [];
  let hidden: number | null = null;
  for (const tensor of file.tensors) {
    const match = /^direction\.(\d+)$/.exec(tensor.name);
    if (!match) throw new GgufError(`${source}: tensor "${tensor.name}" is not a control-vector tensor (expected direction.{block})`);
    const layer = Number(match[1]);
    if (layer === 0) throw new GgufError(`${source}: tensor direction.0 is invalid: llama.cpp control vectors start at block 1`);
    if (tensor.dims.length !== 1 && tensor.dims.slice(1).some((d) => d !== 1)) throw new GgufError(`${source}: tensor "${tensor.name}" has dims [${tensor.dims.join(', ')}]; expected one vector [n_embd]`);
    if (hidden !== null && tensor.data.length !== hidden) throw new GgufError(`${source}: tensor "${tensor.name}" has ${tensor.data.length} values; the others have ${hidden}`);
    hidden = tensor.data.length;
    if (!tensor.data.every(Number.isFinite)) throw new GgufError(`${source}: tensor "${tensor.name}" contains a value that is not a finite number`);
    entries.push({ layer, data: tensor.data });
  }
  if (entries.length === 0) throw new GgufError(`${source}: the file has no direction.{block} tensors`);
  entries.sort((a, b) => a.layer - b.layer);
  return { modelHint: typeof hint === 'string' ? hint : null, layers: entries.map((e) => e.layer), vectors: entries.map((e) => e.data) };
}

/** The GGUF bytes llama.cpp, repeng and EasySteer read: general.architecture "controlvector", model hint, layer count, direction.{k}. */
export function controlVectorBytes(vector: ControlVector): Uint8Array {
  if (vector.layers.length !== vector.vectors.length) throw new GgufError(`control vector: ${vector.layers.length} layers but ${vector.vectors.length} vectors`);
  const zero = vector.layers.indexOf(0);
  if (zero !== -1) throw new GgufError('control vector: llama.cpp cannot steer the output of block 0; leave that layer out');
  return writeGguf({
    metadata: [
      ['general.architecture', { type: GgufType.STRING, value: 'controlvector' }],
      ['controlvector.model_hint', { type: GgufType.STRING, value: vector.modelHint ?? '' }],
      ['controlvector.layer_count', { type: GgufType.UINT32, value: vector.layers.length }],
    ],
    tensors: vector.layers.map((layer, i) => ({ name: `direction.${layer}`, dims: [vector.vectors[i].length], data: vector.vectors[i] })),
  });
}
