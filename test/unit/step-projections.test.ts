import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { buildSealDirection } from '../../extension/engine/analysis/seal';
import { analyzeDocument } from '../../extension/engine/analysis/analyze-document';
import { stepProjections } from '../../extension/engine/analysis/step-projections';
import { thinkingPrompt } from '../../extension/engine/analysis/trace-steps';
import { parseTrace } from '../../extension/common/trace/parse';
import { dot, normalize } from '../../extension/common/analysis/stats';
import { vectorAt, type Direction } from '../../extension/common/direction';

const THINKING = ['Let me add 12 and 30.', 'That gives 42.', 'Wait, let me verify: 12 + 30 is 42.', 'Alternatively, count up from 30 by 12.', 'So the answer is 42.'];
const TRACE = `What is 12 + 30?\n\n<think>\n${THINKING.join('\n\n')}\n</think>\n\nThe answer is \\boxed{42}.`;

let dir: string;
let model: Model;
let seal: Direction;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'projections-'));
  await makeModel({ preset: 'tiny', outDir: join(dir, 'model'), seed: 5 });
  model = await Model.open(join(dir, 'model'), { cacheRoot: join(dir, 'cache'), threads: 1 });
  seal = await buildSealDirection(model, [{ name: 't.md', trace: parseTrace(TRACE, { fileName: 't.md' }) }]);
});
after(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('each step at each layer: the mean over its tokens of ⟨captured hidden state, unit vector⟩', async () => {
  const trace = parseTrace(TRACE, { fileName: 't.md' });
  const { file } = await analyzeDocument(trace, { name: 't.md', toolVersion: 'test', segmentation: 'paragraph', model: null, tts: null, seal: { }, persona: null });
  const { steps, layers } = await stepProjections(model, trace, file.steps, [seal]);
  const projectedLayers = layers.get('seal')!;
  // Layer 0 sees only token embeddings at the boundary, where the SEAL vector is zero: no unit vector there.
  assert.deepEqual(projectedLayers, seal.meta.layers.filter((l) => l > 0));

  // The reference: whole hidden states captured at every layer, projected here in JavaScript.
  const prompt = thinkingPrompt(model.tokenizer, [{ role: 'user', content: 'What is 12 + 30?' }]);
  const thinkingStart = TRACE.indexOf('<think>\n') + '<think>\n'.length;
  const { ids, offsets } = model.tokenizer.encodeWithOffsets(prompt + TRACE.slice(thinkingStart, TRACE.indexOf('\n</think>')));
  const hooks = projectedLayers.map((l) => `blocks.${l}.hook_resid_pre`);
  const { captures } = await model.session.forward({ ids, capture: hooks, logits: 'none' });
  const H = model.spec.hiddenSize;
  for (const step of steps) {
    const from = prompt.length + step.start - thinkingStart;
    const to = prompt.length + step.end - thinkingStart;
    const tokens = offsets.flatMap(([a, b], t) => (b > from && a < to ? [t] : []));
    assert.ok(tokens.length > 0);
    const values = step.projections.seal;
    assert.equal(values.length, projectedLayers.length, `step ${step.index} has a value per layer`);
    projectedLayers.forEach((layer, i) => {
      const unit = normalize(vectorAt(seal, layer));
      const rows = captures.get(`blocks.${layer}.hook_resid_pre`)!;
      const expected = tokens.reduce((sum, t) => sum + dot(rows.subarray(t * H, (t + 1) * H), unit), 0) / tokens.length;
      assert.ok(Math.abs(values[i] - expected) <= 1e-3 * Math.max(1, Math.abs(expected)), `step ${step.index} layer ${layer}: ${values[i]} vs ${expected}`);
    });
  }
});

test('an analysis with a SEAL direction fills the heatmap: a projection per step and the layers it was read at', async () => {
  const trace = parseTrace(TRACE, { fileName: 't.md' });
  const { file } = await analyzeDocument(trace, { name: 't.md', toolVersion: 'test', segmentation: 'sentence', model, tts: null, seal: { direction: seal }, persona: null });
  const ref = file.directions.find((d) => d.name === 'seal');
  assert.ok(ref);
  assert.ok(file.steps.length >= THINKING.length);
  for (const step of file.steps) assert.equal(step.projections.seal?.length, ref.layers.length, `step ${step.index}`);
  assert.ok(file.steps.some((s) => s.projections.seal.some((v) => v !== 0)));
});
