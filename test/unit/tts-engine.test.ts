// True Thinking Score on a real model: the forked-cache computation equals recomputing each of the
// four prompts from scratch, non-perturbable steps get no score, progress and cancellation work.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseTrace } from '../../extension/common/trace/parse';
import { segmentThinking } from '../../extension/engine/analysis/trace-steps';
import { computeTts, variantConfidence, type StepScore } from '../../extension/engine/analysis/tts/compute';
import { DEFAULT_TTS_CUE, ttsLayout, type TtsLayout } from '../../extension/engine/analysis/tts/layout';
import { Model } from '../../extension/engine/model';
import { CancelledError, type ProgressUpdate } from '../../extension/engine/runtime/progress';
import { bytesPerRow } from '../../extension/engine/runtime/memory-budget';
import { ANSWER } from '../support/one-step-model';
import { closeModelPair, openModelPair } from '../support/model-pair';

const REASONING = [
  'Let us look at the basket.',
  'First we count 3 pears and 4 plums.',
  'The shop is closed on Sunday.',
  'Then we add 12 more pears to get 19.',
  'So we keep 5 apples.',
  'Wait, 7.5 minus 1 is 6.5.',
  'Hmm, that seems right.',
  'The basket holds 9 items in total.',
].join(' ');

function chatTrace(reasoning: string, reply: string): string {
  return JSON.stringify({ messages: [{ role: 'user', content: 'How many are left in the basket?' }, { role: 'assistant', reasoning_content: reasoning, content: reply }] });
}

function layoutFor(model: Model, answer: string, policy: 'sentence' | 'paragraph' = 'sentence', reasoning = REASONING): Promise<TtsLayout> {
  const thinking = segmentThinking(parseTrace(chatTrace(reasoning, `\\boxed{${answer}}`)), policy);
  return ttsLayout(model.tokenizer, { messages: thinking.messages, thinking: thinking.thinking.text, steps: thinking.steps, answer, cue: DEFAULT_TTS_CUE, seed: 100 });
}

async function assertForkedEqualsNaive(model: Model, layout: TtsLayout, scores: StepScore[]): Promise<number> {
  let compared = 0;
  for (const score of scores) {
    if (!score.perturbable) continue;
    for (const [key, stepIntact, contextIntact] of [['s11', true, true], ['s01', false, true], ['s10', true, false], ['s00', false, false]] as const) {
      const naive = await variantConfidence(model.session, model.tokenizer, layout, { step: score.index, stepIntact, contextIntact });
      const forked = score[key]!;
      assert.ok(Math.abs(forked - naive) <= 1e-5, `step ${score.index} ${key}: forked ${forked} vs naive ${naive}`);
      assert.ok(Math.abs(Math.log(forked) - Math.log(naive)) <= 1e-4, `step ${score.index} ${key}: log forked ${Math.log(forked)} vs log naive ${Math.log(naive)}`);
      compared++;
    }
  }
  return compared;
}

