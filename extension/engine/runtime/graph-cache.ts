// Builds the steerable ONNX graph for a checkpoint and keeps it in a cache folder keyed by a
// fingerprint of the config, the weights, the builder version and the options. A build writes into a
// private temporary folder that is renamed into place only when complete, so an interrupted build
// leaves no broken cache entry and a second open costs only a session load. Each entry keeps the
// checksums of the files it wrote, and is checked against them before use: a damaged entry is built
// again, never handed to onnxruntime. Partial folders of builds that were killed are removed.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from '../../common/model-spec';
import { buildDecoderGraph, scalesName, type BuildOptions, type Precision, type WeightPlan } from '../graph/graph-builder';
import { blockBytes, quantizeBlocks } from '../graph/quantize-blocks';
import { DataType, encodeModel, type TensorDef } from '../graph/onnx-proto';
import { throwIfCancelled, type Progress } from './progress';
import { fileIdentity } from '../checkpoint/content-hash';
import { CheckpointError } from '../checkpoint/errors';
import { writeFileAtomically } from '../atomic-write';

/** Bumped whenever the emitted graph changes, so stale cache entries are never reused. */
export const GRAPH_BUILDER_VERSION = 8;
const WEIGHTS_FILE = 'weights.bin';
const MODEL_FILE = 'model.onnx';
/** The size and sha256 of each file of an entry, and the file identities last checked against them. */
const CHECKSUMS_FILE = 'checksums.json';
/** External data offsets aligned so onnxruntime can map weights straight from the file. */
const ALIGNMENT = 65536;

/** A checkpoint's tensors (CheckpointWeights, or a test's transform of them). */
export interface WeightSource {
  readonly tensors: ReadonlyMap<string, { dtype: string; shape?: readonly number[] }>;
  readFloat32(name: string): Promise<Float32Array>;
  /** The tensor's bytes as stored. */
  readBytes(name: string): Promise<Uint8Array>;
}

/** Writes and hash updates are split so no single call exceeds what Node accepts (2 GiB − 1). */
const MAX_WRITE_BYTES = 1 << 30;

export interface GraphOptions {
  precision: Precision;
  /** False builds without steering blocks; only the benchmark does, to price them. */
  steering?: boolean;
}

function buildOptions(options: GraphOptions): BuildOptions {
  return { precision: options.precision, steering: options.steering ?? true };
}

export function defaultCacheRoot(): string {
  return process.env.THINKSCOPE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'thinkscope', 'graphs');
}

/** Where the hashes of checkpoint files are remembered (see checkpoint/content-hash.ts). */
export function fileHashFolder(cacheRoot: string): string {
  return join(cacheRoot, '.file-hashes');
}

