// tts_cost_ratio: the time of a True Thinking Score annotation of a 1000-token, 50-step trace divided by
// one forward pass over the same 1000 tokens. The layout is built from token ids directly: a prompt, 50
// steps of ordinary text, each perturbed by one changed token, an 8-token cue and a 2-token answer.

import type { Model } from '../../extension/engine/model';
import { computeTts } from '../../extension/engine/analysis/tts/compute';
import { DEFAULT_TTS_CUE, type Question, type StepQuestions, type TraceKind, type TtsLayout } from '../../extension/engine/analysis/tts/layout';
import type { Sample } from './stats';

export const TTS_TRACE_TOKENS = 1000;
export const TTS_STEPS = 50;
const PROMPT_TOKENS = 50;

/**
 * A 1000-token trace (or `size.traceTokens`): the prompt and 50 steps (or `size.steps`) of equal length,
 * the tokens taken from `text` in order. Each step's questions continue the trace from its last token
 * (or, perturbed, from its changed token), as the questions of a tokenized trace do.
 */
export function benchTtsLayout(model: Model, text: (count: number) => number[], size = { traceTokens: TTS_TRACE_TOKENS, steps: TTS_STEPS }): TtsLayout {
  const stepTokens = Math.floor((size.traceTokens - PROMPT_TOKENS) / size.steps);
  const intact = text(PROMPT_TOKENS + size.steps * stepTokens);
  // One token in the middle of each step changed, as a moved number changes one token.
  const middle = Math.floor(stepTokens / 2);
  const changed = (step: number) => PROMPT_TOKENS + step * stepTokens + middle;
  const perturbed = intact.map((id, p) => (p >= PROMPT_TOKENS && (p - PROMPT_TOKENS) % stepTokens === middle ? (id + 1) % model.spec.vocabSize : id));
  // The generated model's tokenizer splits text into more tokens than a trained one: keep the sizes a
  // trained tokenizer gives the default cue (8 tokens) and a boxed number answer (2).
  const cue = model.tokenizer.encode(DEFAULT_TTS_CUE).slice(0, 8);
  const answer = model.tokenizer.encode('100}').slice(0, 2);
  const question = (trace: TraceKind, ids: number[], from: number, to: number): Question => ({ trace, fork: from, tail: [...ids.slice(from, to), ...cue] });
  const questions = Array.from({ length: size.steps }, (_, i): StepQuestions => {
    const end = PROMPT_TOKENS + (i + 1) * stepTokens;
    const s11 = question('intact', intact, end - 1, end);
    const s01 = question('intact', perturbed, changed(i), end);
    if (i === 0) return { s11, s01, s10: null, s00: null };
    return { s11, s01, s10: question('perturbed', intact, changed(i), end), s00: question('perturbed', perturbed, end - 1, end) };
  });
  const none = { intact: [], perturbed: [] };
  return { texts: { intact: '', perturbed: '' }, ranges: none, intact, perturbed, perturbable: questions.map(() => true), questions, cue: DEFAULT_TTS_CUE, answer };
}

/** Per run: seconds of computeTts over the layout divided by seconds of one forward over the trace's tokens. */
export async function measureTtsCostRatio(model: Model, layout: TtsLayout, runs: number): Promise<{ ratio: Sample; forwardSeconds: Sample; ttsSeconds: Sample }> {
  const trace = layout.intact;
  await model.session.forward({ ids: trace.slice(0, 64) }); // warm-up: first-run allocations
  const ratio: Sample = [];
  const forwardSeconds: Sample = [];
  const ttsSeconds: Sample = [];
  for (let run = 0; run < runs; run++) {
    let start = performance.now();
    await model.session.forward({ ids: trace });
    const forward = (performance.now() - start) / 1000;
    start = performance.now();
    await computeTts(model.session, layout);
    const tts = (performance.now() - start) / 1000;
    forwardSeconds.push(forward);
    ttsSeconds.push(tts);
    ratio.push(tts / forward);
  }
  return { ratio, forwardSeconds, ttsSeconds };
}
