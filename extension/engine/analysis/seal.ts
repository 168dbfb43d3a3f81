// SEAL on the engine (algorithms.md §2): the latent view of each step (the hidden state at the token
// before it, hook_resid_pre at a chosen layer, projected on the SEAL vector), the SEAL vector from a
// set of traces, and whether a generated token is inside the thinking (calibration's gate; the rule
// itself is steering-methods.ts's).

import { createHash } from 'node:crypto';
import { DIRECTION_SCHEMA_ID, DirectionError, vectorAt, type Direction } from '../../common/direction';
import type { StepAnnotation } from '../../common/bundle/trace-file';
import { classifyStep, DEFAULT_SEAL_KEYWORDS, type SealKeywords } from '../../common/analysis/seal';
import { dot, normalize } from '../../common/analysis/stats';
import { sealLayerOf } from '../../common/steering-rule';
import type { ParsedTrace, SealClass } from '../../common/trace/types';
import { layerHooks, scanActivations } from '../directions/activations';
import type { TextTokenizer } from '../checkpoint/tokenizer';
import type { Model } from '../model';
import type { StepContext } from '../runtime/generate';
import { throwIfCancelled, type Progress } from '../runtime/progress';
import { stepClosingTokens } from './step-boundary';
import { segmentThinking, thinkingPrompt, thinkingWithSteps, tokenSpans, type TraceThinking } from './trace-steps';

/** ≈ 70% of the depth: the paper's layer 20 of R1-Distill-Qwen's 28. */
export function defaultSealLayer(numLayers: number): number {
  return Math.min(numLayers - 1, Math.round(0.7 * numLayers));
}

interface ReadThinking {
  ids: number[];
  /** Per step, the index of the token right before its first token (−1 when there is none). */
  boundaries: number[];
  /** Per token, whether it closes a step (step-boundary.ts): SEAL's boundary tokens. */
  closing: boolean[];
}

/** The prompt and thinking as one naturally tokenized text, and the token before each step. */
function readThinking(model: Model, thinking: TraceThinking): ReadThinking {
  const prompt = thinkingPrompt(model.tokenizer, thinking.messages);
  const text = prompt + thinking.thinking.text;
  const { ids, offsets } = model.tokenizer.encodeWithOffsets(text);
  const spans = tokenSpans(
    offsets,
    thinking.steps.map((s) => ({ start: prompt.length + s.at.start, end: prompt.length + s.at.end })),
  );
  return { ids, boundaries: spans.map((span) => span.start - 1), closing: stepClosingTokens(text, { offsets }) };
}

// ---- the SEAL vector ----

export interface SealTrace {
  name: string;
  trace: ParsedTrace;
}

export interface SealVectorOptions extends Progress {
  keywords?: SealKeywords;
  /** The layer steering uses by default (stored in the metadata); every layer gets a vector. */
  layer?: number;
  name?: string;
}

/**
 * mean(hook_resid_pre at the boundary token before reflection ∪ transition steps) − mean(the same
 * before execution steps), per layer. Steps are SEAL's: the thinking cut at blank lines, the text
 * before the first one dropped, and only steps whose preceding token closes the blank line
 * (step-boundary.ts: "\n\n", ".\n\n" or the second of two "\n" tokens).
 */
