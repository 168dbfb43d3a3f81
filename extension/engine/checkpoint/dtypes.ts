// Safetensors element types and exact conversions between float32 and the two 16-bit float formats.

export const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 } as const;
export type Dtype = keyof typeof DTYPE_BYTES;
export const SUPPORTED_DTYPES = Object.keys(DTYPE_BYTES) as Dtype[];

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

let halfTable: Float32Array | undefined;

/** float16 bits → float32 value for all 65536 patterns; every float16 is exactly a float32. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) halfTable[bits] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) halfTable[bits] = mantissa === 0 ? sign * Infinity : NaN;
    else halfTable[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return halfTable;
}

/**
 * Widens the 16-bit floats held in the second half of `values`' bytes into `values` itself, front to
 * back: value i is written over bits 2i−n and 2i−n+1, both read by then, so a tensor read from disk
 * into that half needs no second buffer. bfloat16 is the upper half of a float32, so its widening is a shift.
 */
export function widenInPlace(values: Float32Array, dtype: 'F16' | 'BF16'): void {
  const n = values.length;
  const bits = new Uint16Array(values.buffer, values.byteOffset + n * 2, n);
  if (dtype === 'BF16') {
    const words = new Uint32Array(values.buffer, values.byteOffset, n);
    for (let i = 0; i < n; i++) words[i] = bits[i] << 16;
    return;
  }
  const table = halfToFloatTable();
  for (let i = 0; i < n; i++) values[i] = table[bits[i]];
}

function widen(bits: Uint16Array, dtype: 'F16' | 'BF16'): Float32Array {
  const values = new Float32Array(bits.length);
  new Uint16Array(values.buffer, bits.length * 2, bits.length).set(bits);
  widenInPlace(values, dtype);
  return values;
}

export function f16ToF32(bits: Uint16Array): Float32Array {
  return widen(bits, 'F16');
}

export function bf16ToF32(bits: Uint16Array): Float32Array {
  return widen(bits, 'BF16');
}

/** float32 → bfloat16 bits, rounding to nearest even (NaN stays NaN). */
export function f32ToBf16(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if ((w & 0x7fffffff) > 0x7f800000) out[i] = (w >>> 16) | 0x40;
    else out[i] = (w + 0x7fff + ((w >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 → float16 bits, rounding to nearest even, overflowing to infinity. */
export function f32ToF16(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < words.length; i++) out[i] = floatBitsToHalf(words[i]);
  return out;
}

function floatBitsToHalf(w: number): number {
  const sign = (w >>> 16) & 0x8000;
  const exponent = (w >>> 23) & 0xff;
  let mantissa = w & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-one mantissa into place, then round.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (half + (rest > halfway || (rest === halfway && half & 1) ? 1 : 0));
  }
  const rest = mantissa & 0x1fff;
  const half = (e << 10) | (mantissa >>> 13);
  // Rounding up may carry into the exponent; from the largest finite value it lands on infinity, as it should.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}
