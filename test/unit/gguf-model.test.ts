// The benchmark's GGUF model writer: llama.cpp's qwen2 tensor names and layout (an HF [out, in] weight
// is ggml [in, out] with the same bytes), the metadata llama.cpp reads, and Q8_0 / Q4_0 blocks that
// decode to within half a step of the weights. That llama.cpp computes the same logits from the file
// is checked by `npm run bench` (the largest log-probability difference it reports).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { openCheckpointWeights } from '../../extension/engine/checkpoint/weights';
import { f16ToF32 } from '../../extension/engine/checkpoint/dtypes';
import { GgmlType, ggmlBytes, readGguf } from '../../extension/engine/directions/gguf';
import { encode, writeGgufModel } from '../bench/gguf-model';

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gguf-model-'));
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: join(dir, 'model'), seed: 6 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('an F32 GGUF holds every weight under its llama.cpp name, with the metadata llama.cpp reads', async () => {
  const out = join(dir, 'model-F32.gguf');
  await writeGgufModel(join(dir, 'model'), out, 'F32');
  const file = readGguf(new Uint8Array(readFileSync(out)));
  const weights = await openCheckpointWeights(join(dir, 'model'));
  try {
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    const q = byName.get('blk.1.attn_q.weight')!;
    const hf = weights.tensors.get('model.layers.1.self_attn.q_proj.weight')!;
    assert.deepEqual(q.dims, [...hf.shape].reverse());
    assert.deepEqual(q.data, await weights.readFloat32('model.layers.1.self_attn.q_proj.weight'));
    assert.deepEqual(byName.get('blk.3.ffn_down.weight')!.data, await weights.readFloat32('model.layers.3.mlp.down_proj.weight'));
    assert.deepEqual(byName.get('output_norm.weight')!.data, await weights.readFloat32('model.norm.weight'));
    assert.ok(byName.has('blk.0.attn_k.bias') && byName.has('token_embd.weight') && byName.has('output.weight'));
    assert.equal(file.metadata.get('general.architecture')?.value, 'qwen2');
    assert.equal(file.metadata.get('qwen2.block_count')?.value, 4);
    assert.equal((file.metadata.get('tokenizer.ggml.tokens')?.value as string[]).length, 704);
  } finally {
    await weights.close();
  }
});

test('Q8_0 and Q4_0 blocks decode (d · q, d · (q − 8)) to the weights within half a quantization step', async () => {
  const weights = await openCheckpointWeights(join(dir, 'model'));
  const original = (await weights.readFloat32('model.layers.0.mlp.up_proj.weight')).subarray(0, 128);
  await weights.close();
  const cases = [
    { type: GgmlType.Q8_0, blockBytes: 34, steps: 127, decode: (v: DataView, at: number) => Array.from({ length: 32 }, (_, j) => v.getInt8(at + j)) },
    // Element j in the low nibble of byte j, element 16 + j in its high nibble.
    { type: GgmlType.Q4_0, blockBytes: 18, steps: 8, decode: (v: DataView, at: number) => [...Array.from({ length: 16 }, (_, j) => (v.getUint8(at + j) & 15) - 8), ...Array.from({ length: 16 }, (_, j) => (v.getUint8(at + j) >> 4) - 8)] },
  ];
  for (const { type, blockBytes, steps, decode } of cases) {
    const bytes = encode(type, original);
    assert.equal(bytes.length, ggmlBytes(type, original.length));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let b = 0; b < 4; b++) {
      const d = f16ToF32(Uint16Array.of(view.getUint16(b * blockBytes, true)))[0];
      const codes = decode(view, b * blockBytes + 2);
      const block = original.subarray(b * 32, (b + 1) * 32);
      const step = Math.max(...block.map(Math.abs)) / steps;
      // Half a step of rounding, plus the float16 rounding of the scale (2^-11 relative) times the code;
      // Q4_0 maps the extreme to −8 and clamps its opposite at +7, a whole step short.
      const clamped = (code: number) => type === GgmlType.Q4_0 && code === 7;
      block.forEach((x, j) =>
        assert.ok(Math.abs(d * codes[j] - x) <= step * ((clamped(codes[j]) ? 1 : 0.5) + Math.abs(codes[j]) * 2 ** -11) * 1.001, `type ${type} block ${b}, value ${j}: ${d * codes[j]} for ${x}`),
      );
    }
  }
});
