// Writes the weights of a checkpoint's graphs into a folder: streamed into one external data file a
// tensor at a time (converted, transposed or block-quantized as the graph needs them), the table of the
// tensors in it, and the checksums the cache checks entries against. Runs on the build thread
// (graph-build-worker.ts), so what a build allocates is returned when it ends. The graphs themselves
// (one per set of steered hook kinds) are small and made over that table when a session opens.

import { createHash } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '../../common/model-spec';
import { buildDecoderGraph, scalesName, type BuildOptions, type WeightOptions, type WeightPlan } from '../graph/graph-builder';
import { blockBytes, quantizeBlocks } from '../graph/quantize-blocks';
import { DataType, encodeModel, type TensorDef } from '../graph/onnx-proto';
import type { ProgressUpdate } from './progress';
import { fileIdentity } from '../checkpoint/content-hash';
import { CheckpointError } from '../checkpoint/errors';

/** Bumped whenever the emitted graph changes, so stale cache entries are never reused. */
export const GRAPH_BUILDER_VERSION = 11;
export const WEIGHTS_FILE = 'weights.bin';
/** The weights file's tensors (name, type, shape and where they lie in it): what every graph of the entry reads. */
export const WEIGHT_TABLE_FILE = 'weights.json';
/** The size and sha256 of each file of an entry, and the file identities last checked against them. */
export const CHECKSUMS_FILE = 'checksums.json';
/** External data offsets aligned so onnxruntime can map weights straight from the file. */
const ALIGNMENT = 65536;

/** A checkpoint's tensors (CheckpointWeights, or a test's transform of them). Each read returns a fresh array the caller owns. */
export interface WeightSource {
  readonly tensors: ReadonlyMap<string, { dtype: string; shape?: readonly number[] }>;
  readFloat32(name: string): Promise<Float32Array>;
  /** The tensor's bytes as stored. */
  readBytes(name: string): Promise<Uint8Array>;
}

/** Writes and hash updates are split so no single call exceeds what Node accepts (2 GiB − 1). */
const MAX_WRITE_BYTES = 1 << 30;

async function readWeight(source: WeightSource, plan: WeightPlan): Promise<Float32Array> {
  const parts = await Promise.all(plan.sources.map((name) => source.readFloat32(name)));
  parts.forEach((part, i) => requireFinite(plan.sources[i], source, part));
  const data = parts.length === 1 ? parts[0] : new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  if (parts.length > 1) {
    let offset = 0;
    for (const part of parts) {
      data.set(part, offset);
      offset += part.length;
    }
  }
  if (plan.addOne) for (let i = 0; i < data.length; i++) data[i] = Math.fround(1 + data[i]);
  return data;
}

/** [rows, columns] row-major → [columns, rows], in tiles that stay in cache. */
function transpose(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    for (let c0 = 0; c0 < columns; c0 += tile) {
      const rEnd = Math.min(r0 + tile, rows);
      const cEnd = Math.min(c0 + tile, columns);
      for (let r = r0; r < rEnd; r++) for (let c = c0; c < cEnd; c++) out[c * rows + r] = data[r * columns + c];
    }
  }
  return out;
}

type EncodedTensor = { name: string; elemType: DataType; dims: number[]; bytes: Uint8Array };

/** The stored tensors of one weight: itself in float32 or as stored in 16 bits, or its block codes and scales. */
async function encodeWeight(plan: WeightPlan, source: WeightSource): Promise<EncodedTensor[]> {
  const asBytes = (array: Float32Array | Uint8Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (plan.stored16) {
    const [name] = plan.sources;
    const dtype = source.tensors.get(name)?.dtype;
    if (plan.sources.length !== 1 || plan.addOne || plan.transpose || dtype !== plan.stored16) throw new Error(`weight ${plan.name}: cannot be kept as a stored ${plan.stored16} tensor (${dtype})`);
    const bytes = await source.readBytes(name);
    // A read is a fresh array of its own (moved whole to this thread), so its bytes start aligned.
    requireFinite(name, source, new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2), plan.stored16 === 'F16' ? 0x7c00 : 0x7f80);
    return [{ name: plan.name, elemType: plan.stored16 === 'F16' ? DataType.FLOAT16 : DataType.BFLOAT16, dims: plan.dims, bytes }];
  }
  const data = await readWeight(source, plan);
  const expected = plan.dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`weight ${plan.name}: expected ${expected} values for shape [${plan.dims}], got ${data.length}`);
  if (plan.transpose) return [{ name: plan.name, elemType: DataType.FLOAT, dims: plan.dims, bytes: asBytes(transpose(data, plan.dims[1], plan.dims[0])) }];
  if (!plan.bits) return [{ name: plan.name, elemType: DataType.FLOAT, dims: plan.dims, bytes: asBytes(data) }];
  const [rows, columns] = plan.dims;
  const q = quantizeBlocks(data, rows, columns, plan.bits);
  const blocks = q.scales.length / rows;
  return [
    { name: plan.name, elemType: DataType.UINT8, dims: [rows, blocks, blockBytes(plan.bits)], bytes: q.codes },
    { name: scalesName(plan.name), elemType: DataType.FLOAT, dims: [rows, blocks], bytes: asBytes(q.scales) },
  ];
}

