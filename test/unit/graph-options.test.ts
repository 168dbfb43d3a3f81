// Build options of the decoder graph: a graph without steering blocks (the benchmark's baseline)
// computes exactly what the steerable graph computes when idle, and the emitted graph carries no
// copies or splits that cost time on every forward.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { buildDecoderGraph, steerableHooks, steeringInputs } from '../../extension/engine/graph/graph-builder';
import { ensureGraph, fileHashFolder, graphFingerprint, type GraphOptions } from '../../extension/engine/runtime/graph-cache';
import { DecoderSession } from '../../extension/engine/runtime/decoder-session';

const root = mkdtempSync(join(tmpdir(), 'thinkscope-graph-options-'));
const modelDir = join(root, 'model');
const cacheRoot = join(root, 'cache');
let steerable: Model;
let bare: DecoderSession;
let ids: number[];

before(async () => {
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: modelDir, seed: 5 });
  steerable = await Model.open(modelDir, { cacheRoot, threads: 1 });
  const folder = await inspectModelFolder(modelDir);
  const options: GraphOptions = { precision: 'fp32', steering: false };
  const key = graphFingerprint(readFileSync(join(modelDir, 'config.json'), 'utf8'), (await folder.weights.contentHash(fileHashFolder(cacheRoot))), options);
  assert.notEqual(key, graphFingerprint(readFileSync(join(modelDir, 'config.json'), 'utf8'), (await folder.weights.contentHash(fileHashFolder(cacheRoot))), { precision: 'fp32' }));
  const graph = await ensureGraph(folder.spec, key, folder.weights, {}, cacheRoot, options);
  await folder.weights.close();
  bare = await DecoderSession.create(folder.spec, graph.modelPath, { threads: 1 });
  ids = steerable.tokenizer.encode('Wait, let me check: two plus two is four.');
});
after(async () => {
  await steerable.close();
  await bare.release();
  rmSync(root, { recursive: true, force: true });
});

test('a graph without steering blocks gives the logits, hooks and cache of the idle steerable graph', async () => {
  const capture = ['blocks.0.hook_resid_pre', 'blocks.1.ln1.hook_normalized', 'blocks.2.hook_resid_mid', 'blocks.3.hook_resid_post', 'ln_final.hook_normalized'];
  const a = await steerable.session.forward({ ids, capture, logits: 'all' });
  const b = await bare.forward({ ids, capture, logits: 'all' });
  assert.deepEqual(b.logits, a.logits);
  for (const hook of capture) assert.deepEqual(b.captures.get(hook), a.captures.get(hook), hook);
  const next = await bare.forward({ ids: [ids[0]], cache: b.cache });
  const reference = await steerable.session.forward({ ids: [ids[0]], cache: a.cache });
  assert.deepEqual(next.logits, reference.logits);
});

test('steering a graph built without steering blocks is refused with a clear message', () => {
  const vector = new Float32Array(steerable.spec.hiddenSize).fill(1);
  assert.throws(() => bare.compileSteering([{ hook: 'blocks.0.hook_resid_post', kind: 'add', vector, scale: 1 }]), /built without steering blocks/);
});

test('the graph copies no hook output and splits no projection', () => {
  for (const precision of ['fp32', 'int4'] as const) {
    for (const steering of [true, false]) {
      const { graph } = buildDecoderGraph(steerable.spec, { precision, steering });
      const ops = new Set(graph.nodes.map((n) => n.opType));
      assert.ok(!ops.has('Identity') && !ops.has('Split'), `${precision}, steering ${steering}: ${[...ops].join(', ')}`);
      const inputs = new Set(graph.inputs.map((i) => i.name));
      assert.equal(steerableHooks(steerable.spec.numLayers).every((h) => inputs.has(steeringInputs(h).w)), steering);
      // q, k, v, o, gate, up, down per layer, each one product over its own weight, and the output
      // layer twice (the logits and the logit lens) over one stored weight.
      const projections = graph.nodes.filter((n) => /\/(Q|K|V|O|Gate|Up|Down|LmHead)(_\d+)?$/.test(n.name));
      assert.equal(projections.length, 7 * steerable.spec.numLayers + 2);
      const heads = projections.filter((n) => n.name.includes('LmHead'));
      assert.equal(new Set(heads.map((n) => n.inputs[1])).size, 1);
      assert.ok(projections.every((n) => n.opType === (precision === 'fp32' ? 'MatMul' : 'MatMulNBits')));
    }
  }
});