export async function buildSealDirection(model: Model, traces: readonly SealTrace[], options: SealVectorOptions = {}): Promise<Direction> {
  const { spec, session } = model;
  const keywords = options.keywords ?? DEFAULT_SEAL_KEYWORDS;
  const layer = options.layer ?? defaultSealLayer(spec.numLayers);
  if (!Number.isInteger(layer) || layer < 0 || layer >= spec.numLayers) throw new DirectionError(`SEAL layer ${layer} does not exist (the model has layers 0..${spec.numLayers - 1})`);
  const H = spec.hiddenSize;
  const hooks = layerHooks(spec.numLayers, 'hook_resid_pre');
  const sums = { rt: hooks.map(() => new Float64Array(H)), execution: hooks.map(() => new Float64Array(H)) };
  const counts = { execution: 0, reflection: 0, transition: 0 };
  const skipped: string[] = [];

  for (const [t, { name, trace }] of traces.entries()) {
    throwIfCancelled(options.signal);
    options.report?.({ message: `reading ${name}`, done: t, total: traces.length });
    for (let c = 0; c < trace.conversations.length; c++) {
      let thinking: TraceThinking;
      try {
        thinking = segmentThinking(trace, 'paragraph', { leadingParagraph: 'drop', conversation: c });
      } catch {
        skipped.push(trace.conversations.length > 1 ? `${name} #${c + 1}` : name);
        continue;
      }
      const read = readThinking(model, thinking);
      const classOf = new Map<number, SealClass>();
      read.boundaries.forEach((position, i) => {
        if (position >= 0 && read.closing[position]) classOf.set(position, classifyStep(thinking.steps[i].text, keywords).cls);
      });
      if (classOf.size === 0) continue;
      const last = Math.max(...classOf.keys());
      await scanActivations(
        session,
        read.ids.slice(0, last + 1),
        hooks,
        (hook, first, rows) => {
          const l = hooks.indexOf(hook);
          for (let r = 0; r < rows.length / H; r++) {
            const cls = classOf.get(first + r);
            if (!cls) continue;
            const sum = cls === 'execution' ? sums.execution[l] : sums.rt[l];
            for (let i = 0; i < H; i++) sum[i] += rows[r * H + i];
          }
        },
        { signal: options.signal },
      );
      for (const cls of classOf.values()) counts[cls]++;
    }
  }
  options.report?.({ message: 'building the SEAL vector', done: traces.length, total: traces.length });
  const rt = counts.reflection + counts.transition;
  if (rt === 0 || counts.execution === 0) {
    throw new DirectionError(
      `the traces have ${counts.execution} execution and ${rt} reflection/transition steps at blank-line boundaries; the SEAL vector needs both (are there <think> blocks split by blank lines, with "Wait"/"Alternatively" steps?)`,
    );
  }
  const meanRt = sums.rt.map((s) => Float64Array.from(s, (x) => x / rt));
  const meanE = sums.execution.map((s) => Float64Array.from(s, (x) => x / counts.execution));
  const vectors = meanRt.map((m, l) => Float32Array.from(m, (x, i) => x - meanE[l][i]));
  // The latent view calls a step reflection/transition when its projection is past the midpoint of
  // the two class means' projections (the projection is linear, so the means suffice).
  // A layer where the classes do not differ (layer 0 sees only the boundary token's embedding) has none.
  const thresholds = vectors.map((v, l) => {
    if (!v.some((x) => x !== 0)) return null;
    const unit = normalize(v);
    return (dot(meanRt[l], unit) + dot(meanE[l], unit)) / 2;
  });
  return {
    meta: {
      schema: DIRECTION_SCHEMA_ID,
      name: options.name ?? 'seal',
      method: 'seal',
      hook: 'hook_resid_pre',
      layers: hooks.map((_, l) => l),
      hiddenSize: H,
      model: model.fingerprint,
      counts: { ...counts, traces: traces.length },
      signConvention: 'vector = mean(reflection ∪ transition) − mean(execution) at step-boundary tokens; SEAL calibrates by adding it with a negative scale (−c), which pushes thinking toward execution',
      createdAt: new Date().toISOString(),
      details: {
        layer,
        thresholds,
        keywords,
        position: 'the "\\n\\n" token before each step (blank-line steps, the first paragraph dropped)',
        skippedWithoutThinking: skipped,
        // Which texts made the vector, so an analysis can say whether its trace is held out.
        traceHashes: traces.map(({ trace }) => traceHash(trace.text)),
      },
    },
    vectors,
    companions: {},
  };
}

// ---- the latent view of an analyzed trace ----

export interface SealAnnotationOptions extends Progress {
  keywords?: SealKeywords;
  /** A SEAL direction: without one only the keyword classes are filled. */
  direction?: Direction;
  /** Layer of the latent view (default: the direction's own, else ≈ 70% of depth). */
  layer?: number;
}

export interface SealAgreement {
  layer: number;
  /** Whether the trace was not among those the SEAL vector was built from; null when the direction does not record them. */
  heldOut: boolean | null;
  /** Midpoint between the class means' projections: above it the latent view says reflection/transition. */
  threshold: number | null;
  /** Steps with both a keyword class and a latent score. */
  scored: number;
  /** Of those, steps where both views call it execution, or both call it reflection/transition. */
  agreeing: number;
  rate: number | null;
  /** Steps of the commoner keyword side (execution, or reflection/transition): what always guessing it would agree on. */
  majority: number;
}

/** sha256 of a trace's text: how a SEAL direction remembers the traces it was built from. */
export function traceHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface SealAnnotation {
  steps: StepAnnotation[];
  /** Null without a direction. */
  agreement: SealAgreement | null;
}

