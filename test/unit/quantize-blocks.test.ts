// The 4- and 8-bit block quantizer against its own definition and against onnxruntime's MatMulNBits,
// which must read its codes and scales exactly as the dequantizer does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { DataType, encodeModel } from '../../extension/engine/graph/onnx-proto';
import { BLOCK_SIZE, blockBytes, blocksPerRow, dequantizeBlocks, quantizedBytes, quantizeBlocks, type WeightBits } from '../../extension/engine/graph/quantize-blocks';

function gaussian(count: number, seed: number): Float32Array {
  let state = seed;
  const uniform = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  return Float32Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
}

for (const bits of [4, 8] as WeightBits[]) {
  test(`${bits} bits: dequantized weights stay within ${bits === 8 ? 'one step' : 'two steps (a clipped largest magnitude)'} of their block scale of the original`, () => {
    const rows = 5;
    const columns = 3 * BLOCK_SIZE + 7; // a padded last block
    const weight = gaussian(rows * columns, 1);
    const q = quantizeBlocks(weight, rows, columns, bits);
    const back = dequantizeBlocks(q);
    const blocks = blocksPerRow(columns);
    assert.equal(q.scales.length, rows * blocks);
    assert.equal(q.codes.length, rows * blocks * blockBytes(bits));
    let sumSquaredError = 0;
    let sumSquared = 0;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < columns; c++) {
        const scale = Math.abs(q.scales[r * blocks + Math.floor(c / BLOCK_SIZE)]);
        const error = Math.abs(back[r * columns + c] - weight[r * columns + c]);
        const steps = bits === 8 ? 1 : 2;
        assert.ok(error <= steps * scale * (1 + 1e-6), `row ${r} column ${c}: error ${error} exceeds ${steps} × the block scale ${scale}`);
        sumSquaredError += error ** 2;
        sumSquared += weight[r * columns + c] ** 2;
      }
    }
    // 2^bits levels over a block's range: the error is a small fraction of the signal (16× smaller at 8 bits).
    const relative = Math.sqrt(sumSquaredError / sumSquared);
    assert.ok(relative < (bits === 4 ? 0.15 : 0.01), `relative error ${relative}`);
  });

  test(`${bits} bits: an all-zero block stays zero${bits === 8 ? ", and each block's largest magnitude survives exactly" : ''}`, () => {
    const weight = new Float32Array(2 * BLOCK_SIZE);
    weight.set(gaussian(BLOCK_SIZE, 2));
    weight[3] = -9.5;
    const back = dequantizeBlocks(quantizeBlocks(weight, 1, weight.length, bits));
    if (bits === 8) assert.equal(back[3], -9.5);
    assert.deepEqual(Array.from(back.subarray(BLOCK_SIZE)), new Array(BLOCK_SIZE).fill(0));
  });

  if (bits === 4) {
    test('4 bits: each block has less squared error than with the scale that maps its largest magnitude to −8 exactly, and never more', () => {
      const rows = 64;
      const columns = 4 * BLOCK_SIZE;
      const weight = gaussian(rows * columns, 5);
      const back = dequantizeBlocks(quantizeBlocks(weight, rows, columns, 4));
      let chosen = 0;
      let largest = 0;
      for (let start = 0; start < weight.length; start += BLOCK_SIZE) {
        const block = weight.subarray(start, start + BLOCK_SIZE);
        const extreme = block.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
        const scale = Math.fround(extreme / -8);
        const roundTrip = block.map((v) => (Math.min(15, Math.max(0, Math.round(v / scale) + 8)) - 8) * scale);
        const errorOf = (values: Float32Array) => values.reduce((sum, v, i) => sum + (v - block[i]) ** 2, 0);
        const blockChosen = errorOf(back.subarray(start, start + BLOCK_SIZE));
        assert.ok(blockChosen <= errorOf(roundTrip) * (1 + 1e-6), `block at ${start}`);
        chosen += blockChosen;
        largest += errorOf(roundTrip);
      }
      assert.ok(chosen < 0.95 * largest, `squared error ${chosen} against ${largest} with the largest magnitude's scale`);
    });
  }

  test(`${bits} bits: codes and scales are the definition's, block by block (Math.round, the least-error scale)`, () => {
    const rows = 40;
    const columns = 5 * BLOCK_SIZE + 11; // a padded last block
    const weight = gaussian(rows * columns, 7);
    weight.fill(0, 0, BLOCK_SIZE); // an all-zero block: scale +0
    const q = quantizeBlocks(weight, rows, columns, bits);
    const zero = 2 ** (bits - 1);
    const blocks = blocksPerRow(columns);
    for (let r = 0; r < rows; r++) {
      for (let blk = 0; blk < blocks; blk++) {
        const values = Array.from({ length: BLOCK_SIZE }, (_, i) => (blk * BLOCK_SIZE + i < columns ? weight[r * columns + blk * BLOCK_SIZE + i] : 0));
        const extreme = values.reduce((m, v) => (Math.abs(v) > Math.abs(m) ? v : m), 0);
        const levelsAt = (scale: number) => values.map((v) => (scale === 0 ? 0 : Math.min(zero - 1, Math.max(-zero, Math.round(v / scale)))));
        const errorAt = (scale: number) => levelsAt(scale).reduce((sum, l, i) => sum + (values[i] - l * scale) ** 2, 0);
        let scale = extreme === 0 ? 0 : Math.fround(extreme / -zero);
        if (bits === 4 && extreme !== 0) {
          const candidates = [1, 0.95, 0.9, 0.85, 0.8].map((f) => Math.fround(scale * f));
          scale = candidates.reduce((best, c) => (errorAt(c) < errorAt(best) ? c : best));
        }
        const at = r * blocks + blk;
        assert.ok(Object.is(q.scales[at], scale), `row ${r} block ${blk}: scale ${q.scales[at]} ≠ ${scale}`);
        const codes = levelsAt(scale).map((l) => l + zero);
        const packed = bits === 8 ? codes : Array.from({ length: BLOCK_SIZE / 2 }, (_, i) => codes[2 * i] | (codes[2 * i + 1] << 4));
        assert.deepEqual(Array.from(q.codes.subarray(at * blockBytes(bits), (at + 1) * blockBytes(bits))), packed, `row ${r} block ${blk}`);
      }
    }
  });

  test(`${bits} bits: bad shapes and non-finite weights get a clear message`, () => {
    assert.throws(() => quantizeBlocks(new Float32Array(6), 2, 4, bits), /6 values do not fill shape \[2, 4\]/);
    assert.throws(() => quantizeBlocks(new Float32Array(0), 0, 4, bits), /positive integer shape/);
    assert.throws(() => quantizeBlocks(Float32Array.from([1, Number.NaN]), 1, 2, bits), /column 1 is not a finite number/);
  });

  test(`${bits} bits: quantizedBytes counts codes and scales`, () => {
    assert.equal(quantizedBytes(3, 64, bits), 3 * 2 * (BLOCK_SIZE * bits / 8 + 4));
    assert.equal(quantizedBytes(1, 33, bits), 2 * (BLOCK_SIZE * bits / 8 + 4));
  });

  test(`${bits} bits: onnxruntime's MatMulNBits computes x · dequantize(W)ᵀ from the codes and scales`, async () => {
    const [M, N, K] = [3, 6, 2 * BLOCK_SIZE + 16];
    const weight = gaussian(N * K, 3);
    const x = gaussian(M * K, 4);
    const q = quantizeBlocks(weight, N, K, bits);
    const blocks = blocksPerRow(K);
    const model = encodeModel({
      graph: {
        name: 'matmul-nbits',
        nodes: [
          {
            opType: 'MatMulNBits',
            domain: 'com.microsoft',
            name: 'mm',
            inputs: ['x', 'codes', 'scales'],
            outputs: ['y'],
            attributes: { K, N, bits, block_size: BLOCK_SIZE, accuracy_level: 0 },
          },
        ],
        initializers: [
          { name: 'codes', elemType: DataType.UINT8, dims: [N, blocks, blockBytes(bits)], raw: q.codes },
          { name: 'scales', elemType: DataType.FLOAT, dims: [N, blocks], raw: new Uint8Array(q.scales.buffer) },
        ],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [M, K] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [M, N] }],
      },
      opsets: [
        { domain: '', version: 21 },
        { domain: 'com.microsoft', version: 1 },
      ],
      producerName: 'test',
      producerVersion: '1',
  });
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  try {
    const { y } = await session.run({ x: new ort.Tensor('float32', x, [M, K]) });
    const w = dequantizeBlocks(q);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let expected = 0;
        for (let k = 0; k < K; k++) expected += x[m * K + k] * w[n * K + k];
        const actual = (y.data as Float32Array)[m * N + n];
        assert.ok(Math.abs(actual - expected) <= 1e-4 * (1 + Math.abs(expected)), `[${m}, ${n}]: ${actual} ≠ ${expected}`);
      }
    }
  } finally {
    await session.release();
  }
});
}