export function graphFingerprint(configText: string, weightsFingerprint: string, options: GraphOptions): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ builder: GRAPH_BUILDER_VERSION, options: buildOptions(options), weightsFingerprint }));
  hash.update(configText);
  return hash.digest('hex').slice(0, 32);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

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
    requireFinite(name, source, new Uint16Array(bytes.byteOffset % 2 === 0 ? bytes.buffer : bytes.slice().buffer, bytes.byteOffset % 2 === 0 ? bytes.byteOffset : 0, bytes.byteLength / 2), plan.stored16 === 'F16' ? 0x7c00 : 0x7f80);
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
async function writeWeights(dir: string, weights: WeightPlan[], source: WeightSource, progress: Progress): Promise<{ tensors: TensorDef[]; checksum: FileChecksum }> {
  const file = await open(join(dir, WEIGHTS_FILE), 'w');
  const tensors: TensorDef[] = [];
  // The file's bytes in order: each tensor, and the zeros of the alignment gap before it.
  const hash = createHash('sha256');
  let offset = 0;
  try {
    for (const [i, plan] of weights.entries()) {
      throwIfCancelled(progress.signal);
      progress.report?.({ message: 'building the model graph (first open only)', done: i, total: weights.length });
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

interface FileChecksum {
  size: number;
  sha256: string;
}

interface Checksums {
  files: Record<string, FileChecksum>;
  /** Per file, the identity (inode, size, times) it had when last found to match: unchanged files are not read again. */
  checked: Record<string, string>;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Why a cache entry cannot be used (a file missing, cut short or changed since it was written), or null when it is sound. */
async function damage(dir: string): Promise<string | null> {
  let checksums: Checksums;
  try {
    checksums = JSON.parse(await readFile(join(dir, CHECKSUMS_FILE), 'utf8')) as Checksums;
    if (typeof checksums.files !== 'object' || typeof checksums.checked !== 'object') throw new Error();
  } catch {
    return `${CHECKSUMS_FILE} is missing or unreadable`;
  }
  let rechecked = false;
  for (const name of [WEIGHTS_FILE, MODEL_FILE]) {
    const expected = checksums.files[name];
    const path = join(dir, name);
    const identity = await fileIdentity(path).catch(() => null);
    if (!expected || identity === null) return `${name} is missing`;
    if (checksums.checked[name] === identity) continue;
    const { size } = await stat(path);
    if (size !== expected.size) return `${name} has ${size} bytes, ${expected.size} were written`;
    if ((await sha256Of(path)) !== expected.sha256) return `${name} does not match the checksum written with it`;
    checksums.checked[name] = identity;
    rechecked = true;
  }
  if (rechecked) await writeFileAtomically(join(dir, CHECKSUMS_FILE), JSON.stringify(checksums));
  return null;
}

/** Removes the partial folders of builds whose process is gone (killed, or the editor closed mid-build). */
async function removeStalePartials(cacheRoot: string): Promise<void> {
  for (const name of await readdir(cacheRoot).catch(() => [] as string[])) {
    const pid = /^\.[0-9a-f]+\.(\d+)\.[0-9a-f]+\.partial$/.exec(name)?.[1];
    if (pid !== undefined && !processIsAlive(Number(pid))) await rm(join(cacheRoot, name), { recursive: true, force: true });
  }
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface CachedGraph {
  modelPath: string;
  fingerprint: string;
  built: boolean;
}

/** Returns the cached graph for this checkpoint, building it first if needed. */
export async function ensureGraph(
  spec: ModelSpec,
  fingerprint: string,
  source: WeightSource,
  progress: Progress,
  cacheRoot = defaultCacheRoot(),
  options: GraphOptions = { precision: 'fp32' },
): Promise<CachedGraph> {
  const finalDir = join(cacheRoot, fingerprint);
  const modelPath = join(finalDir, MODEL_FILE);
  await removeStalePartials(cacheRoot);
  if (await exists(finalDir)) {
    const problem = await damage(finalDir);
    if (problem === null) return { modelPath, fingerprint, built: false };
    const message = `the cached graph of this model is damaged (${problem}): building it again`;
    console.warn(`thinkscope: ${message} (${finalDir})`);
    progress.report?.({ message, done: 0, total: 1 });
    await rm(finalDir, { recursive: true, force: true });
  }

  await mkdir(cacheRoot, { recursive: true });
  const workDir = join(cacheRoot, `.${fingerprint}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  await mkdir(workDir);
  try {
    const embeddingDtype = source.tensors.get('model.embed_tokens.weight')?.dtype;
    const built = buildDecoderGraph(spec, { ...buildOptions(options), embeddingDtype: embeddingDtype === 'F16' || embeddingDtype === 'BF16' ? embeddingDtype : 'F32' });
    const { tensors: weightTensors, checksum } = await writeWeights(workDir, built.weights, source, progress);
    const model = encodeModel({
      graph: { ...built.graph, initializers: [...built.graph.initializers, ...weightTensors] },
      opsets: [
        { domain: '', version: 21 },
        { domain: 'com.microsoft', version: 1 },
      ],
      producerName: 'thinkscope',
      producerVersion: String(GRAPH_BUILDER_VERSION),
    });
    await writeFile(join(workDir, MODEL_FILE), model);
    const checksums: Checksums = {
      files: { [WEIGHTS_FILE]: checksum, [MODEL_FILE]: { size: model.length, sha256: createHash('sha256').update(model).digest('hex') } },
      checked: { [WEIGHTS_FILE]: await fileIdentity(join(workDir, WEIGHTS_FILE)), [MODEL_FILE]: await fileIdentity(join(workDir, MODEL_FILE)) },
    };
    await writeFile(join(workDir, CHECKSUMS_FILE), JSON.stringify(checksums));
    throwIfCancelled(progress.signal);
    try {
      await rename(workDir, finalDir);
    } catch (error) {
      // Another process finished the same build first: its result is identical.
      if (!(await exists(modelPath))) throw error;
      await rm(workDir, { recursive: true, force: true });
    }
    return { modelPath, fingerprint, built: true };
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}
