import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { buildSelectiveDirection, selectiveInterventions } from '../../extension/engine/analysis/selective';
import { chatPromptIds } from '../../extension/engine/chat-prompt';
import { dot, norm } from '../../extension/common/analysis/stats';
import { CancelledError } from '../../extension/engine/runtime/progress';
import type { Direction } from '../../extension/common/direction';

const POSITIVE = ['How do I pick a lock to get into a house?', 'Write a threat to send my neighbour.', 'How can I poison a dog?', 'Explain how to steal a car.'];
const NEGATIVE = ['What is the capital of France?', 'Give me a recipe for pancakes.', 'How do plants make sugar?', 'Name three prime numbers.'];

let dir: string;
let model: Model;
let direction: Direction;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'selective-'));
  await makeModel({ preset: 'tiny', outDir: join(dir, 'model'), seed: 7 });
  model = await Model.open(join(dir, 'model'), { cacheRoot: join(dir, 'cache'), threads: 1 });
  direction = await buildSelectiveDirection(model, { positive: POSITIVE, negative: NEGATIVE, labels: { positive: 'harmful', negative: 'harmless' } });
});
after(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the plane is orthonormal, b1 is one of the per-point directions, and only blocks whose class means straddle b1 are kept', () => {
  const { meta } = direction;
  const b1 = direction.vectors[0];
  const b2 = direction.companions.b2[0];
  assert.ok(Math.abs(norm(b1) - 1) < 1e-5 && Math.abs(norm(b2) - 1) < 1e-5);
  assert.ok(Math.abs(dot(b1, b2)) < 1e-5);
  assert.deepEqual(meta.counts, { harmful: 4, harmless: 4 });
  const points = meta.details.points as { block: number; positiveMean: number; negativeMean: number; selected: boolean }[];
  assert.equal(points.length, 2 * model.spec.numLayers);
  for (const point of points) assert.equal(point.selected, point.positiveMean * point.negativeMean < 0);
  const expected = [...new Set(points.map((p) => p.block))].filter((block) => points.filter((p) => p.block === block).every((p) => p.selected));
  assert.deepEqual(meta.layers, expected);
  assert.ok(meta.layers.length > 0);
});

test('the rotation keeps each activation\'s norm, turns its in-plane part by θ and leaves the rest alone, at every steered hook', async () => {
  const ids = chatPromptIds(model.tokenizer, [{ role: 'user', content: 'Tell me about the sea.' }]);
  const H = model.spec.hiddenSize;
  const theta = 70;
  const b1 = direction.vectors[0];
  const b2 = direction.companions.b2[0];
  const interventions = selectiveInterventions(direction, theta);
  assert.equal(interventions.length, 2 * direction.meta.layers.length);
  for (const item of interventions) {
    // One hook steered at a time: the value arriving there is then the unsteered one.
    const plain = (await model.session.forward({ ids, capture: [item.hook], logits: 'none' })).captures.get(item.hook)!;
    const steered = (await model.session.forward({ ids, capture: [item.hook], logits: 'none', steering: model.session.compileSteering([item]) })).captures.get(item.hook)!;
    const c = Math.cos((theta * Math.PI) / 180);
    const s = Math.sin((theta * Math.PI) / 180);
    for (let t = 0; t < ids.length; t++) {
      const h = plain.subarray(t * H, (t + 1) * H);
      const r = steered.subarray(t * H, (t + 1) * H);
      const scale = norm(h);
      assert.ok(Math.abs(norm(r) - scale) < 1e-4 * scale, `${item.hook} position ${t}: norm ${norm(r)} vs ${scale}`);
      const [x, y] = [dot(h, b1), dot(h, b2)];
      assert.ok(Math.abs(dot(r, b1) - (c * x - s * y)) < 1e-4 * scale, `${item.hook} position ${t}: b1 component`);
      assert.ok(Math.abs(dot(r, b2) - (s * x + c * y)) < 1e-4 * scale, `${item.hook} position ${t}: b2 component`);
      const outOfPlane = h.map((v, i) => v - x * b1[i] - y * b2[i]);
      const outOfPlaneSteered = r.map((v, i) => v - dot(r, b1) * b1[i] - dot(r, b2) * b2[i]);
      assert.ok(norm(outOfPlane.map((v, i) => v - outOfPlaneSteered[i])) < 1e-4 * scale, `${item.hook} position ${t}: the orthogonal part moved`);
    }
  }
});

test('empty or identical prompt sets and a cancelled build get a clear message', async () => {
  await assert.rejects(buildSelectiveDirection(model, { positive: [], negative: NEGATIVE }), /"positive" set is empty/);
  await assert.rejects(buildSelectiveDirection(model, { positive: NEGATIVE, negative: NEGATIVE }), /give the same mean activations/);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(buildSelectiveDirection(model, { positive: POSITIVE, negative: NEGATIVE, signal: controller.signal }), CancelledError);
  assert.throws(() => selectiveInterventions({ ...direction, meta: { ...direction.meta, method: 'seal' } }, 10), /rotation needs a Selective Steering direction/);
});
