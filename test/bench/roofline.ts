// The machine's roofline as onnxruntime itself reaches it: large fp32 MatMul throughput (the ceiling
// for prefill) and streaming read bandwidth (the ceiling for decode, which reads every weight once per
// token). Both run through tiny graphs built with the engine's own ONNX encoder.

import * as ort from 'onnxruntime-node';
import { DataType, encodeModel, type GraphDef } from '../../extension/engine/graph/onnx-proto';
import { BLOCK_SIZE, blockBytes, quantizeBlocks, type WeightBits } from '../../extension/engine/graph/quantize-blocks';
import { repeat, summarize, type Sample } from './stats';

function modelBytes(graph: GraphDef): Uint8Array {
  return encodeModel({ graph, opsets: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }], producerName: 'thinkscope-bench', producerVersion: '1' });
}

function randomFloats(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = ((state >>> 0) / 4294967296 - 0.5) * 0.1;
  }
  return out;
}

/** Streaming graphs run as written: no constant folding, no repacking of their one big initializer. */
async function session(graph: GraphDef, threads: number, asWritten = false): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelBytes(graph), {
    graphOptimizationLevel: asWritten ? 'disabled' : 'all',
    extra: asWritten ? { session: { disable_prepacking: '1' } } : {},
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
}

/** [M, K] × [K, N] with the weight as an initializer (prepacked, like the model's projections). */
async function matmul(M: number, K: number, N: number, threads: number, runs: number): Promise<Sample> {
  const graph = fp32Graph(M, K, N);
  const s = await session(graph, threads);
  const feeds = { a: new ort.Tensor('float32', randomFloats(M * K, 3), [M, K]) };
  await s.run(feeds);
  const seconds = await repeat(runs, async () => {
    await s.run(feeds);
  });
  await s.release();
  return seconds.map((t) => (2 * M * K * N) / t / 1e9);
}

/**
 * [M, K] × the 4- or 8-bit blocks of a [N, K] weight, as the quantized graphs run their projections
 * (MatMulNBits) at an accuracy level: 0 computes in float32 from dequantized tiles, 4 quantizes the rows
 * to int8 for the CPU's integer dot-product units.
 */
function blocksGraph(M: number, K: number, N: number, bits: WeightBits, accuracyLevel: number): GraphDef {
  const q = quantizeBlocks(randomFloats(N * K, 7), N, K, bits);
  const blocks = q.scales.length / N;
  return {
    name: 'matmul-nbits',
    nodes: [{ opType: 'MatMulNBits', domain: 'com.microsoft', inputs: ['a', 'b', 's'], outputs: ['c'], name: 'mm', attributes: { K, N, bits, block_size: BLOCK_SIZE, accuracy_level: accuracyLevel } }],
    initializers: [
      { name: 'b', elemType: DataType.UINT8, dims: [N, blocks, blockBytes(bits)], raw: q.codes },
      { name: 's', elemType: DataType.FLOAT, dims: [N, blocks], raw: new Uint8Array(q.scales.buffer) },
    ],
    inputs: [{ name: 'a', elemType: DataType.FLOAT, shape: [M, K] }],
    outputs: [{ name: 'c', elemType: DataType.FLOAT, shape: [M, N] }],
  };
}

/**
 * The 8-bit blocks widened to float32 in the graph (DequantizeLinear by blocks), then one fp32 Gemm: the
 * other way onnxruntime can run quantized weights, and what a multi-row path over the same codes would cost.
 */
function dequantizedGraph(M: number, K: number, N: number): GraphDef {
  const q = quantizeBlocks(randomFloats(N * K, 7), N, K, 8);
  const blocks = q.scales.length / N;
  return {
    name: 'dequantize-gemm',
    nodes: [
      { opType: 'DequantizeLinear', inputs: ['b', 's', 'z'], outputs: ['w'], name: 'widen', attributes: { axis: 1, block_size: BLOCK_SIZE } },
      { opType: 'Gemm', inputs: ['a', 'w'], outputs: ['c'], name: 'mm', attributes: { transB: 1 } },
    ],
    initializers: [
      { name: 'b', elemType: DataType.UINT8, dims: [N, K], raw: q.codes },
      { name: 's', elemType: DataType.FLOAT, dims: [N, blocks], raw: new Uint8Array(q.scales.buffer) },
      { name: 'z', elemType: DataType.UINT8, dims: [N, blocks], raw: new Uint8Array(N * blocks).fill(128) },
    ],
    inputs: [{ name: 'a', elemType: DataType.FLOAT, shape: [M, K] }],
    outputs: [{ name: 'c', elemType: DataType.FLOAT, shape: [M, N] }],
  };
}

function fp32Graph(M: number, K: number, N: number): GraphDef {
  return {
    name: 'matmul',
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['c'], name: 'mm' }],
    initializers: [{ name: 'b', elemType: DataType.FLOAT, dims: [K, N], raw: new Uint8Array(randomFloats(K * N, 7).buffer) }],
    inputs: [{ name: 'a', elemType: DataType.FLOAT, shape: [M, K] }],
    outputs: [{ name: 'c', elemType: DataType.FLOAT, shape: [M, N] }],
  };
}

