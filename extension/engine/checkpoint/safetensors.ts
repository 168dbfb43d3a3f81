// Safetensors files: a u64-LE header length, a JSON header naming every tensor's dtype, shape and byte
// range, then the raw little-endian data. The whole header is validated before any tensor is read, and
// tensors are read one at a time at their offsets, so a multi-GB file is never held in memory at once.
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CheckpointError } from './errors';
import { DTYPE_BYTES, SUPPORTED_DTYPES, f32ToBf16, f32ToF16, isDtype, widenInPlace, type Dtype } from './dtypes';

/** Where one tensor lives. `byteOffset` is absolute within the file (header included). */
export interface TensorInfo {
  dtype: Dtype;
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsFile {
  readonly path: string;
  readonly fileSize: number;
  /** The length prefix and the JSON header, exactly as stored. */
  readonly headerBytes: Uint8Array;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** The tensor's stored bytes, unconverted. */
  readBytes(name: string): Promise<Uint8Array>;
  /** F32, F16 or BF16 as float32 (the 16-bit formats widen exactly). */
  readFloat32(name: string): Promise<Float32Array>;
  /** I32, or I64 whose values fit in int32. */
  readInt32(name: string): Promise<Int32Array>;
  close(): Promise<void>;
}

/** The safetensors format caps the header at 100 MB; anything larger is not a safetensors file. */
const MAX_HEADER_BYTES = 100_000_000;
/** Reads are split so no single read call exceeds what the OS accepts. */
const MAX_READ_BYTES = 1 << 30;

export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new CheckpointError(`${path}: cannot open the weights file (${describeFsError(error)}).`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new CheckpointError(`${path} is ${info.isDirectory() ? 'a folder' : 'not a regular file'}; expected a .safetensors weights file.`);
    const fileSize = info.size;
    const { headerBytes, tensors, metadata } = await readHeader(handle, path, fileSize);
    return new SafetensorsReader(path, handle, fileSize, headerBytes, tensors, metadata);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readHeader(handle: FileHandle, path: string, fileSize: number) {
  if (fileSize < 8) {
    throw new CheckpointError(`${path}: file is ${fileSize} bytes, too short for a safetensors header (truncated?).`);
  }
  const prefix = await readExactly(handle, path, 0, 8);
  const headerLength = new DataView(prefix.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(fileSize - 8)) {
    throw new CheckpointError(
      `${path}: header length ${headerLength} runs past the end of the ${fileSize}-byte file (truncated or not safetensors).`,
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(`${path}: header length ${headerLength} exceeds the 100 MB safetensors limit.`);
  }
  const length = Number(headerLength);
  const json = await readExactly(handle, path, 8, length);
  const headerBytes = new Uint8Array(8 + length);
  headerBytes.set(prefix, 0);
  headerBytes.set(json, 8);
  const { tensors, metadata } = parseHeader(new TextDecoder().decode(json), path, 8 + length, fileSize - 8 - length);
  return { headerBytes, tensors, metadata };
}

/**
 * Files with the same tensor names and shapes (a base model and its fine-tune) have identical headers,
 * so a few data blocks are hashed too; any fine-tune changes nearly every block.
 */
/** Validates every entry of the header; `dataStart` is the absolute offset of the data section. */
function parseHeader(text: string, path: string, dataStart: number, dataSize: number) {
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${path}: the safetensors header is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CheckpointError(`${path}: the safetensors header must be a JSON object of tensors.`);
  }
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, path);
      continue;
    }
    const { dtype, shape, begin, end } = parseEntry(name, entry, path, dataSize);
    tensors.set(name, { dtype, shape, byteOffset: dataStart + begin, byteLength: end - begin });
    ranges.push({ name, begin, end });
  }
  checkNoOverlap(ranges, path);
  return { tensors, metadata };
}

function checkNoOverlap(ranges: { name: string; begin: number; end: number }[], path: string): void {
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let furthest: (typeof ranges)[number] | undefined;
  for (const cur of ranges) {
    if (cur.end === cur.begin) continue;
    if (furthest && cur.begin < furthest.end) {
      throw new CheckpointError(
        `${path}: tensors "${furthest.name}" [${furthest.begin}, ${furthest.end}) and "${cur.name}" [${cur.begin}, ${cur.end}) overlap.`,
      );
    }
    if (!furthest || cur.end > furthest.end) furthest = cur;
  }
}

