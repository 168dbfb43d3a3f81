import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openSafetensors, writeSafetensors } from '../../extension/engine/checkpoint/safetensors';
import { CheckpointError } from '../../extension/engine/checkpoint/errors';

const KIT = resolve(__dirname, '..', '..', '..', 'shared', 'conformance', 'models');
const kitMissing = existsSync(KIT) ? false : `conformance kit not found at ${KIT}`;
if (kitMissing) console.warn(`\n!!! SKIPPING conformance safetensors tests: ${kitMissing}\n`);

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'safetensors-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a safetensors file by hand: a length prefix, the header text as given, `dataBytes` zero bytes. */
async function craft(name: string, header: unknown, dataBytes: number, declaredLength?: bigint): Promise<string> {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]));
  return path;
}

async function rejects(path: string, message: RegExp): Promise<void> {
  await assert.rejects(openSafetensors(path), (e: Error) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${e.name}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

const f32 = (shape: number[], begin: number) => ({
  dtype: 'F32',
  shape,
  data_offsets: [begin, begin + 4 * shape.reduce((a, b) => a * b, 1)],
});

test('a file too short for the length prefix is reported as truncated', async () => {
  const path = join(dir, 'short.safetensors');
  await writeFile(path, Buffer.from([1, 2, 3]));
  await rejects(path, /3 bytes, too short for a safetensors header \(truncated\?\)/);
});

test('a header length past the end of the file is rejected before anything is allocated', async () => {
  await rejects(await craft('huge-length.safetensors', {}, 0, 1n << 60n), /header length 1152921504606846976 runs past the end/);
});

test('a header that is not JSON names the problem', async () => {
  await rejects(await craft('bad-json.safetensors', '{"a": [1, 2', 0), /the safetensors header is not valid JSON/);
});

test('overlapping tensors are rejected', async () => {
  const path = await craft('overlap.safetensors', { a: f32([4], 0), b: f32([4], 8) }, 24);
  await rejects(path, /tensors "a" \[0, 16\) and "b" \[8, 24\) overlap/);
});

test('offsets outside the data section are rejected (a truncated file)', async () => {
  await rejects(await craft('out-of-range.safetensors', { a: f32([4], 0) }, 8), /data_offsets \[0, 16\] outside the 8-byte data section/);
  await rejects(await craft('reversed.safetensors', { a: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, 8), /outside the 8-byte data section/);
});

test('a byte range that does not match dtype × shape is rejected', async () => {
  const header = { a: { dtype: 'F16', shape: [2, 3], data_offsets: [0, 16] } };
  await rejects(await craft('size.safetensors', header, 16), /spans 16 bytes, but F16 with shape \[2, 3\] needs 12 bytes/);
});

test('unknown dtypes and malformed entries are named', async () => {
  await rejects(
    await craft('dtype.safetensors', { a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4),
    /tensor "a" has dtype "F8_E4M3"; supported dtypes: F32, F16, BF16, I32, I64/,
  );
  await rejects(await craft('shape.safetensors', { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /has shape \[-1\]/);
  await rejects(await craft('offsets.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, 4), /has data_offsets \[0\]/);
  await rejects(await craft('meta.safetensors', { __metadata__: { n: 3 } }, 0), /__metadata__ "n" must be a string/);
});

test('a missing file says so', async () => {
  await rejects(join(dir, 'nope.safetensors'), /cannot open the weights file \(no such file\)/);
});

test('a tensor cut short after the header was validated fails on read with a clear message', async () => {
  const path = join(dir, 'shrunk.safetensors');
  await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [1024], data: new Float32Array(1024) }]);
  const file = await openSafetensors(path);
  try {
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(file.readFloat32('w'), /unexpected end of file .* \(the file is truncated\)/);
  } finally {
    await file.close();
  }
});

test('writer: standard layout, sorted names, padded header, metadata, and an exact round trip', async () => {
  const path = join(dir, 'round-trip.safetensors');
  const weights = Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5);
  await writeSafetensors(
    path,
    [
      { name: 'z.weight', dtype: 'F32', shape: [3, 4], data: weights },
      { name: 'a.ids', dtype: 'I32', shape: [3], data: Int32Array.from([5, -6, 7]) },
      { name: 'm.empty', dtype: 'F32', shape: [0], data: new Float32Array(0) },
    ],
    { format: 'pt' },
  );
  const raw = await readFile(path);
  const headerLength = Number(raw.readBigUInt64LE(0));
  assert.equal(headerLength % 8, 0);
  const header = JSON.parse(raw.subarray(8, 8 + headerLength).toString());
  assert.deepEqual(Object.keys(header), ['__metadata__', 'a.ids', 'm.empty', 'z.weight']);
  assert.deepEqual(header['a.ids'].data_offsets, [0, 12]);
  assert.deepEqual(header['z.weight'].data_offsets, [12, 60]);
  assert.equal(raw.length, 8 + headerLength + 60);
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temp file is left behind');

  const file = await openSafetensors(path);
  try {
    assert.deepEqual(file.metadata, { format: 'pt' });
    assert.deepEqual(file.tensors.get('z.weight'), { dtype: 'F32', shape: [3, 4], byteOffset: 8 + headerLength + 12, byteLength: 48 });
    assert.deepEqual(await file.readFloat32('z.weight'), weights);
    assert.deepEqual(await file.readInt32('a.ids'), Int32Array.from([5, -6, 7]));
    assert.deepEqual(await file.readFloat32('m.empty'), new Float32Array(0));
    await assert.rejects(file.readFloat32('a.ids'), /"a.ids" is I32, not a float tensor/);
    await assert.rejects(file.readFloat32('missing'), /no tensor named "missing"/);
  } finally {
    await file.close();
  }
});

test('writer: chunked data streams in order and a wrong byte count is refused without leaving a file', async () => {
  const path = join(dir, 'chunks.safetensors');
  const chunks = function* () {
    yield Float32Array.from([1, 2]);
    yield Float32Array.from([3, 4, 5, 6]);
  };
  await writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [2, 3], data: chunks }]);
  const file = await openSafetensors(path);
  assert.deepEqual(await file.readFloat32('w'), Float32Array.from([1, 2, 3, 4, 5, 6]));
  await file.close();

  const bad = join(dir, 'bad-count.safetensors');
  await assert.rejects(
    writeSafetensors(bad, [{ name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(3) }]),
    /tensor "w" \(F32 \[4\]\) needs 16 bytes, got 12/,
  );
  assert.equal(existsSync(bad), false);
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
  await assert.rejects(
    writeSafetensors(bad, [{ name: 'w', dtype: 'I32', shape: [1], data: new Float32Array(1) }]),
    /tensor "w" is I32 but was given a Float32Array/,
  );
});

test('writer: float32 rounds to F16 and BF16 to nearest even; reading widens exactly', async () => {
  const path = join(dir, 'half.safetensors');
  const source = Float32Array.from([
    1 + 2 ** -8, // BF16 (7-bit mantissa): halfway between 1 and 1+2^-7, ties to even → 1
    1 + 3 * 2 ** -8, // BF16: halfway, ties to even → 1+2^-6
    1 + 2 ** -11, // F16 (10-bit mantissa): halfway between 1 and 1+2^-10 → 1
    1 + 3 * 2 ** -11, // F16: halfway → 1+2^-9
    65504, // largest F16
    65520, // F16: rounds up to infinity
    2 ** -24, // smallest F16 subnormal
    2 ** -26, // F16: below half the smallest subnormal → 0
    -0,
    -Infinity,
  ]);
  await writeSafetensors(path, [
    { name: 'bf', dtype: 'BF16', shape: [10], data: source },
    { name: 'h', dtype: 'F16', shape: [10], data: source },
  ]);
  const file = await openSafetensors(path);
  try {
    const bf = await file.readFloat32('bf');
    assert.deepEqual([...bf], [1, 1 + 2 ** -6, 1, 1, 65536, 65536, 2 ** -24, 2 ** -26, -0, -Infinity]);
    const h = await file.readFloat32('h');
    assert.deepEqual([...h], [1 + 2 ** -8, 1 + 3 * 2 ** -8, 1, 1 + 2 ** -9, 65504, Infinity, 2 ** -24, 0, -0, -Infinity]);
  } finally {
    await file.close();
  }
});

test('conformance BF16 weights widen exactly (values worked out from the raw bits)', { skip: kitMissing }, async () => {
  const file = await openSafetensors(join(KIT, 'qwen2_tied_bf16', 'model.safetensors'));
  try {
    const name = 'model.embed_tokens.weight';
    assert.deepEqual(file.tensors.get(name)?.shape, [300, 64]);
    const bits = new Uint16Array((await file.readBytes(name)).buffer);
    // BF16 = sign | 8-bit exponent (bias 127) | 7-bit mantissa.
    assert.deepEqual([...bits.slice(0, 4)], [0x3bce, 0x3e08, 0x3cd1, 0xbb82]);
    const values = await file.readFloat32(name);
    assert.equal(values[0], (1 + 0x4e / 128) * 2 ** (0x77 - 127)); // 0x3bce = 206/32768
    assert.equal(values[0], 0.00628662109375);
    assert.equal(values[1], (1 + 0x08 / 128) * 2 ** (0x7c - 127)); // 0x3e08 = 0.1328125
    assert.equal(values[3], -(1 + 0x02 / 128) * 2 ** (0x77 - 127)); // 0xbb82 = -130/32768
    const norm = await file.readFloat32('model.norm.weight');
    assert.equal(norm[0], 1 + 7 / 128); // 0x3f87
  } finally {
    await file.close();
  }
});

test('conformance F16 weights widen exactly (values worked out from the raw bits)', { skip: kitMissing }, async () => {
  const file = await openSafetensors(join(KIT, 'llama3_rope_f16', 'model.safetensors'));
  try {
    const name = 'model.embed_tokens.weight';
    const bits = new Uint16Array((await file.readBytes(name)).buffer);
    // F16 = sign | 5-bit exponent (bias 15) | 10-bit mantissa.
    assert.deepEqual([...bits.slice(0, 2)], [0x2e85, 0xaa7c]);
    const values = await file.readFloat32(name);
    assert.equal(values[0], (1 + 0x285 / 1024) * 2 ** (11 - 15)); // 1669/16384
    assert.equal(values[0], 0.10186767578125);
    assert.equal(values[1], -(1 + 0x27c / 1024) * 2 ** (10 - 15)); // -1660/32768
    const norm = await file.readFloat32('model.norm.weight');
    assert.equal(norm[0], 1 + 0x49 / 1024); // 0x3c49
  } finally {
    await file.close();
  }
});

test('conformance reference files: I32 tensors and metadata read back', { skip: kitMissing }, async () => {
  const file = await openSafetensors(join(KIT, 'llama', 'reference.safetensors'));
  try {
    assert.deepEqual(file.metadata, { format: 'pt' });
    assert.deepEqual([...(await file.readInt32('a.input_ids'))], [1, 290, 28, 105, 52, 205, 172]);
    assert.deepEqual(file.tensors.get('b.logits')?.shape, [23, 300]);
    assert.equal((await file.readFloat32('steer.v')).length, 64);
  } finally {
    await file.close();
  }
});
