// The science, on a model built so that its answer depends on the number of exactly one step:
// TTS must single that step out, perturbing it must change the answer's probability, and the
// TrueThinking direction mined from such traces must steer whether the model uses the step.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceFile } from '../../extension/common/bundle/trace-file';
import { vectorAt, type Direction } from '../../extension/common/direction';
import { parseTrace } from '../../extension/common/trace/parse';
import { segmentThinking } from '../../extension/engine/analysis/trace-steps';
import { mineTrueThinking } from '../../extension/engine/analysis/truethinking-direction';
import { annotateTrace } from '../../extension/engine/analysis/tts/annotate';
import { steeredConfidence, variantConfidence } from '../../extension/engine/analysis/tts/compute';
import { DEFAULT_TTS_CUE, ttsLayout, type TtsLayout } from '../../extension/engine/analysis/tts/layout';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { Model } from '../../extension/engine/model';
import { ANSWER, makeOneStepModel } from '../support/one-step-model';
import { steerStep } from '../../extension/engine/analysis/tts/steer-step';

/** Paragraph-separated steps; the step holding "5 apples" is the one the model's answer reads. */
const TRACES: { steps: string[]; target: number }[] = [
  { steps: ['First we count 3 pears and 4 plums', 'Then we add 2 more pears to get 6', 'So we keep 5 apples', 'Wait, 7 minus 1 is 6', 'The basket holds 9 items in total'], target: 2 },
  { steps: ['We keep 5 apples', 'Then 8 plums arrive and 2 leave', 'That makes 6 plums', 'Let me check: 8 - 2 = 6'], target: 0 },
  { steps: ['There are 12 pears', 'Half of them is 6', 'The shop is closed', 'Then 3 go bad', 'In the end we keep 5 apples', 'And 4 plums'], target: 4 },
];

function traceText(steps: string[]): string {
  return JSON.stringify({ messages: [{ role: 'user', content: 'How many are left in the basket?' }, { role: 'assistant', reasoning_content: steps.join('\n\n'), content: `So the answer is \\boxed{${ANSWER}}.` }] });
}

