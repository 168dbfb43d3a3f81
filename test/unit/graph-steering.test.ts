// The steering block as the graph runs it: two kernels per hook point, probes that read ⟨h, w⟩ of
// either sign, and position gates that leave every other position untouched, in a prompt pass and in
// a cached step.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { buildDecoderGraph, STEERABLE_KINDS, steerableHooks, steeringInputs } from '../../extension/engine/graph/graph-builder';

const root = mkdtempSync(join(tmpdir(), 'thinkscope-graph-steering-'));
let model: Model;
let ids: number[];
const hook = 'blocks.1.hook_resid_post';

before(async () => {
  await makeModel({ preset: 'tiny', arch: 'llama', outDir: join(root, 'model'), seed: 9 });
  model = await Model.open(join(root, 'model'), { cacheRoot: join(root, 'cache'), threads: 1 });
  ids = model.tokenizer.encode('First, six times seven is forty-two; then add eight.');
});
after(async () => {
  await model.close();
  rmSync(root, { recursive: true, force: true });
});

const H = () => model.spec.hiddenSize;
const row = (data: Float32Array, t: number) => data.subarray(t * H(), (t + 1) * H());
const wave = (phase: number) => Float32Array.from({ length: H() }, (_, i) => Math.sin(i * 0.7 + phase));

test('every steering block is two kernels fed by three inputs', () => {
  const { graph } = buildDecoderGraph(model.spec, { precision: 'fp32', steeredKinds: STEERABLE_KINDS });
  const hooks = steerableHooks(model.spec.numLayers);
  for (const name of hooks) {
    const nodes = graph.nodes.filter((n) => n.name.startsWith(`/steer/${name}/`));
    assert.deepEqual(nodes.map((n) => n.opType), ['FusedGemm', 'Gemm'], name);
  }
  const steeringFeeds = graph.inputs.filter((i) => i.name.startsWith('steer.'));
  assert.equal(steeringFeeds.length, 3 * hooks.length);
  assert.ok(hooks.every((h) => Object.values(steeringInputs(h)).every((input) => steeringFeeds.some((i) => i.name === input))));
});

test('a probe reads ⟨h, w⟩ of the value arriving at its hook, negative values included', async () => {
  const plain = await model.session.forward({ ids, capture: [hook] });
  const direction = wave(0.3);
  const add = { hook, kind: 'add' as const, vector: wave(1.1), scale: 2 };
  const steering = model.session.compileSteering([add], [{ name: 'p', hook, direction }]);
  const steered = await model.session.forward({ ids, steering });
  const readout = steered.probes.get('p')!;
  const captured = plain.captures.get(hook)!;
  let negatives = 0;
  for (let t = 0; t < ids.length; t++) {
    const expected = row(captured, t).reduce((s, x, i) => s + x * direction[i], 0);
    assert.ok(Math.abs(readout[t] - expected) <= 1e-4 * (1 + Math.abs(expected)), `position ${t}: ${readout[t]} vs ${expected}`);
    if (expected < 0) negatives++;
  }
  assert.ok(negatives > 0 && negatives < ids.length, 'the test direction should give readouts of both signs');
});

test('a position-gated addition changes only its positions, in the prompt pass and in cached steps', async () => {
  const vector = wave(2);
  const target = 3;
  const steering = model.session.compileSteering([{ hook, kind: 'add', vector, scale: 0.5, positions: [target, ids.length + 1] }]);
  const plain = await model.session.forward({ ids, capture: [hook] });
  const steered = await model.session.forward({ ids, capture: [hook], steering });
  for (let t = 0; t < ids.length; t++) {
    const a = row(plain.captures.get(hook)!, t);
    const b = row(steered.captures.get(hook)!, t);
    if (t < target) assert.deepEqual(b, a, `position ${t} precedes the gate`);
    if (t === target) b.forEach((x, i) => assert.ok(Math.abs(x - (a[i] + Math.fround(0.5 * vector[i]))) <= 1e-5, `position ${t}, unit ${i}`));
  }
  // Cached steps from the unsteered prompt: position ids.length is off, ids.length + 1 on.
  let plainCache = plain.cache;
  let steeredCache = plain.cache;
  for (const position of [ids.length, ids.length + 1]) {
    const a = await model.session.forward({ ids: [ids[0]], cache: plainCache, capture: [hook] });
    const b = await model.session.forward({ ids: [ids[0]], cache: steeredCache, capture: [hook], steering });
    const delta = b.captures.get(hook)!.map((x, i) => x - a.captures.get(hook)![i]);
    if (position === ids.length) assert.ok(delta.every((x) => x === 0), 'the off position is untouched');
    else delta.forEach((x, i) => assert.ok(Math.abs(x - Math.fround(0.5 * vector[i])) <= 1e-5, `unit ${i}`));
    plainCache = a.cache;
    steeredCache = b.cache;
  }
});
