// The TrueThinking direction (algorithms.md §1.5): per layer, the mean residual stream entering the
// block (hook_resid_pre) at the last token of high-TTS steps minus that of low-TTS steps, read from
// traces already analyzed with this model. Raw difference of means, not normalised: its norm is the
// natural steering scale. Adding it on a step's tokens makes the model use the step; subtracting it
// makes the model ignore the step.

import { mulberry32 } from '../../common/analysis/perturb';
import { DECORATIVE_MAX } from '../../common/analysis/tts';
import type { TraceFile } from '../../common/bundle/trace-file';
import { DIRECTION_SCHEMA_ID, type Direction } from '../../common/direction';
import { parseTrace } from '../../common/trace/parse';
import type { TraceFormat } from '../../common/trace/types';
import { DEFAULT_CHUNK_TOKENS, layerHooks } from '../directions/activations';
import type { Model } from '../model';
import { throwIfCancelled, type Progress } from '../runtime/progress';
import { thinkingPrompt, thinkingWithSteps, tokenSpans } from './trace-steps';

export const DEFAULT_HIGH_TTS = 0.9;
export const DEFAULT_LOW_TTS = DECORATIVE_MAX;
export const DEFAULT_MAX_STEPS_PER_SIDE = 200;
export const DEFAULT_SAMPLE_SEED = 100;

export interface TrueThinkingOptions extends Progress {
  name?: string;
  /** Steps with TTS at or above this are true thinking (default 0.9). */
  highMin?: number;
  /** Steps with TTS at or below this are decorative (default 0.005). */
  lowMax?: number;
  /** At most this many steps per side, sampled with `seed` (default 200). */
  maxPerSide?: number;
  seed?: number;
}

interface ChosenStep {
  file: number;
  step: number;
  side: 'high' | 'low';
}

export async function mineTrueThinking(model: Pick<Model, 'session' | 'tokenizer' | 'fingerprint' | 'spec'>, files: readonly TraceFile[], options: TrueThinkingOptions = {}): Promise<Direction> {
  const highMin = options.highMin ?? DEFAULT_HIGH_TTS;
  const lowMax = options.lowMax ?? DEFAULT_LOW_TTS;
  const maxPerSide = options.maxPerSide ?? DEFAULT_MAX_STEPS_PER_SIDE;
  const seed = options.seed ?? DEFAULT_SAMPLE_SEED;
  if (!(lowMax < highMin)) throw new RangeError(`the low threshold (${lowMax}) must be below the high one (${highMin})`);
  if (!Number.isInteger(maxPerSide) || maxPerSide < 1) throw new RangeError(`at most ${maxPerSide} steps per side: expected a whole number ≥ 1`);
  files.forEach((file, i) => checkAnalyzedWith(file, i, model.fingerprint.weightsHash));

  const eligible = { high: [] as ChosenStep[], low: [] as ChosenStep[] };
  files.forEach((file, f) =>
    file.steps.forEach((step, s) => {
      if (step.tts === null) return;
      if (step.tts >= highMin) eligible.high.push({ file: f, step: s, side: 'high' });
      else if (step.tts <= lowMax) eligible.low.push({ file: f, step: s, side: 'low' });
    }),
  );
  if (eligible.high.length === 0 || eligible.low.length === 0) {
    throw new Error(
      `the analyzed traces have ${eligible.high.length} steps with TTS ≥ ${highMin} and ${eligible.low.length} with TTS ≤ ${lowMax}: both sides need at least one (analyze more traces, or change the thresholds)`,
    );
  }
  const picks = [...sample(eligible.high, maxPerSide, seed), ...sample(eligible.low, maxPerSide, seed + 1)];

  const { numLayers: L, hiddenSize: H } = model.spec;
  const sums = { high: Array.from({ length: L }, () => new Float64Array(H)), low: Array.from({ length: L }, () => new Float64Array(H)) };
  const counts = { high: 0, low: 0 };
  const hooks = layerHooks(L, 'hook_resid_pre');
  let done = 0;
  options.report?.({ message: 'TrueThinking direction: reading step activations', done, total: picks.length });
  for (let f = 0; f < files.length; f++) {
    const wanted = picks.filter((p) => p.file === f);
    if (wanted.length === 0) continue;
    throwIfCancelled(options.signal);
    const activations = await lastTokenActivations(model, files[f], new Set(wanted.map((p) => p.step)), hooks, options.signal);
    for (const pick of wanted) {
      const rows = activations.get(pick.step)!;
      for (let l = 0; l < L; l++) {
        const sum = sums[pick.side][l];
        for (let k = 0; k < H; k++) sum[k] += rows[l][k];
      }
      counts[pick.side]++;
    }
    done += wanted.length;
    options.report?.({ message: 'TrueThinking direction: reading step activations', done, total: picks.length });
  }

  const vectors = sums.high.map((high, l) => Float32Array.from(high, (value, k) => value / counts.high - sums.low[l][k] / counts.low));
  return {
    meta: {
      schema: DIRECTION_SCHEMA_ID,
      name: options.name ?? 'truethinking',
      method: 'truethinking',
      hook: 'hook_resid_pre',
      layers: Array.from({ length: L }, (_, l) => l),
      hiddenSize: H,
      model: model.fingerprint,
      counts,
      signConvention: 'mean at true-thinking steps minus mean at decorative steps: adding it on a step makes the model use the step, subtracting it makes the model ignore the step',
      createdAt: new Date().toISOString(),
      details: {
        highMin,
        lowMax,
        maxPerSide,
        seed,
        position: 'last token of the step',
        traces: files.length,
        eligible: { high: eligible.high.length, low: eligible.low.length },
      },
    },
    vectors,
    companions: {},
  };
}

