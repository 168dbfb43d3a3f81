// Steering blocks at the hook kinds a session steers: a session that has not steered runs a graph
// without them and computes exactly what one with idle blocks computes; its first steered run adds
// blocks at that kind only, over the same weights file; and the emitted graphs copy no hook output and
// read each layer's q, k and v in one product.

import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { buildDecoderGraph, STEERABLE_KINDS, steerableHooks, steeringInputs } from '../../extension/engine/graph/graph-builder';
import { ensureGraph, fileHashFolder, graphFile, graphFingerprint, type CachedGraph } from '../../extension/engine/runtime/graph-cache';
import { DecoderSession } from '../../extension/engine/runtime/decoder-session';
import type { Intervention } from '../../extension/common/steering-plan';

const root = mkdtempSync(join(tmpdir(), 'thinkscope-graph-options-'));
const modelDir = join(root, 'model');
const cacheRoot = join(root, 'cache');
let model: Model;
let graph: CachedGraph;
/** Blocks at every steerable kind from the start. */
let everywhere: DecoderSession;
let ids: number[];

const openSession = () => DecoderSession.create(model.spec, (kinds) => graphFile(graph, kinds), { threads: 1 });
const addition = (hook: string): Intervention[] => [{ hook, kind: 'add', vector: Float32Array.from({ length: model.spec.hiddenSize }, (_, i) => Math.sin(i)), scale: 2 }];

before(async () => {
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: modelDir, seed: 5 });
  model = await Model.open(modelDir, { cacheRoot, threads: 1 });
  const folder = await inspectModelFolder(modelDir);
  const key = graphFingerprint(folder.configText, await folder.weights.contentHash(fileHashFolder(cacheRoot)), { precision: 'fp32' });
  graph = await ensureGraph(folder.spec, key, folder.weights, {}, cacheRoot);
  await folder.weights.close();
  assert.equal(graph.built, false, 'the model opened the same cache entry');
  everywhere = await openSession();
  await everywhere.prepareSteering(STEERABLE_KINDS);
  assert.deepEqual(everywhere.steeredKinds, STEERABLE_KINDS);
  ids = model.tokenizer.encode('Wait, let me check: two plus two is four.');
});
after(async () => {
  await model.close();
  await everywhere.release();
  rmSync(root, { recursive: true, force: true });
});

test('a session that has not steered has no blocks and gives the logits, hooks and cache of idle blocks', async () => {
  assert.deepEqual(model.session.steeredKinds, []);
  const capture = ['blocks.0.hook_resid_pre', 'blocks.1.ln1.hook_normalized', 'blocks.2.hook_resid_mid', 'blocks.3.hook_resid_post', 'ln_final.hook_normalized'];
  const a = await everywhere.forward({ ids, capture, logits: 'all' });
  const b = await model.session.forward({ ids, capture, logits: 'all' });
  assert.deepEqual(b.logits, a.logits);
  for (const hook of capture) assert.deepEqual(b.captures.get(hook), a.captures.get(hook), hook);
  const next = await model.session.forward({ ids: [ids[0]], cache: b.cache });
  const reference = await everywhere.forward({ ids: [ids[0]], cache: a.cache });
  assert.deepEqual(next.logits, reference.logits);
  assert.deepEqual(model.session.steeredKinds, [], 'capturing adds no blocks');
});

test('the first run that steers at a hook kind adds blocks at that kind only, and steers as blocks there from the start do', async () => {
  const session = await openSession();
  try {
    const plain = (await session.forward({ ids, logits: 'all' })).logits;
    const steering = session.compileSteering(addition('blocks.1.ln1.hook_normalized'));
    assert.deepEqual(steering.kinds, ['ln1.hook_normalized']);
    const steered = (await session.forward({ ids, steering, logits: 'all' })).logits;
    assert.deepEqual(session.steeredKinds, ['ln1.hook_normalized']);
    assert.deepEqual(steered, (await everywhere.forward({ ids, steering: everywhere.compileSteering(addition('blocks.1.ln1.hook_normalized')), logits: 'all' })).logits);
    assert.notDeepEqual(steered, plain);
    assert.deepEqual((await session.forward({ ids, logits: 'all' })).logits, plain, 'idle blocks change nothing');

    // blocks.2.hook_resid_pre is blocks.1.hook_resid_post: the residual stream's blocks.
    const residual = session.compileSteering(addition('blocks.2.hook_resid_pre'));
    assert.deepEqual(residual.kinds, ['hook_resid_post']);
    await session.forward({ ids, steering: residual });
    assert.deepEqual(session.steeredKinds, ['ln1.hook_normalized', 'hook_resid_post']);
    const files = readdirSync(graph.dir).filter((name) => !name.startsWith('.'));
    assert.deepEqual(files.filter((name) => name.endsWith('.bin')), ['weights.bin'], 'every graph reads the one weights file');
    assert.ok(files.includes('model.steered-ln1.hook_normalized+hook_resid_post.onnx'), files.join(', '));
  } finally {
    await session.release();
  }
});

