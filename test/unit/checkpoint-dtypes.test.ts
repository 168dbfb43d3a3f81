import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../extension/engine/checkpoint/dtypes';

const everyPattern = () => Uint16Array.from({ length: 65536 }, (_, i) => i);
const isNaNBits = (bits: number, exponentMask: number) => (bits & exponentMask) === exponentMask && (bits & ~exponentMask & 0x7fff) !== 0;

test('every float16 value survives float32 and back bit for bit (NaNs stay NaN)', () => {
  const bits = everyPattern();
  const widened = f16ToF32(bits);
  const back = f32ToF16(widened);
  for (let i = 0; i < bits.length; i++) {
    if (isNaNBits(i, 0x7c00)) assert.ok(Number.isNaN(widened[i]) && isNaNBits(back[i], 0x7c00), `0x${i.toString(16)}`);
    else assert.equal(back[i], i, `0x${i.toString(16)} → ${widened[i]}`);
  }
  assert.equal(widened[0x3c00], 1);
  assert.equal(widened[0x0001], 2 ** -24);
  assert.equal(widened[0x7bff], 65504);
  assert.equal(widened[0xfc00], -Infinity);
});

test('every bfloat16 value survives float32 and back bit for bit (NaNs stay NaN)', () => {
  const bits = everyPattern();
  const widened = bf16ToF32(bits);
  const back = f32ToBf16(widened);
  for (let i = 0; i < bits.length; i++) {
    if (isNaNBits(i, 0x7f80)) assert.ok(Number.isNaN(widened[i]) && isNaNBits(back[i], 0x7f80), `0x${i.toString(16)}`);
    else assert.equal(back[i], i, `0x${i.toString(16)} → ${widened[i]}`);
  }
  assert.equal(widened[0x3f80], 1);
  assert.equal(widened[0xc000], -2);
});

test('narrowing rounds to the nearest value, ties to even', () => {
  assert.deepEqual([...f32ToBf16(Float32Array.from([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20]))], [0x3f80, 0x3f82, 0x3f81]);
  assert.deepEqual([...f32ToF16(Float32Array.from([1 + 2 ** -11, 1 + 3 * 2 ** -11, 3 * 2 ** -25, 1e6]))], [0x3c00, 0x3c02, 0x0002, 0x7c00]);
});