function checkAnalyzedWith(file: TraceFile, index: number, weightsHash: string): void {
  const name = file.source.name || `result ${index + 1}`;
  if (!file.model || !file.steps.some((step) => step.tts !== null)) throw new Error(`${name} has no True Thinking Scores: analyze it with --tts first`);
  if (file.model.weightsHash !== weightsHash) {
    throw new Error(`${name} was analyzed with the model "${file.model.name}" (weights ${file.model.weightsHash.slice(0, 12)}), not the one loaded: its scores describe another model`);
  }
}

/** A seeded sample of at most `max` items, in their original order. */
function sample<T>(items: readonly T[], max: number, seed: number): T[] {
  if (items.length <= max) return [...items];
  const random = mulberry32(seed);
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order.slice(0, max).sort((a, b) => a - b).map((i) => items[i]);
}

const FILE_NAME_OF_FORMAT: Record<TraceFormat, string> = { 'chat-json': 'trace.json', jsonl: 'trace.jsonl', markdown: 'trace.md', text: 'trace.txt' };

/**
 * hook_resid_pre at every layer at the last token of each wanted step, read with the same prompt
 * and tokenization as the step's True Thinking Score (the prompt and the thinking as one string; a
 * step's last token is the last one holding a character of it). The trace is run in chunks of whole
 * steps, so the capture stays small however long the trace is.
 */
async function lastTokenActivations(
  model: Pick<Model, 'session' | 'tokenizer' | 'spec'>,
  file: TraceFile,
  wanted: ReadonlySet<number>,
  hooks: readonly string[],
  signal: AbortSignal | undefined,
): Promise<Map<number, Float32Array[]>> {
  const trace = parseTrace(file.source.text, { fileName: FILE_NAME_OF_FORMAT[file.source.format] });
  const thinking = thinkingWithSteps(trace, file.steps);
  const prompt = thinkingPrompt(model.tokenizer, thinking.messages);
  const { ids, offsets } = model.tokenizer.encodeWithOffsets(prompt + thinking.thinking.text);
  const ends = tokenSpans(offsets, thinking.steps.map((s) => ({ start: prompt.length + s.at.start, end: prompt.length + s.at.end }))).map((span) => span.end);
  const lastWanted = Math.max(...wanted);
  const H = model.spec.hiddenSize;
  const found = new Map<number, Float32Array[]>();
  let cache = model.session.emptyCache;
  for (let from = 0, first = 0; first <= lastWanted; ) {
    throwIfCancelled(signal);
    let last = first;
    while (last < lastWanted && (ends[last] === from || ends[last + 1] - from < DEFAULT_CHUNK_TOKENS)) last++;
    if (ends[last] === from) throw new Error(`step ${last} ends inside the last token of the step before it, so it has no token of its own to read`);
    const result = await model.session.forward({ ids: ids.slice(from, ends[last]), cache, capture: hooks, logits: 'none' });
    for (let step = first; step <= last; step++) {
      if (!wanted.has(step)) continue;
      const row = ends[step] - 1 - from;
      found.set(step, hooks.map((hook) => result.captures.get(hook)!.slice(row * H, (row + 1) * H)));
    }
    cache = result.cache;
    from = ends[last];
    first = last + 1;
  }
  return found;
}