/** Refuses a checkpoint tensor holding NaN or an infinity, naming it and the first such element in its own layout. */
function requireFinite(name: string, source: WeightSource, values: Float32Array | Uint16Array, exponentMask = 0): void {
  let bad = -1;
  if (values instanceof Float32Array) {
    for (let i = 0; i < values.length && bad < 0; i++) if (!Number.isFinite(values[i])) bad = i;
  } else for (let i = 0; i < values.length && bad < 0; i++) if ((values[i] & exponentMask) === exponentMask) bad = i;
  if (bad < 0) return;
  const shape = source.tensors.get(name)?.shape ?? [];
  const columns = shape.at(-1) ?? 1;
  const where = shape.length > 1 ? `row ${Math.floor(bad / columns)}, column ${bad % columns}` : `element ${bad}`;
  throw new CheckpointError(`the weights hold a NaN or infinite value: ${name} at ${where}; the checkpoint is damaged or was saved from a diverged run.`);
}

/** Streams every weight into the external data file, one tensor in memory at a time; returns its tensors and the file's sha256. */
async function writeWeights(dir: string, weights: WeightPlan[], source: WeightSource, report: (update: ProgressUpdate) => void): Promise<{ tensors: TensorDef[]; checksum: FileChecksum }> {
  const file = await open(join(dir, WEIGHTS_FILE), 'w');
  const tensors: TensorDef[] = [];
  // The file's bytes in order: each tensor, and the zeros of the alignment gap before it.
  const hash = createHash('sha256');
  let offset = 0;
  try {
    for (const [i, plan] of weights.entries()) {
      report({ message: 'building the model graph (first open only)', done: i, total: weights.length });
      for (const tensor of await encodeWeight(plan, source)) {
        const aligned = Math.ceil(offset / ALIGNMENT) * ALIGNMENT;
        hash.update(new Uint8Array(aligned - offset));
        offset = aligned;
        // Hashed and written in parts: neither accepts 2 GiB or more at once.
        for (let done = 0; done < tensor.bytes.length; done += MAX_WRITE_BYTES) {
          const part = tensor.bytes.subarray(done, Math.min(tensor.bytes.length, done + MAX_WRITE_BYTES));
          hash.update(part);
          await file.write(part, 0, part.length, offset + done);
        }
        tensors.push({ name: tensor.name, elemType: tensor.elemType, dims: tensor.dims, external: { location: WEIGHTS_FILE, offset, length: tensor.bytes.length } });
        offset += tensor.bytes.length;
      }
    }
    await file.sync();
  } finally {
    await file.close();
  }
  return { tensors, checksum: { size: offset, sha256: hash.digest('hex') } };
}

export interface FileChecksum {
  size: number;
  sha256: string;
}

export interface Checksums {
  /** GRAPH_BUILDER_VERSION of the build that wrote the entry: an entry of an earlier one is never read again. */
  builder: number;
  files: Record<string, FileChecksum>;
  /** Per file, the identity (inode, size, times) it had when last found to match: unchanged files are not read again. */
  checked: Record<string, string>;
}

/** Writes the weights file, its table and their checksums into `dir` (an empty folder). The build is cancelled by stopping its thread. */
export async function writeWeightFiles(dir: string, spec: ModelSpec, options: WeightOptions, source: WeightSource, report: (update: ProgressUpdate) => void): Promise<void> {
  const { weights } = buildDecoderGraph(spec, { ...options, steeredKinds: [] });
  const { tensors, checksum } = await writeWeights(dir, weights, source, report);
  const table = Buffer.from(JSON.stringify(tensors));
  await writeFile(join(dir, WEIGHT_TABLE_FILE), table);
  const checksums: Checksums = {
    builder: GRAPH_BUILDER_VERSION,
    files: { [WEIGHTS_FILE]: checksum, [WEIGHT_TABLE_FILE]: { size: table.length, sha256: createHash('sha256').update(table).digest('hex') } },
    checked: { [WEIGHTS_FILE]: await fileIdentity(join(dir, WEIGHTS_FILE)), [WEIGHT_TABLE_FILE]: await fileIdentity(join(dir, WEIGHT_TABLE_FILE)) },
  };
  await writeFile(join(dir, CHECKSUMS_FILE), JSON.stringify(checksums));
}

/** The ONNX model of the graph with `options` over a weights table (`WEIGHT_TABLE_FILE`). */
export function encodeGraph(spec: ModelSpec, options: BuildOptions, weightTensors: readonly TensorDef[]): Uint8Array {
  const built = buildDecoderGraph(spec, options);
  return encodeModel({
    graph: { ...built.graph, initializers: [...built.graph.initializers, ...weightTensors] },
    opsets: [
      { domain: '', version: 21 },
      { domain: 'com.microsoft', version: 1 },
    ],
    producerName: 'thinkscope',
    producerVersion: String(GRAPH_BUILDER_VERSION),
  });
}

/** What the build thread starts with: everything but the tensors' contents, which it asks for one by one. */
export interface BuildThreadData {
  dir: string;
  spec: ModelSpec;
  options: WeightOptions;
  tensors: [string, { dtype: string; shape?: readonly number[] }][];
}

/** From the build thread: a tensor wanted, progress, or the end. */
export type BuildThreadMessage =
  | { type: 'read'; id: number; name: string; as: 'float32' | 'bytes' }
  | { type: 'progress'; message: string; done: number; total: number }
  | { type: 'done' }
  | { type: 'failed'; name: string; message: string };

/** To the build thread: a tensor's contents, its buffer moved, not copied. */
export interface ReadReply {
  id: number;
  buffer: ArrayBuffer;
}
