// Block-wise symmetric 4-bit quantization in the layout of onnxruntime's com.microsoft MatMulNBits:
// a weight [N, K] (Hugging Face's [out, in]) becomes, per row and per block of 32 inputs, one float32
// scale and 16 bytes of two 4-bit codes each (low nibble first). A code q stands for (q − 8)·scale;
// the block's value of largest magnitude maps to −8 exactly, so no block wastes a code.

export const INT4_BLOCK_SIZE = 32;
/** The zero point MatMulNBits assumes when the graph gives none. */
const ZERO_POINT = 8;

export interface Int4Weight {
  /** Rows of the original weight (MatMulNBits' N). */
  rows: number;
  /** Columns of the original weight (MatMulNBits' K). */
  columns: number;
  /** [rows, blocksPerRow, 16] packed codes. */
  codes: Uint8Array;
  /** [rows, blocksPerRow]. */
  scales: Float32Array;
}

export function blocksPerRow(columns: number): number {
  return Math.ceil(columns / INT4_BLOCK_SIZE);
}

/** Bytes MatMulNBits reads for a [rows, columns] weight: codes and scales. */
export function int4Bytes(rows: number, columns: number): number {
  return rows * blocksPerRow(columns) * (INT4_BLOCK_SIZE / 2 + 4);
}

/** Quantizes a row-major [rows, columns] float32 weight; a last partial block is padded with zeros. */
export function quantizeInt4(weight: Float32Array, rows: number, columns: number): Int4Weight {
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows <= 0 || columns <= 0) {
    throw new Error(`int4 quantization needs a positive integer shape, got [${rows}, ${columns}]`);
  }
  if (weight.length !== rows * columns) throw new Error(`int4 quantization: ${weight.length} values do not fill shape [${rows}, ${columns}]`);
  const blocks = blocksPerRow(columns);
  const blockBytes = INT4_BLOCK_SIZE / 2;
  const codes = new Uint8Array(rows * blocks * blockBytes);
  const scales = new Float32Array(rows * blocks);
  for (let r = 0; r < rows; r++) {
    const row = r * columns;
    for (let blk = 0; blk < blocks; blk++) {
      const start = blk * INT4_BLOCK_SIZE;
      const end = Math.min(start + INT4_BLOCK_SIZE, columns);
      let extreme = 0;
      for (let c = start; c < end; c++) {
        const v = weight[row + c];
        if (!Number.isFinite(v)) throw new Error(`int4 quantization: weight row ${r}, column ${c} is not a finite number`);
        if (Math.abs(v) > Math.abs(extreme)) extreme = v;
      }
      const scale = extreme === 0 ? 0 : Math.fround(extreme / -ZERO_POINT);
      const inverse = scale === 0 ? 0 : 1 / scale;
      scales[r * blocks + blk] = scale;
      const out = (r * blocks + blk) * blockBytes;
      for (let i = 0; i < INT4_BLOCK_SIZE; i += 2) {
        const lo = start + i < end ? weight[row + start + i] : 0;
        const hi = start + i + 1 < end ? weight[row + start + i + 1] : 0;
        codes[out + i / 2] = code(lo * inverse) | (code(hi * inverse) << 4);
      }
    }
  }
  return { rows, columns, codes, scales };
}

function code(scaled: number): number {
  return Math.min(15, Math.max(0, Math.round(scaled) + ZERO_POINT));
}

/** The float32 weight [rows, columns] the codes stand for. */
export function dequantizeInt4(q: Int4Weight): Float32Array {
  const { rows, columns } = q;
  const blocks = blocksPerRow(columns);
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      const blk = Math.floor(c / INT4_BLOCK_SIZE);
      const within = c % INT4_BLOCK_SIZE;
      const byte = q.codes[(r * blocks + blk) * (INT4_BLOCK_SIZE / 2) + (within >> 1)];
      const value = within & 1 ? byte >> 4 : byte & 15;
      out[r * columns + c] = (value - ZERO_POINT) * q.scales[r * blocks + blk];
    }
  }
  return out;
}
