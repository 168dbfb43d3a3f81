// The answer at every layer of every step (logit lens). After step i and the cue, the rows that predict
// the answer's tokens (teacher-forced) are read at every layer's hook_resid_post through the final norm
// and the output layer (the graph's lens output). These are S_1(1)'s questions of the True Thinking
// Score: one pass over the intact trace, then each step's question continues its prefix of that cache,
// many steps packed into one forward (DecoderSession.lensBranches), so the weights are read once per pack.

import { confidenceFromLogProbs } from '../../common/analysis/tts';
import { LENS_ANSWER, LENS_FIRST_TOKEN } from '../../common/analysis/logit-lens';
import type { ParsedTrace, SegmentationPolicy } from '../../common/trace/types';
import type { DecoderSession } from '../runtime/decoder-session';
import type { Branch } from '../runtime/positions';
import { phases, throwIfCancelled, type Progress } from '../runtime/progress';
import type { Model } from '../model';
import { traceLayout, type TtsSettings } from './tts/annotate';
import { variantQuestion, type TtsLayout } from './tts/layout';
import type { TextTokenizer } from '../checkpoint/tokenizer';

export interface StepLens {
  index: number;
  /** Per layer: p(first answer token) after the step and the cue. */
  firstToken: number[];
  /** Per layer: p(whole answer), teacher-forced (exp of the summed log p, clamped as S is). */
  answer: number[];
  /** Per layer: whether the first answer token is the lens's top token. */
  firstTokenTop: boolean[];
}

interface LensQuestion {
  step: number;
  tokens: number[];
  branch: Branch;
  /** Row of `tokens` that predicts the first answer token. */
  firstAnswerRow: number;
}

export async function computeLogitLens(session: DecoderSession, tokenizer: Pick<TextTokenizer, 'encode'>, layout: TtsLayout, progress: Progress = {}): Promise<StepLens[]> {
  const total = layout.perturbable.length;
  const layers = session.spec.numLayers;
  const report = (done: number) => progress.report?.({ message: `Logit lens: step ${done} of ${total}`, done, total });
  throwIfCancelled(progress.signal);
  report(0);
  const { cache } = await session.forward({ ids: layout.intact, logits: 'none' });
  const tail = layout.answer.slice(0, -1);
  // Each step's intact TTS question (the whole string through the step and the cue), continuing the trace where its tokens part from it.
  const questions: LensQuestion[] = layout.perturbable.map((_, step) => {
    const q = variantQuestion(tokenizer, layout, { step, stepIntact: true, contextIntact: true });
    return {
      step,
      tokens: [...q.tail, ...tail],
      branch: { length: q.tail.length + tail.length, position: q.fork, context: q.fork > 0 ? [{ start: 0, end: q.fork, position: 0 }] : [] },
      firstAnswerRow: q.tail.length - 1,
    };
  });
  const tokens = [...new Set(layout.answer)];
  const column = new Map(tokens.map((token, k) => [token, k]));
  const width = tokens.length + 1;
  const out: StepLens[] = [];
  // New tokens per pack: as many as the memory budget allows beside the trace's cache (the pack's tokens are keys too).
  const largest = Math.max(...questions.map((q) => q.tokens.length));
  let budget = session.rowsWithinBudget(cache.length + largest);
  while (budget > largest && budget > session.rowsWithinBudget(cache.length + budget)) budget = session.rowsWithinBudget(cache.length + budget);
  budget = Math.max(largest, budget);
  for (let first = 0; first < questions.length; ) {
    throwIfCancelled(progress.signal);
    const pack: LensQuestion[] = [];
    let size = 0;
    while (first + pack.length < questions.length && (pack.length === 0 || size + questions[first + pack.length].tokens.length <= budget)) {
      size += questions[first + pack.length].tokens.length;
      pack.push(questions[first + pack.length]);
    }
    const rows: number[] = [];
    let offset = 0;
    for (const q of pack) {
      for (let k = 0; k < layout.answer.length; k++) rows.push(offset + q.firstAnswerRow + k);
      offset += q.tokens.length;
    }
    // The trace's cache cut to the longest prefix the pack reads: attention runs over every key it is given.
    const read = cache.prefix(Math.max(...pack.map((q) => q.branch.position)));
    const { lens } = await session.lensBranches({ ids: pack.flatMap((q) => q.tokens), cache: read, branches: pack.map((q) => q.branch), logits: [], lens: { rows, tokens } });
    const M = rows.length;
    pack.forEach((q, n) => {
      const at = (layer: number, k: number, col: number) => lens![(layer * M + n * layout.answer.length + k) * width + col];
      const firstToken: number[] = [];
      const answer: number[] = [];
      const firstTokenTop: boolean[] = [];
      for (let l = 0; l < layers; l++) {
        const firstLogProb = at(l, 0, column.get(layout.answer[0])!);
        firstToken.push(Math.exp(firstLogProb));
        firstTokenTop.push(firstLogProb >= at(l, 0, tokens.length));
        answer.push(confidenceFromLogProbs(layout.answer.map((token, k) => Math.min(0, at(l, k, column.get(token)!)))));
      }
      out.push({ index: q.step, firstToken, answer, firstTokenTop });
    });
    first += pack.length;
    report(first);
  }
  return out;
}

export interface LensOptions extends Progress, TtsSettings {
  segmentation: SegmentationPolicy;
  conversation?: number;
}

/** Each step's lens series, by step index, under the trace file's series names (LENS_FIRST_TOKEN, LENS_ANSWER). */
export async function lensProjections(model: Pick<Model, 'session' | 'tokenizer'>, trace: ParsedTrace, options: LensOptions): Promise<Record<string, number[]>[]> {
  const [tokenizing, reading] = phases(options, [1, 4]);
  const { layout } = await traceLayout(model.tokenizer, trace, { ...options, ...tokenizing });
  const steps = await computeLogitLens(model.session, model.tokenizer, layout, reading);
  return steps.map((step) => ({ [LENS_FIRST_TOKEN]: step.firstToken, [LENS_ANSWER]: step.answer }));
}
