// Logit lens on real models: each layer's reading equals the layer's residual (captured by a plain
// forward) through the checkpoint's own final norm and output weights, computed here from the
// safetensors; the last layer's reading is the answer confidence S_1(1); on the model whose answer hangs
// on one step, the answer becomes readable only after that step, and only at the layer that reads it.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseTrace } from '../../extension/common/trace/parse';
import { answerReadableAt, describeReadable, LENS_ANSWER, LENS_FIRST_TOKEN } from '../../extension/common/analysis/logit-lens';
import { logSoftmax } from '../../extension/common/analysis/tts';
import { openCheckpointWeights } from '../../extension/engine/checkpoint/weights';
import { computeLogitLens, lensProjections } from '../../extension/engine/analysis/logit-lens';
import { segmentThinking } from '../../extension/engine/analysis/trace-steps';
import { variantConfidence } from '../../extension/engine/analysis/tts/compute';
import { DEFAULT_TTS_CUE, ttsLayout, variantPrefix, type TtsLayout } from '../../extension/engine/analysis/tts/layout';
import { Model } from '../../extension/engine/model';
import { CancelledError } from '../../extension/engine/runtime/progress';
import { ANSWER } from '../support/one-step-model';
import { closeModelPair, openModelPair } from '../support/model-pair';

const REASONING = ['Let us look at the basket.', 'First we count 3 pears and 4 plums.', 'So we keep 5 apples.', 'Wait, 7 minus 1 is 6.', 'The basket holds 9 items.'].join(' ');

function chatTrace(answer: string): string {
  return JSON.stringify({ messages: [{ role: 'user', content: 'How many are left?' }, { role: 'assistant', reasoning_content: REASONING, content: `\\boxed{${answer}}` }] });
}

function layoutFor(model: Model, answer: string): Promise<TtsLayout> {
  const thinking = segmentThinking(parseTrace(chatTrace(answer)), 'sentence');
  return ttsLayout(model.tokenizer, { messages: thinking.messages, thinking: thinking.thinking.text, steps: thinking.steps, answer, cue: DEFAULT_TTS_CUE, seed: 100 });
}

/** p(token) from a residual row through RMSNorm(gain) and the output matrix [V, H], in float64. */
function lensByHand(residual: Float32Array, gain: Float32Array, head: Float32Array, eps: number, token: number): number {
  const H = residual.length;
  let meanSquare = 0;
  for (let i = 0; i < H; i++) meanSquare += residual[i] * residual[i];
  const scale = 1 / Math.sqrt(meanSquare / H + eps);
  const normed = residual.map((x, i) => x * scale * gain[i]);
  const V = head.length / H;
  const logits = new Float32Array(V);
  for (let v = 0; v < V; v++) {
    let dot = 0;
    for (let i = 0; i < H; i++) dot += head[v * H + i] * normed[i];
    logits[v] = dot;
  }
  return Math.exp(logSoftmax(logits)[token]);
}

describe('logit lens', () => {
  let root: string;
  let random: Model;
  let oneStep: Model;

  before(async () => {
    ({ root, random, oneStep } = await openModelPair('logit-lens-', { arch: 'llama', seed: 5 }));
  });
  after(() => closeModelPair({ root, random, oneStep }));

  it("reads each layer's residual through the checkpoint's final norm and output layer", async () => {
    const layout = await layoutFor(random, '9 items');
    const lens = await computeLogitLens(random.session, random.tokenizer, layout);
    assert.equal(lens.length, layout.perturbable.length);
    const weights = await openCheckpointWeights(join(root, 'random'));
    const gain = await weights.readFloat32('model.norm.weight');
    const head = await weights.readFloat32(weights.tensors.has('lm_head.weight') ? 'lm_head.weight' : 'model.embed_tokens.weight');
    await weights.close();
    const layers = random.spec.numLayers;
    for (const step of [0, 2, 4]) {
      const prefix = variantPrefix(random.tokenizer, layout, { step, stepIntact: true, contextIntact: true });
      const hooks = Array.from({ length: layers }, (_, l) => `blocks.${l}.hook_resid_post`);
      const { captures } = await random.session.forward({ ids: prefix, capture: hooks });
      const row = prefix.length - 1;
      const H = random.spec.hiddenSize;
      for (let l = 0; l < layers; l++) {
        const residual = captures.get(hooks[l])!.slice(row * H, (row + 1) * H);
        const expected = lensByHand(residual, gain, head, random.spec.rmsNormEps, layout.answer[0]);
        assert.ok(Math.abs(lens[step].firstToken[l] - expected) <= 1e-5 * Math.max(1, expected), `step ${step} layer ${l}: lens ${lens[step].firstToken[l]} vs by hand ${expected}`);
      }
      const s11 = await variantConfidence(random.session, random.tokenizer, layout, { step, stepIntact: true, contextIntact: true });
      assert.ok(Math.abs(Math.log(lens[step].answer[layers - 1]) - Math.log(s11)) < 1e-4, `step ${step}: the last layer reads S₁₁ (${lens[step].answer[layers - 1]} vs ${s11})`);
    }
  });

  it('finds where the answer becomes readable on a model that reads it from one step', async () => {
    const layout = await layoutFor(oneStep, ANSWER);
    const lens = await computeLogitLens(oneStep.session, oneStep.tokenizer, layout);
    // Step 2 writes "5 apples"; layer 1's content head copies the digit to the answer position.
    for (const step of [0, 1]) assert.ok(lens[step].firstToken.every((p) => p < 0.5), `nothing to read before the step (step ${step}: ${lens[step].firstToken})`);
    for (const step of [2, 3, 4]) {
      assert.ok(lens[step].firstToken[0] < 0.5, `layer 0 has not read the digit yet (step ${step})`);
      assert.ok(lens[step].firstToken.slice(1).every((p) => p > 0.9), `layers 1.. read it (step ${step}: ${lens[step].firstToken})`);
      assert.ok(lens[step].firstTokenTop.slice(1).every(Boolean));
    }
    const steps = lens.map((step) => ({ index: step.index, projections: { [LENS_FIRST_TOKEN]: step.firstToken, [LENS_ANSWER]: step.answer } }));
    assert.deepEqual(answerReadableAt(steps), { step: 2, layer: 1 });
    assert.equal(describeReadable(steps), 'the answer becomes readable at layer 1 after step 2');
  });

  it('annotates a parsed trace per step and stops when cancelled', async () => {
    const trace = parseTrace(chatTrace(ANSWER));
    const series = await lensProjections(oneStep, trace, { segmentation: 'sentence' });
    assert.equal(series.length, 5);
    assert.deepEqual(Object.keys(series[0]).sort(), [LENS_ANSWER, LENS_FIRST_TOKEN].sort());
    assert.equal(series[3][LENS_ANSWER].length, oneStep.spec.numLayers);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(lensProjections(oneStep, trace, { segmentation: 'sentence', signal: controller.signal }), CancelledError);
  });
});