/** Bytes per second of a run that reads `bytes` once from memory. */
async function streaming(graph: GraphDef, feeds: Record<string, ort.Tensor>, bytes: number, threads: number, runs: number): Promise<Sample> {
  const s = await session(graph, threads, true);
  await s.run(feeds);
  const seconds = await repeat(runs, async () => {
    await s.run(feeds);
  });
  await s.release();
  return seconds.map((t) => bytes / t / 1e9);
}

const STREAM_FLOATS = 256 * 1024 * 1024; // 1 GiB, far beyond the caches

/** The streamed tensor is an initializer: onnxruntime reads it where it lies, as it does the model's weights. */
function streamed(name: string, dims: number[], data: Float32Array) {
  return { name, elemType: DataType.FLOAT, dims, raw: new Uint8Array(data.buffer) };
}

/** ReduceSum over a 1 GiB tensor. */
function reduceSum(threads: number, runs: number): Promise<Sample> {
  const rows = 4096;
  const graph: GraphDef = {
    name: 'stream-reduce',
    nodes: [{ opType: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], name: 'sum', attributes: { keepdims: 0 } }],
    initializers: [
      { name: 'axes', elemType: DataType.INT64, dims: [1], raw: new Uint8Array(BigInt64Array.from([1n]).buffer) },
      streamed('x', [rows, STREAM_FLOATS / rows], new Float32Array(STREAM_FLOATS).fill(1)),
    ],
    inputs: [{ name: 'unused', elemType: DataType.FLOAT, shape: [1] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [rows] }],
  };
  return streaming(graph, { unused: new ort.Tensor('float32', new Float32Array(1), [1]) }, STREAM_FLOATS * 4, threads, runs);
}

/** One row times a 1 GiB matrix: the access pattern of a decode step, with nothing cached. */
function rowTimesMatrix(threads: number, runs: number): Promise<Sample> {
  const K = 8192;
  const N = STREAM_FLOATS / K;
  const graph: GraphDef = {
    name: 'stream-gemv',
    nodes: [{ opType: 'MatMul', inputs: ['a', 'b'], outputs: ['c'], name: 'gemv' }],
    initializers: [streamed('b', [K, N], randomFloats(STREAM_FLOATS, 9))],
    inputs: [{ name: 'a', elemType: DataType.FLOAT, shape: [1, K] }],
    outputs: [{ name: 'c', elemType: DataType.FLOAT, shape: [1, N] }],
  };
  return streaming(graph, { a: new ort.Tensor('float32', randomFloats(K, 5), [1, K]) }, STREAM_FLOATS * 4, threads, runs);
}

export interface Roofline {
  /** GFLOP/s per MatMul shape. */
  matmul: Record<string, Sample>;
  /** GB/s per streaming kernel. */
  bandwidth: Record<string, Sample>;
  /** GFLOP/s of the quantized projection kernels at 512 rows (prefill) and 1 row (decode), by accuracy level, beside fp32 MatMul. */
  int4: Record<string, Sample>;
}

/** The shape of the 0.5B model's MLP projections, the largest of its layers. */
const PROJECTION = { K: 896, N: 4864 };

export async function measureRoofline(threads: number, runs: number): Promise<Roofline> {
  return {
    matmul: {
      '512×896 · 896×4864': await matmul(512, 896, 4864, threads, runs),
      '1024×4096 · 4096×4096': await matmul(1024, 4096, 4096, threads, runs),
    },
    bandwidth: {
      'ReduceSum 1 GiB': await reduceSum(threads, runs),
      'row × 1 GiB matrix': await rowTimesMatrix(threads, runs),
    },
    int4: await projectionKernels(threads, runs),
  };
}

/** fp32 MatMul, MatMulNBits (int4 at accuracy levels 0 and 4, int8 at 4) and int8 widened to fp32, interleaved run by run, at 512 rows and at 1. */
async function projectionKernels(threads: number, runs: number): Promise<Record<string, Sample>> {
  const { K, N } = PROJECTION;
  const out: Record<string, Sample> = {};
  for (const M of [512, 1]) {
    const kernels = [
      { name: `fp32 MatMul, ${M} rows`, graph: fp32Graph(M, K, N) },
      { name: `int4 accuracy 0, ${M} rows`, graph: blocksGraph(M, K, N, 4, 0) },
      { name: `int4 accuracy 4, ${M} rows`, graph: blocksGraph(M, K, N, 4, 4) },
      { name: `int8 accuracy 4, ${M} rows`, graph: blocksGraph(M, K, N, 8, 4) },
      { name: `int8 widened to fp32 + Gemm, ${M} rows`, graph: dequantizedGraph(M, K, N) },
    ];
    const sessions = await Promise.all(kernels.map((k) => session(k.graph, threads)));
    const feeds = { a: new ort.Tensor('float32', randomFloats(M * K, 3), [M, K]) };
    for (const s of sessions) await s.run(feeds);
    // A one-row product takes well under a millisecond: its sample is the median of many calls.
    const calls = M === 1 ? 21 : 1;
    for (let run = 0; run < runs; run++) {
      for (const [i, s] of sessions.entries()) {
        const seconds = await repeat(calls, async () => {
          await s.run(feeds);
        });
        (out[kernels[i].name] ??= []).push((2 * M * K * N) / summarize(seconds).median / 1e9);
      }
    }
    await Promise.all(sessions.map((s) => s.release()));
  }
  return out;
}
