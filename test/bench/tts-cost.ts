// tts_cost_ratio: the time of a True Thinking Score annotation of a 1000-token, 50-step trace divided by
// one forward pass over the same 1000 tokens. The layout is built from token ids directly: a prompt, 50
// steps of ordinary text, each perturbed by one changed token, an 8-token cue and a 2-token answer.

import type { Model } from '../../extension/engine/model';
import { computeTts } from '../../extension/engine/analysis/tts/compute';
import { DEFAULT_TTS_CUE, type TtsLayout } from '../../extension/engine/analysis/tts/layout';
import type { Sample } from './stats';

export const TTS_TRACE_TOKENS = 1000;
export const TTS_STEPS = 50;
const PROMPT_TOKENS = 50;

/** A 1000-token trace: the prompt and 50 steps of 19 tokens, the tokens taken from `text` in order. */
export function benchTtsLayout(model: Model, text: (count: number) => number[]): TtsLayout {
  const stepTokens = (TTS_TRACE_TOKENS - PROMPT_TOKENS) / TTS_STEPS;
  const ids = text(TTS_TRACE_TOKENS);
  const intact = Array.from({ length: TTS_STEPS }, (_, i) => ids.slice(PROMPT_TOKENS + i * stepTokens, PROMPT_TOKENS + (i + 1) * stepTokens));
  // One token in the middle of each step changed, as a moved number changes one token.
  const middle = Math.floor(stepTokens / 2);
  const perturbed = intact.map((step) => step.map((id, k) => (k === middle ? (id + 1) % model.spec.vocabSize : id)));
  // The generated model's tokenizer splits text into more tokens than a trained one: keep the sizes a
  // trained tokenizer gives the default cue (8 tokens) and a boxed number answer (2).
  const cue = model.tokenizer.encode(DEFAULT_TTS_CUE).slice(0, 8);
  const answer = model.tokenizer.encode('100}').slice(0, 2);
  return { prompt: ids.slice(0, PROMPT_TOKENS), intact, perturbed, perturbable: intact.map(() => true), cue, answer };
}

/** Per run: seconds of computeTts over the layout divided by seconds of one forward over the trace's tokens. */
export async function measureTtsCostRatio(model: Model, layout: TtsLayout, runs: number): Promise<{ ratio: Sample; forwardSeconds: Sample; ttsSeconds: Sample }> {
  const trace = [...layout.prompt, ...layout.intact.flat()];
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