describe('True Thinking Score with a forked KV cache', () => {
  let root: string;
  let random: Model;
  let oneStep: Model;

  before(async () => {
    ({ root, random, oneStep } = await openModelPair('tts-engine-', { arch: 'qwen2', seed: 11 }));
  });
  after(() => closeModelPair({ root, random, oneStep }));

  it('equals naive recomputation of all four prompts on a random model (multi-token answer)', async () => {
    const layout = await layoutFor(random, '19 pears');
    assert.ok(layout.answer.length > 1, 'the answer spans several tokens');
    assert.notEqual(layout.perturbed.length, layout.intact.length, 'a perturbed step changes its token count (12 → 9..15)');
    const scores = await computeTts(random.session, layout);
    assert.equal(scores.length, 8);
    assert.equal(await assertForkedEqualsNaive(random, layout, scores), 4 * 5);
    for (const score of scores.filter((s) => s.perturbable)) {
      assert.ok(score.s11! > 0 && score.s11! < 1 && Math.log(score.s11!) > -50, 'scores are real probabilities, not the floor');
    }
  });

  it('equals naive recomputation on a model whose answer hangs on one step', async () => {
    const layout = await layoutFor(oneStep, ANSWER);
    const scores = await computeTts(oneStep.session, layout);
    assert.equal(await assertForkedEqualsNaive(oneStep, layout, scores), 4 * 5);
    assert.ok(scores[4].s11! > 0.9, `the intact prefix through "5 apples" makes the answer likely (${scores[4].s11})`);
  });

  it('marks steps without numbers as not perturbable, with no score instead of 0', async () => {
    const scores = await computeTts(random.session, await layoutFor(random, '19'));
    const blank = scores.filter((s) => !s.perturbable).map((s) => s.index);
    assert.deepEqual(blank, [0, 2, 6]);
    for (const index of blank) assert.deepEqual(scores[index], { index, perturbable: false, tts: null, s11: null, s01: null, s10: null, s00: null });
    for (const score of scores.filter((s) => s.perturbable)) {
      assert.ok(score.tts !== null && Math.abs(score.tts - 0.5 * (Math.abs(score.s11! - score.s01!) + Math.abs(score.s10! - score.s00!))) < 1e-12);
    }
  });

  it('reports progress step by step and stops when cancelled', async () => {
    const layout = await layoutFor(random, '19');
    const updates: ProgressUpdate[] = [];
    await computeTts(random.session, layout, { report: (u) => updates.push(u) });
    const stepUpdates = updates.filter((u) => u.message.startsWith('True Thinking Score: step'));
    assert.deepEqual(stepUpdates.map((u) => [u.done, u.total]), [0, 1, 2, 3, 4, 5, 6, 7, 8].map((done) => [done, 8]));

    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      computeTts(random.session, layout, { signal: controller.signal, report: (u) => (seen = u.done) === 2 && controller.abort() }),
      CancelledError,
    );
    assert.equal(seen, 2, 'no step is scored after the cancel');
  });

  it('reads a trace in chunks within a small memory budget: progress moves during the first pass, and the scores are the same', async () => {
    const layout = await layoutFor(random, '19 pears');
    const tokens = layout.intact.length;
    const small = await Model.open(join(root, 'random'), { cacheRoot: join(root, 'cache'), memoryBudget: 8 * bytesPerRow(random.spec, 2 * tokens) });
    try {
      assert.ok(small.session.rowsWithinBudget(2 * tokens) < tokens / 4, 'the trace takes several chunks');
      const updates: ProgressUpdate[] = [];
      const scores = await computeTts(small.session, layout, { report: (u) => updates.push(u) });
      const read = updates.map((u) => /reading the trace, (\d+) of (\d+) tokens/.exec(u.message)).filter((m) => m !== null);
      assert.ok(read.length >= 4, `the first pass reports as it goes (${read.length} updates)`);
      const counts = read.map((m) => Number(m[1]));
      assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'tokens read only grow');
      assert.equal(counts.at(-1), Number(read[0][2]), 'the first pass ends with every token read');
      const reading = updates.filter((u) => u.message.includes('reading the trace'));
      assert.deepEqual(reading.map((u) => [u.done, u.total]), counts.map((n) => [n, Number(read[0][2])]), 'the bar moves with the tokens read');
      const firstScore = updates.findIndex((u) => u.message.startsWith('True Thinking Score: step') && u.done === 1);
      assert.ok(firstScore > updates.indexOf(reading.at(-1)!), 'reading comes before the first score');
      const reference = await computeTts(random.session, layout);
      scores.forEach((score, i) => {
        for (const key of ['s11', 's01', 's10', 's00'] as const) {
          if (score[key] === null) assert.equal(reference[i][key], null);
          else assert.ok(Math.abs(Math.log(score[key]!) - Math.log(reference[i][key]!)) <= 1e-4, `step ${i} ${key}: ${score[key]} in chunks vs ${reference[i][key]}`);
        }
      });
    } finally {
      await small.close();
    }
  });

  it('refuses an empty answer with a clear message', async () => {
    await assert.rejects(layoutFor(random, ''), /the answer is empty/);
  });
});