test('runs that start while blocks are added wait for them; a run in progress finishes on the session it started on', async () => {
  // Each (re)open, with how many runs were inside onnxruntime at that moment.
  const opens: string[] = [];
  let inside = 0;
  const sessions = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;
  const ortRun = sessions.run;
  sessions.run = async function (this: ort.InferenceSession, ...args: Parameters<typeof ortRun>) {
    inside++;
    try {
      return await ortRun.apply(this, args);
    } finally {
      inside--;
    }
  } as typeof ortRun;
  const session = await DecoderSession.create(model.spec, (kinds) => (opens.push(`${kinds.join('+') || 'plain'} with ${inside} runs inside`), graphFile(graph, kinds)), { threads: 1 });
  try {
    const long = Array.from({ length: 1500 }, (_, i) => ids[i % ids.length]);
    const plainLong = (await model.session.forward({ ids: long, logits: 'last' })).logits;
    const plain = (await model.session.forward({ ids, logits: 'all' })).logits;
    const steering = session.compileSteering(addition('blocks.0.hook_resid_mid'));
    const expected = (await everywhere.forward({ ids, steering: everywhere.compileSteering(addition('blocks.0.hook_resid_mid')), logits: 'all' })).logits;
    const inProgress = session.forward({ ids: long, logits: 'last' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(inside, 1, 'the long run is inside onnxruntime when the steered one asks for blocks');
    const results = await Promise.all([inProgress, session.forward({ ids, steering, logits: 'all' }), session.forward({ ids, logits: 'all' })]);
    assert.deepEqual(results.map((r) => r.logits), [plainLong, expected, plain]);
    assert.deepEqual(opens, ['plain with 0 runs inside', 'hook_resid_mid with 0 runs inside'], 'the reopen waited for the run in progress');
    assert.deepEqual(session.steeredKinds, ['hook_resid_mid']);
  } finally {
    sessions.run = ortRun;
    await session.release();
  }
});

test('a graph file that was changed is made again; steering where no block can be is refused', async () => {
  writeFileSync(join(graph.dir, 'model.onnx'), 'not a model');
  const session = await openSession();
  try {
    assert.deepEqual((await session.forward({ ids, logits: 'all' })).logits, (await model.session.forward({ ids, logits: 'all' })).logits);
    assert.throws(() => session.compileSteering(addition('ln_final.hook_normalized')), /ln_final\.hook_normalized has no steering block/);
  } finally {
    await session.release();
  }
});

test('the graphs copy no hook output, and read q, k and v in one product per layer', () => {
  for (const precision of ['fp32', 'int4'] as const) {
    for (const steeredKinds of [[], STEERABLE_KINDS]) {
      const { graph } = buildDecoderGraph(model.spec, { precision, steeredKinds });
      const ops = new Set(graph.nodes.map((n) => n.opType));
      assert.ok(!ops.has('Identity'), `${precision}, blocks at ${steeredKinds.join(', ')}: ${[...ops].join(', ')}`);
      const inputs = new Set(graph.inputs.map((i) => i.name));
      assert.equal(steerableHooks(model.spec.numLayers).filter((h) => inputs.has(steeringInputs(h).w)).length, steeredKinds.length === 0 ? 0 : 4 * model.spec.numLayers + 1);
      // qkv, o, gate, up, down per layer, and the output layer twice (the logits and the logit lens)
      // over one stored weight; the only split is each layer's q, k, v.
      const projections = graph.nodes.filter((n) => /\/(QKV|O|Gate|Up|Down|LmHead)(_\d+)?$/.test(n.name));
      assert.equal(projections.length, 5 * model.spec.numLayers + 2);
      const splits = graph.nodes.filter((n) => n.opType === 'Split');
      const producer = (tensor: string) => graph.nodes.find((n) => n.outputs.includes(tensor))!;
      // Each split's input is its layer's q, k, v product seen as heads (a Reshape of it).
      const producers = splits.map((split) => producer(producer(split.inputs[0]).inputs[0]).name);
      assert.equal(splits.length, model.spec.numLayers);
      assert.ok(producers.every((name) => /\/QKV(Bias)?(_\d+)?$/.test(name)), producers.join(', '));
      const heads = projections.filter((n) => n.name.includes('LmHead'));
      assert.equal(new Set(heads.map((n) => n.inputs[1])).size, 1);
      assert.ok(projections.every((n) => n.opType === (precision === 'fp32' ? 'MatMul' : 'MatMulNBits')));
    }
  }
});
