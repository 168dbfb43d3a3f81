// An int4 graph is the fp32 graph of its dequantized weights: every projection and the output layer
// go through MatMulNBits, reading the codes the quantizer wrote. Also: int4 stays near the original.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { ensureGraph, graphFingerprint } from '../../extension/engine/runtime/graph-cache';
import { DecoderSession } from '../../extension/engine/runtime/decoder-session';
import { dequantizeInt4, quantizeInt4 } from '../../extension/engine/graph/quantize-int4';

const root = mkdtempSync(join(tmpdir(), 'thinkscope-int4-'));
const modelDir = join(root, 'model');
const cacheRoot = join(root, 'cache');
let fp32: Model;
let int4: Model;
let ids: number[];

before(async () => {
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: modelDir, seed: 11 });
  fp32 = await Model.open(modelDir, { cacheRoot, threads: 1 });
  int4 = await Model.open(modelDir, { cacheRoot, threads: 1, precision: 'int4' });
  ids = fp32.tokenizer.encode('The answer is 42, because six times seven is forty-two. Let me check that again.');
});
after(async () => {
  await fp32.close();
  await int4.close();
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

test('int4 logits match an fp32 graph over the dequantized weights', async () => {
  const folder = await inspectModelFolder(modelDir);
  assert.equal(folder.spec.tieWordEmbeddings, false, 'the test needs an untied output layer');
  const quantized = (name: string) => /(_proj|^lm_head)\.weight$/.test(name.replace(/^model\.layers\.\d+\./, ''));
  const source = {
    async readFloat32(name: string): Promise<Float32Array> {
      const data = await folder.weights.readFloat32(name);
      if (!quantized(name)) return data;
      const [rows, columns] = folder.weights.tensors.get(name)!.shape;
      return dequantizeInt4(quantizeInt4(data, rows, columns));
    },
  };
  const fingerprint = graphFingerprint('dequantized', folder.weights.weightsFingerprint(), { precision: 'fp32' });
  const graph = await ensureGraph(folder.spec, fingerprint, source, {}, cacheRoot);
  await folder.weights.close();
  const reference = await DecoderSession.create(folder.spec, graph.modelPath, { threads: 1 });
  try {
    const expected = (await reference.forward({ ids, logits: 'all' })).logits;
    const actual = (await int4.session.forward({ ids, logits: 'all' })).logits;
    // What remains is MatMulNBits quantizing activations to int8 (accuracy level 4).
    assert.ok(relativeRms(actual, expected) < 0.02, `relative RMS ${relativeRms(actual, expected)}`);
  } finally {
    await reference.release();
  }
});

test('int4 logits stay near fp32 and decoding with the cache agrees with a full pass', async () => {
  const exact = (await fp32.session.forward({ ids, logits: 'all' })).logits;
  const full = await int4.session.forward({ ids, logits: 'all' });
  // 16 levels per block of 32 on random weights: a few tens of percent after four layers, never more.
  assert.ok(relativeRms(full.logits, exact) < 0.5, `relative RMS ${relativeRms(full.logits, exact)}`);
  const split = ids.length - 3;
  const prefix = await int4.session.forward({ ids: ids.slice(0, split), logits: 'none' });
  const rest = await int4.session.forward({ ids: ids.slice(split), cache: prefix.cache, logits: 'all' });
  const V = int4.spec.vocabSize;
  assert.ok(relativeRms(rest.logits, full.logits.subarray(split * V)) < 0.02);
});

test('int4 graphs steer: an added vector moves the logits', async () => {
  const vector = new Float32Array(int4.spec.hiddenSize).fill(0.5);
  const steering = int4.session.compileSteering([{ hook: 'blocks.1.hook_resid_post', kind: 'add', vector, scale: 4 }]);
  const plain = (await int4.session.forward({ ids })).logits;
  const steered = (await int4.session.forward({ ids, steering })).logits;
  assert.ok(relativeRms(steered, plain) > 0.05);
});
