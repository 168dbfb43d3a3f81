// Live counterfactuals and the logit lens, timed in one run on one trace of about 1000 tokens (a question
// and arithmetic steps): the readout after an edit of the middle step (the engine's part of
// keystroke-to-readout: tokenizing, forking the cache at the first changed token, the rest of the trace,
// the cue, the answer and the greedy answer; the editor adds its typing pause, 300 ms by default), and
// the logit lens's time against the True Thinking Score's on the same trace.

import { parseTrace } from '../../extension/common/trace/parse';
import { CounterfactualBaseline } from '../../extension/engine/analysis/counterfactual';
import { lensProjections } from '../../extension/engine/analysis/logit-lens';
import { annotateTrace } from '../../extension/engine/analysis/tts/annotate';
import type { Model } from '../../extension/engine/model';
import type { Sample } from './stats';

/** Tokens of the benchmark trace: 1000, or what the model's positions hold with room for the cue and answer. */
export const WHAT_IF_TRACE_TOKENS = 1000;

/** A Markdown trace of a question and `count` arithmetic steps; `middle` replaces the middle step's first number. */
function benchTrace(count: number, middle?: number): string {
  const steps = Array.from({ length: count }, (_, i) => {
    const a = i === count >> 1 && middle !== undefined ? middle : 3 + (i % 7);
    return `Next, ${a} plus ${i + 2} gives ${a + i + 2}, and we keep that total.`;
  });
  return `What is the total of the running sums?\n\n<think>\n${steps.join(' ')}\n</think>\n\nThe answer is \\boxed{100}.\n`;
}

/** The most steps whose trace stays within WHAT_IF_TRACE_TOKENS (and the model's positions). */
function stepsFor(model: Model): number {
  const limit = Math.min(WHAT_IF_TRACE_TOKENS, model.spec.maxPositions - 64);
  let count = 1;
  while (model.tokenizer.encode(benchTrace(count + 1)).length <= limit) count++;
  return count;
}

export interface WhatIfResult {
  steps: number;
  traceTokens: number;
  /** Tokens computed again per readout (from the first changed token through the cue and answer). */
  recomputed: number;
  readoutSeconds: Sample;
  lensSeconds: Sample;
  ttsSeconds: Sample;
  lensOverTts: Sample;
}

export async function measureWhatIf(model: Model, runs: number): Promise<WhatIfResult> {
  const steps = stepsFor(model);
  const trace = parseTrace(benchTrace(steps));
  const settings = { segmentation: 'sentence' as const };
  const baseline = await CounterfactualBaseline.prepare(model, trace, settings);
  await baseline.edit(parseTrace(benchTrace(steps, 11))); // warm-up: first-run allocations
  const result: WhatIfResult = { steps, traceTokens: 0, recomputed: 0, readoutSeconds: [], lensSeconds: [], ttsSeconds: [], lensOverTts: [] };
  for (let run = 0; run < runs; run++) {
    // Each run a different number, as a user types: the edit's text is parsed and tokenized as part of the readout.
    const started = performance.now();
    const readout = await baseline.edit(parseTrace(benchTrace(steps, 20 + run)));
    result.readoutSeconds.push((performance.now() - started) / 1000);
    result.traceTokens = readout.tokens.after;
    result.recomputed = readout.recomputed;

    let start = performance.now();
    await annotateTrace(trace, { name: 'bench', toolVersion: 'bench', segmentation: 'sentence', model, tts: {} });
    const tts = (performance.now() - start) / 1000;
    start = performance.now();
    await lensProjections(model, trace, settings);
    const lens = (performance.now() - start) / 1000;
    result.ttsSeconds.push(tts);
    result.lensSeconds.push(lens);
    result.lensOverTts.push(lens / tts);
  }
  return result;
}
