// The True Thinking Score of every step (algorithms.md §1.4) with a forked KV cache.
//
// Two prefix caches advance one step at a time: the intact prefix (question, steps 1..i−1 intact)
// and the perturbed prefix (question, steps 1..i−1 perturbed). For step i:
//   S_1(1) = the intact step, cue and answer over the intact prefix; its first positions become the
//            next intact prefix;
//   S_0(0) = the same with the perturbed step over the perturbed prefix; likewise the next perturbed prefix;
//   S_0(1) = the perturbed step over the intact prefix, and S_1(0) = the intact step over the perturbed
//            prefix. Both versions of the step agree up to its first changed token, so these two fork
//            from the S_1(1) and S_0(0) caches there and compute only the perturbed span, the cue and
//            the answer.
// Steps without numbers get no score: their tokens wait and go into the next scored step's passes,
// and until the first scored step both prefixes are the same one (then S_1(0) = S_1(1) and
// S_0(0) = S_0(1), two passes instead of four). So the thinking is computed about three times and
// the cue and answer four times per step, instead of the whole prefix four times per step, and only
// two prefix caches are held. The runtime runs one sequence per call, so branches are not batched.

import { confidenceFromLogProbs, tokenLogProb, trueThinking } from '../../../common/analysis/tts';
import type { DecoderSession, KvCache, Steering } from '../../runtime/decoder-session';
import { throwIfCancelled, type Progress } from '../../runtime/progress';
import type { StepAnnotation } from '../../../common/bundle/trace-file';
import { cachePrefix } from './cache-prefix';
import { stepPositions, variantPrefix, type TtsLayout, type Variant } from './layout';

/** A step's True Thinking Score and its four confidences (all null for a step that is not perturbable). */
export type StepScore = Pick<StepAnnotation, 'index' | 'perturbable' | 'tts' | 's11' | 's01' | 's10' | 's00'>;

export interface TtsProgress extends Progress {
  /** Each step's score as soon as it is known, in step order. */
  onScore?: (score: StepScore) => void;
}

export async function computeTts(session: DecoderSession, layout: TtsLayout, progress: TtsProgress = {}): Promise<StepScore[]> {
  const total = layout.intact.length;
  const report = (done: number) => progress.report?.({ message: `True Thinking Score: step ${done} of ${total}`, done, total });
  throwIfCancelled(progress.signal);
  report(0);
  let intactPrefix = session.emptyCache;
  /** Null while no step has been perturbed: the perturbed prefix is then the intact one. */
  let perturbedPrefix: KvCache | null = null;
  /** Tokens not yet in either prefix (the question, steps without numbers), the same in both. */
  let pending = [...layout.prompt];
  const scores: StepScore[] = [];
  for (let i = 0; i < total; i++) {
    throwIfCancelled(progress.signal);
    if (!layout.perturbable[i]) {
      pending.push(...layout.intact[i]);
      scores.push({ index: i, perturbable: false, tts: null, s11: null, s01: null, s10: null, s00: null });
      progress.onScore?.(scores[i]);
      report(i + 1);
      continue;
    }
    const intact = [...pending, ...layout.intact[i]];
    const perturbed = [...pending, ...layout.perturbed[i]];
    const shared = pending.length + sharedPrefix(layout.intact[i], layout.perturbed[i]);
    const s11 = await answerConfidence(session, layout, intactPrefix, intact);
    const s01 = await answerConfidence(session, layout, cachePrefix(s11.cache, intactPrefix.length + shared), perturbed.slice(shared));
    let s00 = s01;
    let s10 = s11;
    if (perturbedPrefix === null) {
      perturbedPrefix = cachePrefix(s01.cache, intactPrefix.length + perturbed.length);
    } else {
      s00 = await answerConfidence(session, layout, perturbedPrefix, perturbed);
      s10 = await answerConfidence(session, layout, cachePrefix(s00.cache, perturbedPrefix.length + shared), intact.slice(shared));
      perturbedPrefix = cachePrefix(s00.cache, perturbedPrefix.length + perturbed.length);
    }
    intactPrefix = cachePrefix(s11.cache, intactPrefix.length + intact.length);
    pending = [];
    const s = { s11: s11.confidence, s01: s01.confidence, s10: s10.confidence, s00: s00.confidence };
    scores.push({ index: i, perturbable: true, tts: trueThinking(s).tts, ...s });
    progress.onScore?.(scores[i]);
    report(i + 1);
  }
  return scores;
}

/** How many leading tokens two versions of a step share; at least one token of each is left to compute. */
function sharedPrefix(a: readonly number[], b: readonly number[]): number {
  const limit = Math.min(a.length, b.length) - 1;
  let k = 0;
  while (k < limit && a[k] === b[k]) k++;
  return Math.max(0, k);
}

/**
 * S_x(c) of one variant, recomputed from scratch in a single forward (no cache), optionally steered.
 * The reference the forked computation must match, and how a steered prompt is re-scored.
 */
export async function variantConfidence(session: DecoderSession, layout: TtsLayout, variant: Variant, steering?: Steering): Promise<number> {
  return (await answerConfidence(session, layout, session.emptyCache, variantPrefix(layout, variant), steering)).confidence;
}

export interface StepSteering {
  /** The vector added at `blocks.{layer}.hook_resid_pre` on every token of the step (a TrueThinking direction's layer vector). */
  vector: Float32Array;
  layer: number;
  /** Positive steers along the vector, negative against it. */
  scale: number;
}

/** S_x(c) with the vector added on the step's tokens at one layer during the prompt pass. */
export async function steeredConfidence(session: DecoderSession, layout: TtsLayout, variant: Variant, steer: StepSteering): Promise<number> {
  const { start, end } = stepPositions(layout, variant);
  const positions = Array.from({ length: end - start }, (_, k) => start + k);
  const steering = session.compileSteering([{ hook: `blocks.${steer.layer}.hook_resid_pre`, kind: 'add', vector: steer.vector, scale: steer.scale, positions }]);
  return variantConfidence(session, layout, variant, steering);
}

/**
 * Teacher-forced confidence in the answer after `ids` (over `cache`) and the cue. The last answer
 * token is never an input: only the rows predicting answer tokens are computed.
 */
async function answerConfidence(session: DecoderSession, layout: TtsLayout, cache: KvCache, ids: readonly number[], steering?: Steering): Promise<{ confidence: number; cache: KvCache }> {
  const { cue, answer } = layout;
  const input = [...ids, ...cue, ...answer.slice(0, -1)];
  const firstRow = ids.length + cue.length - 1;
  if (firstRow < 0) throw new Error('nothing precedes the answer: the prompt, the steps and the cue are all empty');
  const rows = answer.map((_, k) => firstRow + k);
  const result = await session.forward({ ids: input, cache, logits: rows, steering });
  const vocab = result.logits.length / rows.length;
  const logProbs = answer.map((token, k) => tokenLogProb(result.logits.subarray(k * vocab, (k + 1) * vocab), token));
  return { confidence: confidenceFromLogProbs(logProbs), cache: result.cache };
}
