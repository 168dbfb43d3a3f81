import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlVectorBytes, GgufError, GgufType, parseControlVector, readGguf, writeGguf } from '../../extension/engine/directions/gguf';
import { exportControlVector, importControlVector } from '../../extension/engine/directions/controlvector';
import { DIRECTION_SCHEMA_ID, type Direction } from '../../extension/common/direction';

/**
 * A control vector laid out byte by byte from the GGUF spec, independently of the writer:
 * direction.1 = [1, −2, 0.5] at data offset 0 and direction.2 = [3, 4, −5] at 32, tensor infos in
 * the given order, optionally padded after the last tensor.
 */
function handWrittenControlVector(order: ('direction.1' | 'direction.2')[] = ['direction.2', 'direction.1'], padEnd = false): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const u64 = (v: number) => {
    u32(v);
    u32(0);
  };
  const str = (s: string) => {
    u64(s.length);
    for (const ch of s) parts.push(ch.charCodeAt(0));
  };
  parts.push(0x47, 0x47, 0x55, 0x46); // "GGUF"
  u32(3);
  u64(2); // tensors
  u64(3); // metadata
  str('general.architecture');
  u32(8);
  str('controlvector');
  str('controlvector.model_hint');
  u32(8);
  str('qwen2');
  str('controlvector.layer_count');
  u32(4);
  u32(2);
  for (const name of order) {
    str(name);
    u32(1); // n_dims
    u64(3); // ne[0]
    u32(0); // F32
    u64(name === 'direction.1' ? 0 : 32); // a 3-float vector padded to the alignment
  }
  while (parts.length % 32 !== 0) parts.push(0);
  const floats = (values: number[]) => {
    const bytes = new Uint8Array(new Float32Array(values).buffer);
    parts.push(...bytes);
  };
  floats([1, -2, 0.5]);
  while (parts.length % 32 !== 0) parts.push(0);
  floats([3, 4, -5]);
  while (padEnd && parts.length % 32 !== 0) parts.push(0);
  return Uint8Array.from(parts);
}

test('a control vector written by hand from the GGUF spec reads back with its blocks, values and model hint', () => {
  const vector = parseControlVector(handWrittenControlVector());
  assert.equal(vector.modelHint, 'qwen2');
  assert.deepEqual(vector.layers, [1, 2]);
  assert.deepEqual(Array.from(vector.vectors[0]), [1, -2, 0.5]);
  assert.deepEqual(Array.from(vector.vectors[1]), [3, 4, -5]);
});

test('the writer lays out a control vector exactly as the spec does', () => {
  const written = controlVectorBytes({ modelHint: 'qwen2', layers: [1, 2], vectors: [Float32Array.of(1, -2, 0.5), Float32Array.of(3, 4, -5)] });
  const file = readGguf(written);
  assert.equal(file.version, 3);
  assert.equal(file.metadata.get('general.architecture')?.value, 'controlvector');
  assert.equal(file.metadata.get('controlvector.layer_count')?.value, 2);
  assert.deepEqual(file.tensors.map((t) => [t.name, t.dims]), [['direction.1', [3]], ['direction.2', [3]]]);
  assert.deepEqual(written, handWrittenControlVector(['direction.1', 'direction.2'], true));
});