/**
 * Fills `sealClass` and `sealKeyword` of every step from its text, and, given a SEAL direction,
 * `latentScore` = ⟨h, v̂⟩ with h = hook_resid_pre at the token before the step. The steps are the
 * trace's own (their source ranges), returned as new objects.
 */
export async function annotateSeal(model: Model | null, trace: ParsedTrace, steps: readonly StepAnnotation[], options: SealAnnotationOptions = {}): Promise<SealAnnotation> {
  const keywords = options.keywords ?? DEFAULT_SEAL_KEYWORDS;
  const annotated = steps.map((step) => {
    const { cls, keyword } = classifyStep(step.text, keywords);
    return { ...step, sealClass: cls, sealKeyword: keyword };
  });
  const { direction } = options;
  if (!direction || steps.length === 0) return { steps: annotated, agreement: null };
  if (!model) throw new DirectionError('the SEAL latent view runs the model: load a model to use a SEAL direction');
  if (direction.meta.method !== 'seal') throw new DirectionError(`direction "${direction.meta.name}" is a ${direction.meta.method} direction; the latent view needs a SEAL direction`);
  if (direction.meta.hook !== 'hook_resid_pre') throw new DirectionError(`SEAL direction "${direction.meta.name}" is at ${direction.meta.hook}; expected hook_resid_pre`);
  const layer = options.layer ?? sealLayerOf(direction.meta);
  const vector = vectorAt(direction, layer);
  if (!vector.some((x) => x !== 0)) throw new DirectionError(`SEAL direction "${direction.meta.name}" is zero at layer ${layer}: choose another layer`);
  const unit = normalize(vector);

  const thinking = thinkingWithSteps(trace, steps.map((s) => ({ start: s.start, end: s.end })));
  const read = readThinking(model, thinking);
  const scores = new Map<number, number>();
  const wanted = new Set(read.boundaries.filter((p) => p >= 0));
  const H = model.spec.hiddenSize;
  const hook = `blocks.${layer}.hook_resid_pre`;
  if (wanted.size > 0) {
    options.report?.({ message: 'reading step boundaries', done: 0, total: 1 });
    await scanActivations(
      model.session,
      read.ids.slice(0, Math.max(...wanted) + 1),
      [hook],
      (_, first, rows) => {
        for (let r = 0; r < rows.length / H; r++) if (wanted.has(first + r)) scores.set(first + r, dot(rows.subarray(r * H, (r + 1) * H), unit));
      },
      { signal: options.signal },
    );
    options.report?.({ message: 'reading step boundaries', done: 1, total: 1 });
  }
  const thresholds = direction.meta.details.thresholds;
  const stored: unknown = Array.isArray(thresholds) ? thresholds[direction.meta.layers.indexOf(layer)] : undefined;
  const threshold = typeof stored === 'number' ? stored : null;
  let scored = 0;
  let agreeing = 0;
  let execution = 0;
  annotated.forEach((step, i) => {
    const score = scores.get(read.boundaries[i]);
    step.latentScore = score ?? null;
    if (score === undefined || threshold === null) return;
    scored++;
    if (step.sealClass === 'execution') execution++;
    if ((score > threshold) === (step.sealClass !== 'execution')) agreeing++;
  });
  const built = direction.meta.details.traceHashes;
  const heldOut = Array.isArray(built) ? !built.includes(traceHash(trace.text)) : null;
  return {
    steps: annotated,
    agreement: { layer, heldOut, threshold, scored, agreeing, rate: scored > 0 && threshold !== null ? agreeing / scored : null, majority: Math.max(execution, scored - execution) },
  };
}


// ---- thinking during generation ----

/**
 * Whether the model is thinking at each generated step: on when the prompt leaves `<think>` open,
 * on after a generated `<think>`, off after `</think>`. Steps must be asked about in order.
 */
export function thinkingTracker(tokenizer: Pick<TextTokenizer, 'thinkStartId' | 'thinkEndId'>, promptIds: readonly number[]): (step: StepContext) => boolean {
  const { thinkStartId: open, thinkEndId: close } = tokenizer;
  let thinking = open !== null && promptIds.lastIndexOf(open) > (close === null ? -1 : promptIds.lastIndexOf(close));
  let seen = 0;
  return (step) => {
    // Catch up on the tokens generated since the last call (the input token included).
    for (; seen < step.generated.length; seen++) {
      const id = step.generated[seen];
      if (id === open) thinking = true;
      else if (id === close) thinking = false;
    }
    return thinking;
  };
}
