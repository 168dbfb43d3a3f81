// Live counterfactuals: an edit's readout (S and the greedy answer) computed from the forked cache
// equals the readout of the edited trace run from scratch; on the model whose answer hangs on one
// step, editing that step's number moves the answer and editing another step's does not. Removing a
// step and perturbing its numbers are plain text edits, checked here too.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeCounterfactual, perturbStep, removeSteps } from '../../extension/common/analysis/counterfactual';
import { parseTrace } from '../../extension/common/trace/parse';
import { CounterfactualBaseline, guessAhead } from '../../extension/engine/analysis/counterfactual';
import { segmentThinking, thinkingPrompt } from '../../extension/engine/analysis/trace-steps';
import { DEFAULT_TTS_CUE } from '../../extension/engine/analysis/tts/layout';
import { boxedAnswer } from '../../extension/common/trace/query';
import { argmax } from '../../extension/engine/runtime/sampling';
import { Model } from '../../extension/engine/model';
import { CancelledError } from '../../extension/engine/runtime/progress';
import { ANSWER } from '../support/one-step-model';
import { closeModelPair, openModelPair } from '../support/model-pair';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { join } from 'node:path';

/**
 * The greedy answer after the trace and the cue, as the readout reads it, decoded from scratch one
 * token per forward: the reference the read-ahead must equal.
 */
async function greedyFromScratch(model: Model, text: string): Promise<string> {
  const thinking = segmentThinking(parseTrace(text), 'sentence');
  const ids = model.tokenizer.encode(thinkingPrompt(model.tokenizer, thinking.messages) + thinking.thinking.text + DEFAULT_TTS_CUE);
  let { logits, cache } = await model.session.forward({ ids });
  const greedy: number[] = [];
  while (greedy.length < 20) {
    const next = argmax(logits);
    if (model.tokenizer.eosIds.includes(next)) break;
    greedy.push(next);
    if (boxedAnswer(`\\boxed{${model.tokenizer.decode(greedy)}`) !== null) break;
    ({ logits, cache } = await model.session.forward({ ids: [next], cache }));
  }
  const decoded = model.tokenizer.decode(greedy);
  return (boxedAnswer(`\\boxed{${decoded}`) ?? decoded).trim();
}

/** Another random checkpoint beside the pair, in its folder. */
async function makeRandom(root: string, seed: number): Promise<Model> {
  await makeModel({ preset: 'tiny', arch: 'qwen2', outDir: join(root, `random-${seed}`), seed });
  return Model.open(join(root, `random-${seed}`), { cacheRoot: join(root, 'cache') });
}

const STEPS = ['Let us look at the basket.', 'First we count 3 pears and 4 plums.', 'So we keep 5 apples.', 'Wait, 7 minus 1 is 6.', 'The basket holds 9 items.'];

function markdown(steps: readonly string[], answer: string): string {
  return `How many are left?\n\n<think>\n${steps.join(' ')}\n</think>\n\nThe answer is \\boxed{${answer}}.\n`;
}

const settings = { segmentation: 'sentence' as const };