test('metadata of every scalar type and arrays survive a write and read, and a custom alignment is honoured', () => {
  const bytes = writeGguf({
    alignment: 64,
    metadata: [
      ['a.u8', { type: GgufType.UINT8, value: 200 }],
      ['a.i16', { type: GgufType.INT16, value: -300 }],
      ['a.f64', { type: GgufType.FLOAT64, value: 0.125 }],
      ['a.i64', { type: GgufType.INT64, value: -5n }],
      ['a.bool', { type: GgufType.BOOL, value: true }],
      ['a.list', { type: GgufType.ARRAY, itemType: GgufType.STRING, value: ['x', 'yz'] }],
    ],
    tensors: [{ name: 't', dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
  });
  const file = readGguf(bytes);
  assert.equal(file.metadata.get('a.u8')?.value, 200);
  assert.equal(file.metadata.get('a.i16')?.value, -300);
  assert.equal(file.metadata.get('a.f64')?.value, 0.125);
  assert.equal(file.metadata.get('a.i64')?.value, -5n);
  assert.equal(file.metadata.get('a.bool')?.value, true);
  assert.deepEqual(file.metadata.get('a.list')?.value, ['x', 'yz']);
  assert.equal(file.metadata.get('general.alignment')?.value, 64);
  assert.equal(bytes.length % 64, 0, 'header and data are padded to the alignment');
  assert.deepEqual(Array.from(file.tensors[0].data), [1, 2, 3, 4, 5, 6]);
});

test('hostile files are refused with a message saying what is wrong', () => {
  const good = handWrittenControlVector();
  const patched = (at: number, bytes: number[]) => {
    const copy = good.slice();
    copy.set(bytes, at);
    return copy;
  };
  assert.throws(() => readGguf(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), /not a GGUF file/);
  assert.throws(() => readGguf(patched(4, [1, 0, 0, 0])), /version 1 is not supported/);
  assert.throws(() => readGguf(patched(8, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), /tensor count is 18446744073709551615, more than the file could hold/);
  assert.throws(() => readGguf(patched(16, [0, 0, 0, 0x10, 0, 0, 0, 0])), /metadata count .* more than the file could hold/);
  assert.throws(() => readGguf(good.subarray(0, 60)), /truncated or corrupt|more than the file could hold/);
  assert.throws(() => readGguf(good.subarray(0, good.length - 4)), /tensor "direction.2" .* past the end of the file/);
  // The offset field of direction.1 follows its name, n_dims (u32), one dim (u64) and its type (u32).
  const offsetAt = Buffer.from(good).indexOf('direction.1') + 'direction.1'.length + 4 + 8 + 4;
  assert.throws(() => readGguf(patched(offsetAt, [0, 1, 0, 0])), /tensor "direction.1" .* past the end of the file/);
  assert.throws(() => readGguf(patched(offsetAt, [7, 0, 0, 0])), /not a multiple of the alignment 32/);
});

test('a model file, a stray tensor or a block-0 direction is not taken for a control vector', () => {
  const model = writeGguf({ metadata: [['general.architecture', { type: GgufType.STRING, value: 'llama' }]], tensors: [{ name: 'direction.1', dims: [2], data: Float32Array.of(1, 2) }] });
  assert.throws(() => parseControlVector(model), /a model file, not a control vector/);
  const stray = writeGguf({ metadata: [], tensors: [{ name: 'token_embd.weight', dims: [2], data: Float32Array.of(1, 2) }] });
  assert.throws(() => parseControlVector(stray), /not a control-vector tensor/);
  const zero = writeGguf({ metadata: [], tensors: [{ name: 'direction.0', dims: [2], data: Float32Array.of(1, 2) }] });
  assert.throws(() => parseControlVector(zero), /direction.0 is invalid/);
  assert.throws(() => controlVectorBytes({ modelHint: null, layers: [0], vectors: [Float32Array.of(1)] }), GgufError);
});

function direction(hook: 'hook_resid_post' | 'hook_resid_pre' | 'ln1.hook_normalized', layers: number[]): Direction {
  return {
    meta: {
      schema: DIRECTION_SCHEMA_ID, name: 'd', method: 'custom', hook, layers, hiddenSize: 3,
      model: { name: 'm', architecture: 'llama', numLayers: 8, hiddenSize: 3, vocabSize: 10, weightsHash: 'h', precision: 'fp32' },
      counts: {}, signConvention: '', createdAt: '', details: {},
    },
    vectors: layers.map((l) => Float32Array.of(l, -l, 0.25 * l)),
    companions: {},
  };
}

test('export then import gives the same vectors at the same blocks; resid_pre layers shift to the previous block', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gguf-'));
  try {
    const post = direction('hook_resid_post', [0, 2, 5]);
    const result = await exportControlVector(post, join(dir, 'post.gguf'));
    assert.deepEqual(result, { blocks: [2, 5], skipped: [0] });
    const back = await importControlVector(join(dir, 'post.gguf'));
    assert.equal(back.meta.hook, 'hook_resid_post');
    assert.deepEqual(back.meta.layers, [2, 5]);
    assert.deepEqual(back.vectors.map((v) => Array.from(v)), [[2, -2, 0.5], [5, -5, 1.25]]);
    assert.equal(back.meta.details.modelHint, 'llama');

    const pre = direction('hook_resid_pre', [1, 3]);
    assert.deepEqual(await exportControlVector(pre, join(dir, 'pre.gguf'), { scale: -1 }), { blocks: [2], skipped: [1] });
    assert.deepEqual(Array.from((await importControlVector(join(dir, 'pre.gguf'))).vectors[0]), [-3, 3, -0.75]);

    await assert.rejects(exportControlVector(direction('ln1.hook_normalized', [1]), join(dir, 'x.gguf')), /edit the residual stream/);
    writeFileSync(join(dir, 'bad.gguf'), readFileSync(join(dir, 'post.gguf')).subarray(0, 40));
    await assert.rejects(importControlVector(join(dir, 'bad.gguf')), /bad.gguf/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
