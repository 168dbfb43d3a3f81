// Block-wise symmetric 4- or 8-bit quantization in the layout of onnxruntime's com.microsoft
// MatMulNBits: a weight [N, K] (Hugging Face's [out, in]) becomes, per row and per block of 32 inputs,
// one float32 scale and 32 codes of `bits` bits each (for 4 bits, two per byte, low nibble first).
// A code q stands for (q − z)·scale with z = 2^(bits−1) (8 or 128, what MatMulNBits assumes when the
// graph gives no zero points). At 8 bits the block's value of largest magnitude maps to −z exactly. At 4
// bits sixteen levels are coarse enough that the scale which maps it there wastes precision on the
// rest of the block: the scale is the one of a few slightly smaller ones (that value then rounds to the
// end code) with the least squared error over the block.

export const BLOCK_SIZE = 32;
export type WeightBits = 4 | 8;

/** 4-bit scales tried, as fractions of the one that maps the block's largest magnitude to −z. */
const FOUR_BIT_SCALES = [1, 0.95, 0.9, 0.85, 0.8];

export interface BlockQuantized {
  bits: WeightBits;
  /** Rows of the original weight (MatMulNBits' N). */
  rows: number;
  /** Columns of the original weight (MatMulNBits' K). */
  columns: number;
  /** [rows, blocksPerRow, blockBytes(bits)] packed codes. */
  codes: Uint8Array;
  /** [rows, blocksPerRow]. */
  scales: Float32Array;
}

export function blocksPerRow(columns: number): number {
  return Math.ceil(columns / BLOCK_SIZE);
}

/** Bytes of one block's codes. */
export function blockBytes(bits: WeightBits): number {
  return (BLOCK_SIZE * bits) / 8;
}

/** Bytes MatMulNBits reads for a [rows, columns] weight: codes and scales. */
export function quantizedBytes(rows: number, columns: number, bits: WeightBits): number {
  return rows * blocksPerRow(columns) * (blockBytes(bits) + 4);
}

/** Quantizes a row-major [rows, columns] float32 weight; a last partial block is padded with zeros. */
export function quantizeBlocks(weight: Float32Array, rows: number, columns: number, bits: WeightBits): BlockQuantized {
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows <= 0 || columns <= 0) {
    throw new Error(`${bits}-bit quantization needs a positive integer shape, got [${rows}, ${columns}]`);
  }
  if (weight.length !== rows * columns) throw new Error(`${bits}-bit quantization: ${weight.length} values do not fill shape [${rows}, ${columns}]`);
  const zero = 2 ** (bits - 1);
  const blocks = blocksPerRow(columns);
  const bytes = blockBytes(bits);
  const codes = new Uint8Array(rows * blocks * bytes);
  const scales = new Float32Array(rows * blocks);
  // This runs for every weight of a model (billions at 7B): flat fixed-length loops, no closures, no
  // allocation per block.
  const block = new Float64Array(BLOCK_SIZE); // a padded block's missing values stay 0, level 0
  const low = -zero;
  const high = zero - 1;
  for (let r = 0; r < rows; r++) {
    const row = r * columns;
    for (let blk = 0; blk < blocks; blk++) {
      const from = row + blk * BLOCK_SIZE;
      const count = Math.min(BLOCK_SIZE, columns - blk * BLOCK_SIZE);
      let extreme = 0;
      for (let i = 0; i < BLOCK_SIZE; i++) {
        const v = i < count ? weight[from + i] : 0;
        if (!Number.isFinite(v)) throw new Error(`${bits}-bit quantization: weight row ${r}, column ${from + i - row} is not a finite number`);
        if (Math.abs(v) > Math.abs(extreme)) extreme = v;
        block[i] = v;
      }
      const largest = Math.fround(extreme / low);
      let scale = extreme === 0 ? 0 : largest;
      if (bits === 4 && extreme !== 0) {
        let bestError = Infinity;
        for (let k = 0; k < FOUR_BIT_SCALES.length; k++) {
          const candidate = Math.fround(largest * FOUR_BIT_SCALES[k]);
          const inverse = 1 / candidate;
          let error = 0;
          // A candidate stops once its partial error reaches the best: it can no longer be chosen.
          for (let part = 0; part < BLOCK_SIZE && error < bestError; part += 8) {
            for (let i = part; i < part + 8; i++) {
              const difference = block[i] - level(block[i] * inverse, low, high) * candidate;
              error += difference * difference;
            }
          }
          if (error < bestError) {
            bestError = error;
            scale = candidate;
          }
        }
      }
      scales[r * blocks + blk] = scale;
      const inverse = scale === 0 ? 0 : 1 / scale;
      const out = (r * blocks + blk) * bytes;
      if (bits === 8) {
        for (let i = 0; i < BLOCK_SIZE; i++) codes[out + i] = level(block[i] * inverse, low, high) + zero;
      } else {
        for (let i = 0; i < BLOCK_SIZE; i += 2) {
          codes[out + (i >> 1)] = (level(block[i] * inverse, low, high) + zero) | ((level(block[i + 1] * inverse, low, high) + zero) << 4);
        }
      }
    }
  }
  return { bits, rows, columns, codes, scales };
}

/**
 * The level a value in units of the scale rounds to, clamped to [low, high]. Clamped first, then
 * floor(x + 0.5): Math.round (halves up) save for x within 2^-53 of a half, and several times faster in V8.
 */
function level(scaled: number, low: number, high: number): number {
  return Math.floor((scaled > high ? high : scaled < low ? low : scaled) + 0.5);
}

/** The float32 weight [rows, columns] the codes stand for. */
export function dequantizeBlocks(q: BlockQuantized): Float32Array {
  const { rows, columns, bits } = q;
  const zero = 2 ** (bits - 1);
  const blocks = blocksPerRow(columns);
  const bytes = blockBytes(bits);
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const blk = Math.floor(c / BLOCK_SIZE);
      const within = c % BLOCK_SIZE;
      const at = (r * blocks + blk) * bytes;
      const value = bits === 8 ? q.codes[at + within] : within & 1 ? q.codes[at + (within >> 1)] >> 4 : q.codes[at + (within >> 1)] & 15;
      out[r * columns + c] = (value - zero) * q.scales[r * blocks + blk];
    }
  }
  return out;
}