describe('TTS and the TrueThinking direction on a model whose answer hangs on one step', () => {
  let root: string;
  let model: Model;
  let files: TraceFile[];
  let direction: Direction;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'truethinking-'));
    await makeOneStepModel(join(root, 'model'));
    model = await Model.open(join(root, 'model'), { cacheRoot: join(root, 'cache') });
    files = [];
    for (const [i, trace] of TRACES.entries()) {
      files.push(await annotateTrace(parseTrace(traceText(trace.steps)), { name: `trace ${i}`, toolVersion: 'test', segmentation: 'paragraph', model }));
    }
    direction = await mineTrueThinking(model, files);
  });

  after(async () => {
    await model?.close();
    await rm(root, { recursive: true, force: true });
  });

  function layoutOf(trace: number): Promise<TtsLayout> {
    const thinking = segmentThinking(parseTrace(traceText(TRACES[trace].steps)), 'paragraph');
    return ttsLayout(model.tokenizer, { messages: thinking.messages, thinking: thinking.thinking.text, steps: thinking.steps, answer: ANSWER, cue: DEFAULT_TTS_CUE, seed: 100 });
  }

  it('ranks the step the answer depends on first, by a wide margin', () => {
    for (const [i, file] of files.entries()) {
      const { target } = TRACES[i];
      const target_tts = file.steps[target].tts!;
      const others = file.steps.filter((step) => step.index !== target && step.tts !== null).map((step) => step.tts!);
      assert.ok(target_tts >= 0.9, `trace ${i}: the target step scores ${target_tts}`);
      assert.ok(others.length >= 2 && Math.max(...others) <= 0.005, `trace ${i}: other steps score ${others.join(', ')}`);
      assert.equal(file.settings.answer, ANSWER, 'the answer comes from the trace’s \\boxed{}');
    }
    const closed = files[2].steps[2];
    assert.equal(closed.perturbable, false);
    assert.equal(closed.tts, null, 'a step without numbers is not perturbable, not scored 0');
  });

  it('perturbing that step changes the probability of the answer', () => {
    for (const [i, file] of files.entries()) {
      const step = file.steps[TRACES[i].target];
      assert.ok(step.s11! > 0.9 && step.s01! < 0.01, `trace ${i}: S11 ${step.s11} vs S01 ${step.s01}`);
      assert.ok(step.s10! > 0.9 && step.s00! < 0.01, `trace ${i}: with the context perturbed, S10 ${step.s10} vs S00 ${step.s00}`);
    }
  });

  it('records the thresholds and how many steps went into each side', () => {
    const lowSteps = files.flatMap((file) => file.steps.filter((step) => step.tts !== null && step.tts <= 0.005)).length;
    assert.deepEqual(direction.meta.counts, { high: 3, low: lowSteps });
    assert.equal(direction.meta.method, 'truethinking');
    assert.equal(direction.meta.hook, 'hook_resid_pre');
    assert.deepEqual(direction.meta.layers, [0, 1, 2, 3]);
    assert.equal(direction.meta.model?.weightsHash, model.fingerprint.weightsHash);
    assert.deepEqual([direction.meta.details.highMin, direction.meta.details.lowMax], [0.9, 0.005]);
  });

  it('steering against the direction on that step makes the model ignore it', async () => {
    for (const [i, { target }] of TRACES.entries()) {
      const layout = await layoutOf(i);
      const variant = { step: target, stepIntact: true, contextIntact: true };
      const plain = await variantConfidence(model.session, model.tokenizer, layout, variant);
      const against = await steeredConfidence(model.session, model.tokenizer, layout, variant, { vector: vectorAt(direction, 1), layer: 1, scale: -1 });
      assert.ok(plain > 0.9 && against < 0.1, `trace ${i}: P(answer) ${plain} → ${against} when steered against the direction`);
    }
  });

  it('steering along the direction on a perturbed step makes the model use what it ignored', async () => {
    const layout = await layoutOf(0);
    const variant = { step: 2, stepIntact: false, contextIntact: true };
    const plain = await variantConfidence(model.session, model.tokenizer, layout, variant);
    const along = await steeredConfidence(model.session, model.tokenizer, layout, variant, { vector: vectorAt(direction, 1), layer: 1, scale: 1 });
    assert.ok(plain < 0.01 && along > 0.5, `P(answer) ${plain} → ${along} when steered along the direction`);
  });

  it('steering a decorative step leaves the answer alone', async () => {
    const layout = await layoutOf(0);
    const variant = { step: 3, stepIntact: true, contextIntact: true };
    const plain = await variantConfidence(model.session, model.tokenizer, layout, variant);
    const against = await steeredConfidence(model.session, model.tokenizer, layout, variant, { vector: vectorAt(direction, 1), layer: 1, scale: -1 });
    assert.ok(Math.abs(plain - against) < 0.01, `P(answer) ${plain} → ${against}`);
  });

  it('steer-step re-scores the step: against the direction its TTS collapses, on a decorative step nothing moves', async () => {
    const trace = parseTrace(traceText(TRACES[0].steps));
    const target = await steerStep(model, trace, { segmentation: 'paragraph', step: 2, direction, layer: 1, scale: -1 });
    assert.ok(target.before.tts > 0.9 && target.after.tts < 0.1, `target step TTS ${target.before.tts} → ${target.after.tts}`);
    assert.ok(target.after.s11 < 0.1, `with the step intact the model no longer reads it: S11 ${target.after.s11}`);
    const decorative = await steerStep(model, trace, { segmentation: 'paragraph', step: 3, direction, layer: 1, scale: -1 });
    assert.ok(Math.abs(decorative.before.tts - decorative.after.tts) < 0.01, `decorative step TTS ${decorative.before.tts} → ${decorative.after.tts}`);
    await assert.rejects(steerStep(model, parseTrace(traceText(TRACES[2].steps)), { segmentation: 'paragraph', step: 2, direction, scale: 1 }), /no number to perturb/);
  });

  it('samples at most the given number of steps per side', async () => {
    const small = await mineTrueThinking(model, files, { maxPerSide: 1 });
    assert.deepEqual(small.meta.counts, { high: 1, low: 1 });
  });

  it('refuses thresholds that leave a side empty, and results of another model', async () => {
    await assert.rejects(mineTrueThinking(model, files, { highMin: 0.9999 }), /0 steps with TTS ≥ 0.9999/);
    await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: join(root, 'other'), seed: 3 });
    const other = await Model.open(join(root, 'other'), { cacheRoot: join(root, 'cache') });
    try {
      await assert.rejects(mineTrueThinking(other, files), /trace 0 was analyzed with the model "model".*not the one loaded/);
    } finally {
      await other.close();
    }
  });
});