describe('live counterfactuals', () => {
  let root: string;
  let random: Model;
  let oneStep: Model;

  before(async () => {
    ({ root, random, oneStep } = await openModelPair('counterfactual-', { arch: 'qwen2', seed: 3 }));
  });
  after(() => closeModelPair({ root, random, oneStep }));

  it('equals the edited trace run from scratch, recomputing only from the first changed token (multi-token answer)', async () => {
    const original = markdown(STEPS, '9 items');
    const baseline = await CounterfactualBaseline.prepare(random, parseTrace(original), settings);
    const edited = markdown(STEPS.map((s, i) => (i === 3 ? 'Hmm, 7 minus 2 is 5, not 6 at all.' : s)), '9 items');
    const result = await baseline.edit(parseTrace(edited));
    const fresh = await CounterfactualBaseline.prepare(random, parseTrace(edited), { ...settings, answer: '9 items' });
    assert.ok(Math.abs(Math.log(result.after.confidence) - Math.log(fresh.before.confidence)) < 1e-4, `forked ${result.after.confidence} vs from scratch ${fresh.before.confidence}`);
    assert.equal(result.after.greedy, fresh.before.greedy);
    assert.equal(result.answer, '9 items');
    assert.equal(result.step?.index, 3);
    assert.equal(edited.slice(result.step!.start, result.step!.end), 'Hmm, 7 minus 2 is 5, not 6 at all.');
    assert.ok(result.recomputed < result.tokens.after, `only the tail is recomputed (${result.recomputed} of ${result.tokens.after})`);
    const unchanged = await baseline.edit(parseTrace(original));
    assert.equal(unchanged.step, null);
    assert.ok(Math.abs(unchanged.after.confidence - baseline.before.confidence) < 1e-6);
  });

  it('reads the greedy answer ahead and gives the greedy answer decoded token by token from scratch, whether the edit keeps it, changes it from the first token or part-way', async () => {
    // On this checkpoint the greedy answer runs to 20 tokens without closing its brace; the edits below keep
    // it (one forward reads all of it ahead), change its first token and change it part-way.
    const other = await makeRandom(root, 5);
    try {
      const baseline = await CounterfactualBaseline.prepare(other, parseTrace(markdown(STEPS, '9 items')), settings);
      const edits = [
        STEPS.map((s, i) => (i === 3 ? 'Hmm, 7 minus 2 is 5, not 6 at all.' : s)),
        STEPS.map((s) => s.replace('3 pears', '8 pears')),
        STEPS.slice(0, 4),
        STEPS.map((s) => s.replace('9 items', '2 items')),
      ];
      const greedy = new Set<string>();
      for (const steps of edits) {
        const text = markdown(steps, '9 items');
        const result = await baseline.edit(parseTrace(text));
        assert.equal(result.after.greedy, await greedyFromScratch(other, text));
        greedy.add(result.after.greedy);
      }
      assert.equal(greedy.size, 3, 'the edits leave the greedy answer as it was, and change it in two ways');
    } finally {
      await other.close();
    }
  });

  it('guesses the tokens ahead from the greedy answer before the edit, or from what followed the same token', () => {
    assert.deepEqual(guessAhead([1, 2], [1, 2, 3, 4], 5), [2, 3, 4], 'while it follows the one before the edit');
    assert.deepEqual(guessAhead([7, 4], [1, 4, 9, 9], 5), [4, 9, 9], 'what followed the same token there');
    assert.deepEqual(guessAhead([5, 6, 5], [1, 2], 6), [5, 6, 5, 6, 5, 6], 'the cycle since its last occurrence');
    assert.deepEqual(guessAhead([5, 6], [1, 2], 6), [6], 'nothing to go on: the token alone');
    assert.deepEqual(guessAhead([5], [], 6), [5], 'the first token alone');
    assert.deepEqual(guessAhead([1, 2], [1, 2, 3, 4], 2), [2, 3], 'at most the limit');
  });

  it("moves the answer when the step it reads changes, and not when another step's number does", async () => {
    const baseline = await CounterfactualBaseline.prepare(oneStep, parseTrace(markdown(STEPS, ANSWER)), settings);
    assert.ok(baseline.before.confidence > 0.9, `S before ${baseline.before.confidence}`);
    assert.equal(baseline.before.greedy.startsWith(ANSWER), true, `greedy "${baseline.before.greedy}"`);

    const keyEdited = await baseline.edit(parseTrace(markdown(STEPS.map((s) => s.replace('5 apples', '6 apples')), ANSWER)));
    assert.equal(keyEdited.step?.index, 2);
    assert.ok(keyEdited.after.confidence < 0.1, `S after editing the step the answer reads: ${keyEdited.after.confidence}`);
    assert.notEqual(keyEdited.after.greedy, keyEdited.before.greedy);
    assert.match(describeCounterfactual(keyEdited), /^S 0\.9\d\d → .* · answer /);

    const otherEdited = await baseline.edit(parseTrace(markdown(STEPS.map((s) => s.replace('3 pears', '8 pears')), ANSWER)));
    assert.equal(otherEdited.step?.index, 1);
    assert.ok(Math.abs(otherEdited.after.confidence - otherEdited.before.confidence) < 0.01, `S ${otherEdited.before.confidence} → ${otherEdited.after.confidence}`);
    assert.equal(otherEdited.after.greedy, otherEdited.before.greedy);
    assert.doesNotMatch(describeCounterfactual(otherEdited), /answer/);
  });

  it('removes a step or perturbs its numbers as text edits', async () => {
    const text = markdown(STEPS, ANSWER);
    const steps = segmentThinking(parseTrace(text), 'sentence').steps.map((s) => ({ index: s.index, ...s.range }));
    assert.equal(removeSteps(text, steps, new Set([2])), markdown(STEPS.filter((_, i) => i !== 2), ANSWER));
    assert.equal(removeSteps(text, steps, new Set([4])), markdown(STEPS.slice(0, 4), ANSWER));
    assert.equal(removeSteps(text, steps, new Set([3, 4])), markdown(STEPS.slice(0, 3), ANSWER));
    assert.equal(removeSteps(text, steps, new Set([0, 1])), markdown(STEPS.slice(2), ANSWER));
    const paragraphs = 'A.\n\nB.\n\nC.';
    const spans = [{ start: 0, end: 2 }, { start: 4, end: 6 }, { start: 8, end: 10 }];
    assert.equal(removeSteps(paragraphs, spans, new Set([1])), 'A.\n\nC.', 'paragraphs stay paragraphs');
    assert.equal(removeSteps(paragraphs, spans, new Set([0])), 'B.\n\nC.');
    const perturbed = perturbStep(text, steps[2], 100)!;
    assert.match(perturbed, /So we keep \d+ apples\./);
    assert.notEqual(perturbed, text);
    assert.equal(perturbStep(text, steps[0], 100), null, 'a step without numbers has nothing to perturb');
    const baseline = await CounterfactualBaseline.prepare(oneStep, parseTrace(text), settings);
    const removed = await baseline.edit(parseTrace(removeSteps(text, steps, new Set([2]))));
    assert.ok(removed.after.confidence < 0.1, `without the step the answer is gone (S ${removed.after.confidence})`);
  });

  it('stops when cancelled', async () => {
    const baseline = await CounterfactualBaseline.prepare(oneStep, parseTrace(markdown(STEPS, ANSWER)), settings);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(baseline.edit(parseTrace(markdown(STEPS.slice(1), ANSWER)), controller.signal), CancelledError);
  });
});