function parseEntry(name: string, entry: unknown, path: string, dataSize: number) {
  const where = `${path}: tensor "${name}"`;
  if (typeof entry !== 'object' || entry === null) throw new CheckpointError(`${where} has no {dtype, shape, data_offsets} entry.`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isDtype(dtype)) {
    throw new CheckpointError(`${where} has dtype ${JSON.stringify(dtype)}; supported dtypes: ${SUPPORTED_DTYPES.join(', ')}.`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(`${where} has shape ${JSON.stringify(shape)}; expected a list of non-negative integers.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new CheckpointError(`${where} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] byte offsets.`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataSize) {
    throw new CheckpointError(
      `${where} has data_offsets [${begin}, ${end}] outside the ${dataSize}-byte data section (truncated or corrupt file).`,
    );
  }
  const expected = DTYPE_BYTES[dtype] * (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== expected) {
    throw new CheckpointError(
      `${where} spans ${end - begin} bytes, but ${dtype} with shape [${shape.join(', ')}] needs ${expected} bytes.`,
    );
  }
  return { dtype, shape: shape as number[], begin, end };
}

function parseMetadata(entry: unknown, path: string): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new CheckpointError(`${path}: __metadata__ must be an object of strings.`);
  }
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') throw new CheckpointError(`${path}: __metadata__ "${key}" must be a string.`);
  }
  return entry as Record<string, string>;
}

class SafetensorsReader implements SafetensorsFile {
  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly fileSize: number,
    readonly headerBytes: Uint8Array,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    return readExactly(this.handle, this.path, info.byteOffset, info.byteLength);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const { dtype, byteOffset, byteLength } = this.info(name);
    switch (dtype) {
      case 'F32': {
        const bytes = await this.readBytes(name);
        return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      }
      case 'F16':
      case 'BF16': {
        // Read into the upper half of the result and widened there: a 16-bit tensor costs no second buffer.
        const values = new Float32Array(byteLength / 2);
        await readInto(this.handle, this.path, byteOffset, new Uint8Array(values.buffer, byteLength, byteLength));
        widenInPlace(values, dtype);
        return values;
      }
      default:
        throw new CheckpointError(`${this.path}: tensor "${name}" is ${dtype}, not a float tensor (F32, F16 or BF16).`);
    }
  }

  async readInt32(name: string): Promise<Int32Array> {
    const { dtype } = this.info(name);
    const bytes = await this.readBytes(name);
    if (dtype === 'I32') return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    if (dtype !== 'I64') {
      throw new CheckpointError(`${this.path}: tensor "${name}" is ${dtype}, not an integer tensor (I32 or I64).`);
    }
    const wide = new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    const out = new Int32Array(wide.length);
    for (let i = 0; i < wide.length; i++) {
      if (wide[i] > 2147483647n || wide[i] < -2147483648n) {
        throw new CheckpointError(`${this.path}: tensor "${name}" holds ${wide[i]}, which does not fit in int32.`);
      }
      out[i] = Number(wide[i]);
    }
    return out;
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new CheckpointError(`${this.path}: no tensor named "${name}".`);
    return info;
  }
}

/** Reads `length` bytes at `position` into a fresh buffer (so typed-array views are aligned). */
function readExactly(handle: FileHandle, path: string, position: number, length: number): Promise<Uint8Array> {
  return readInto(handle, path, position, new Uint8Array(new ArrayBuffer(length)));
}

/** Fills `target` with the file's bytes from `position`. */
async function readInto(handle: FileHandle, path: string, position: number, target: Uint8Array): Promise<Uint8Array> {
  let done = 0;
  while (done < target.length) {
    const chunk = Math.min(MAX_READ_BYTES, target.length - done);
    const { bytesRead } = await handle.read(target, done, chunk, position + done);
    if (bytesRead === 0) {
      throw new CheckpointError(`${path}: unexpected end of file at byte ${position + done} (the file is truncated).`);
    }
    done += bytesRead;
  }
  return target;
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return code ?? String(error);
}

// ---- writing ----

export type WritableDtype = 'F32' | 'I32' | 'F16' | 'BF16';
/**
 * Tensor contents. F32: Float32Array; I32: Int32Array; F16/BF16: Uint16Array of raw bits, or a
 * Float32Array to be rounded (nearest even). A function yields the contents in chunks, in order, so a
 * large tensor never has to exist in memory whole.
 */
export type TensorData = ArrayBufferView | (() => Iterable<ArrayBufferView> | AsyncIterable<ArrayBufferView>);

export interface TensorToWrite {
  name: string;
  dtype: WritableDtype;
  shape: number[];
  data: TensorData;
}

/** Writes the standard layout (tensors sorted by name, contiguous), to a temp file renamed into place. */
export async function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [i, tensor] of sorted.entries()) {
    if (i > 0 && sorted[i - 1].name === tensor.name) throw new Error(`writeSafetensors: tensor "${tensor.name}" appears twice.`);
    const byteLength = DTYPE_BYTES[tensor.dtype] * tensor.shape.reduce((a, b) => a * b, 1);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + byteLength] };
    offset += byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBuffer = Buffer.from(json);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBuffer.length));

  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await writeAll(handle, prefix);
    await writeAll(handle, headerBuffer);
    for (const tensor of sorted) await writeTensorData(handle, tensor);
    await handle.close();
    await rename(temp, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

async function writeTensorData(handle: FileHandle, tensor: TensorToWrite): Promise<void> {
  const expected = DTYPE_BYTES[tensor.dtype] * tensor.shape.reduce((a, b) => a * b, 1);
  const chunks = typeof tensor.data === 'function' ? tensor.data() : [tensor.data];
  let written = 0;
  for await (const chunk of chunks) {
    const bytes = encodeChunk(chunk, tensor);
    written += bytes.byteLength;
    if (written > expected) break;
    await writeAll(handle, bytes);
  }
  if (written !== expected) {
    throw new Error(
      `writeSafetensors: tensor "${tensor.name}" (${tensor.dtype} [${tensor.shape.join(', ')}]) needs ${expected} bytes, got ${written}.`,
    );
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.byteLength; ) {
    done += (await handle.write(bytes, done, bytes.byteLength - done)).bytesWritten;
  }
}

function encodeChunk(chunk: ArrayBufferView, tensor: TensorToWrite): Uint8Array {
  const halfWidth = tensor.dtype === 'F16' || tensor.dtype === 'BF16';
  if (halfWidth && chunk instanceof Float32Array) {
    chunk = tensor.dtype === 'F16' ? f32ToF16(chunk) : f32ToBf16(chunk);
  }
  const accepted =
    (tensor.dtype === 'F32' && chunk instanceof Float32Array) ||
    (tensor.dtype === 'I32' && chunk instanceof Int32Array) ||
    (halfWidth && chunk instanceof Uint16Array);
  if (!accepted) {
    throw new Error(`writeSafetensors: tensor "${tensor.name}" is ${tensor.dtype} but was given a ${chunk.constructor.name}.`);
  }
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
