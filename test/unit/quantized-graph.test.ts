// An int8 or int4 graph is the fp32 graph of its dequantized weights: every projection and the output
// layer go through MatMulNBits, reading the codes the quantizer wrote. Also: each stays near the
// original (int8 much nearer than int4), decodes with its cache, and steers.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { ensureGraph, fileHashFolder, graphFile, graphFingerprint } from '../../extension/engine/runtime/graph-cache';
import { DecoderSession } from '../../extension/engine/runtime/decoder-session';
import { dequantizeBlocks, quantizeBlocks } from '../../extension/engine/graph/quantize-blocks';
import { PRECISION_BITS } from '../../extension/engine/graph/graph-builder';

const root = mkdtempSync(join(tmpdir(), 'thinkscope-quantized-'));
const modelDir = join(root, 'model');
const cacheRoot = join(root, 'cache');
let fp32: Model;
let ids: number[];

before(async () => {
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: modelDir, seed: 11 });
  fp32 = await Model.open(modelDir, { cacheRoot, threads: 1 });
  ids = fp32.tokenizer.encode('The answer is 42, because six times seven is forty-two. Let me check that again.');
});
after(async () => {
  await fp32.close();
  rmSync(root, { recursive: true, force: true });
});

function relativeRms(actual: Float32Array, expected: Float32Array): number {
  let error = 0;
  let signal = 0;
  for (let i = 0; i < expected.length; i++) {
    error += (actual[i] - expected[i]) ** 2;
    signal += expected[i] ** 2;
  }
  return Math.sqrt(error / signal);
}

// Random weights: 16 levels per block of 32 move the logits by tens of percent after four layers; 256 levels by about one.
const NEAR_FP32 = { int8: 0.04, int4: 0.5 } as const;

for (const precision of ['int8', 'int4'] as const) {
  describe(`${precision} weights`, () => {
    let quantized: Model;
    before(async () => {
      quantized = await Model.open(modelDir, { cacheRoot, threads: 1, precision });
    });
    after(() => quantized.close());

    test(`${precision} logits match an fp32 graph over the dequantized weights`, async () => {
      const folder = await inspectModelFolder(modelDir);
      assert.equal(folder.spec.tieWordEmbeddings, false, 'the test needs an untied output layer');
      const isQuantized = (name: string) => /(_proj|^lm_head)\.weight$/.test(name.replace(/^model\.layers\.\d+\./, ''));
      const source = {
        tensors: folder.weights.tensors,
        readBytes: (name: string) => folder.weights.readBytes(name),
        async readFloat32(name: string): Promise<Float32Array> {
          const data = await folder.weights.readFloat32(name);
          if (!isQuantized(name)) return data;
          const [rows, columns] = folder.weights.tensors.get(name)!.shape;
          return dequantizeBlocks(quantizeBlocks(data, rows, columns, PRECISION_BITS[precision]));
        },
      };
      const fingerprint = graphFingerprint(`dequantized ${precision}`, await folder.weights.contentHash(fileHashFolder(cacheRoot)), { precision: 'fp32' });
      const graph = await ensureGraph(folder.spec, fingerprint, source, {}, cacheRoot);
      await folder.weights.close();
      const reference = await DecoderSession.create(folder.spec, (kinds) => graphFile(graph, kinds), { threads: 1 });
      try {
        const expected = (await reference.forward({ ids, logits: 'all' })).logits;
        const actual = (await quantized.session.forward({ ids, logits: 'all' })).logits;
        // What remains is MatMulNBits quantizing activations to int8 (accuracy level 4).
        assert.ok(relativeRms(actual, expected) < 0.02, `relative RMS ${relativeRms(actual, expected)}`);
      } finally {
        await reference.release();
      }
    });

    test(`${precision} logits stay near fp32 and decoding with the cache agrees with a full pass`, async () => {
      const exact = (await fp32.session.forward({ ids, logits: 'all' })).logits;
      const full = await quantized.session.forward({ ids, logits: 'all' });
      assert.ok(relativeRms(full.logits, exact) < NEAR_FP32[precision], `relative RMS ${relativeRms(full.logits, exact)}`);
      const split = ids.length - 3;
      const prefix = await quantized.session.forward({ ids: ids.slice(0, split), logits: 'none' });
      const rest = await quantized.session.forward({ ids: ids.slice(split), cache: prefix.cache, logits: 'all' });
      const V = quantized.spec.vocabSize;
      assert.ok(relativeRms(rest.logits, full.logits.subarray(split * V)) < 0.02);
    });

    test(`${precision} graphs steer: an added vector moves the logits`, async () => {
      const vector = new Float32Array(quantized.spec.hiddenSize).fill(0.5);
      const steering = quantized.session.compileSteering([{ hook: 'blocks.1.hook_resid_post', kind: 'add', vector, scale: 4 }]);
      const plain = (await quantized.session.forward({ ids })).logits;
      const steered = (await quantized.session.forward({ ids, steering })).logits;
      assert.ok(relativeRms(steered, plain) > 0.05);
    });
  });
}

test('a 16-bit embedding is kept as stored (half the bytes) and gives the logits of its float32 widening exactly', async () => {
  const dir = join(root, 'bf16');
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: dir, seed: 11, dtype: 'BF16' });
  const folder = await inspectModelFolder(dir);
  const { spec } = folder;
  try {
    const embeddingBytes = spec.vocabSize * spec.hiddenSize * 2;
    const asStored = await ensureGraph(spec, graphFingerprint('bf16 as stored', await folder.weights.contentHash(fileHashFolder(cacheRoot)), { precision: 'fp32' }), folder.weights, {}, cacheRoot);
    // The same weights, presented as float32: the embedding is then stored widened.
    const widened = { ...folder.weights, tensors: new Map([...folder.weights.tensors].map(([name, info]) => [name, { ...info, dtype: 'F32' }])), readFloat32: (n: string) => folder.weights.readFloat32(n), readBytes: (n: string) => folder.weights.readBytes(n) };
    const asFloat = await ensureGraph(spec, graphFingerprint('bf16 widened', await folder.weights.contentHash(fileHashFolder(cacheRoot)), { precision: 'fp32' }), widened, {}, cacheRoot);
    const weightsSize = (graph: { dir: string }) => statSync(join(graph.dir, 'weights.bin')).size;
    assert.ok(Math.abs(weightsSize(asFloat) - weightsSize(asStored) - embeddingBytes) < 65536 * 2, `${weightsSize(asFloat)} − ${weightsSize(asStored)} bytes: the embedding takes 2 bytes a value, not 4`);
    const [a, b] = await Promise.all([asStored, asFloat].map((graph) => DecoderSession.create(spec, (kinds) => graphFile(graph, kinds), { threads: 1 })));
    try {
      const kept = (await a.forward({ ids, logits: 'all' })).logits;
      const wide = (await b.forward({ ids, logits: 'all' })).logits;
      assert.deepEqual(kept, wide);
    } finally {
      await a.release();
      await b.release();
    }
  } finally {
    await folder.weights.close();
  }
});
