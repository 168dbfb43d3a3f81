// Per-step projections of directions at every layer (the layer × step heatmap): one pass over the
// prompt and thinking with a probe readout ⟨h, v̂_l⟩ per layer and direction inside the graph, so no
// hidden state leaves onnxruntime. A step's value at a layer is the mean projection over its tokens.

import { vectorAt, type Direction } from '../../common/direction';
import type { DirectionRef, StepAnnotation } from '../../common/bundle/trace-file';
import { norm } from '../../common/analysis/stats';
import { LINEAR_COLUMNS } from '../../common/steering-plan';
import type { ParsedTrace } from '../../common/trace/types';
import { DEFAULT_CHUNK_TOKENS } from '../directions/activations';
import type { Model } from '../model';
import { throwIfCancelled, type Progress } from '../runtime/progress';
import { thinkingPrompt, thinkingWithSteps, tokenSpans } from './trace-steps';

export interface ProjectedDirection {
  direction: Direction;
  /** The layers with a non-zero vector: where the projection is defined, in order. */
  layers: number[];
}

/** The layers where a direction has a vector to project on (a zero vector has no unit direction). */
export function projectableLayers(direction: Direction): number[] {
  return direction.meta.layers.filter((layer) => norm(vectorAt(direction, layer)) > 0);
}

/**
 * Fills `projections[name]` of every step: entry i is the mean over the step's tokens of
 * ⟨hook at layer layers[i], v̂⟩, for each direction (keyed by its name). Returns new steps and the
 * layers each direction was read at, for the trace's `directions` list.
 */
export async function stepProjections(
  model: Model,
  trace: ParsedTrace,
  steps: readonly StepAnnotation[],
  directions: readonly Direction[],
  options: Progress = {},
): Promise<{ steps: StepAnnotation[]; layers: Map<string, number[]> }> {
  const layersOf = new Map(directions.map((d) => [d.meta.name, projectableLayers(d)]));
  if (steps.length === 0 || directions.length === 0) return { steps: [...steps], layers: layersOf };
  const thinking = thinkingWithSteps(trace, steps.map((s) => ({ start: s.start, end: s.end })));
  const prompt = thinkingPrompt(model.tokenizer, thinking.messages);
  const { ids, offsets } = model.tokenizer.encodeWithOffsets(prompt + thinking.thinking.text);
  const spans = tokenSpans(
    offsets,
    thinking.steps.map((s) => ({ start: prompt.length + s.at.start, end: prompt.length + s.at.end })),
  );
  const readUpTo = Math.max(...spans.map((s) => s.end));

  // One probe per direction and layer; a hook holds LINEAR_COLUMNS probes, so directions go in groups.
  const probes = directions.flatMap((direction) =>
    layersOf.get(direction.meta.name)!.map((layer) => {
      const vector = vectorAt(direction, layer);
      const length = norm(vector);
      return { name: `${direction.meta.name}\u0000${layer}`, hook: `blocks.${layer}.${direction.meta.hook}`, direction: vector.map((x) => x / length) };
    }),
  );
  const sums = new Map(probes.map((p) => [p.name, new Float64Array(steps.length)]));
  const stepOf = new Int32Array(readUpTo).fill(-1);
  spans.forEach((span, i) => stepOf.fill(i, span.start, span.end));
  const groups: (typeof probes)[] = [];
  for (let g = 0; g < directions.length; g += LINEAR_COLUMNS) {
    const names = new Set(directions.slice(g, g + LINEAR_COLUMNS).map((d) => d.meta.name));
    groups.push(probes.filter((p) => names.has(p.name.split('\u0000')[0])));
  }
  const passes = groups.length * Math.ceil(readUpTo / DEFAULT_CHUNK_TOKENS);
  let done = 0;
  for (const group of groups) {
    const steering = model.session.compileSteering([], group);
    let cache = model.session.emptyCache;
    for (let start = 0; start < readUpTo; start += DEFAULT_CHUNK_TOKENS) {
      throwIfCancelled(options.signal);
      options.report?.({ message: 'projecting steps on the directions', done: done++, total: passes });
      const result = await model.session.forward({ ids: ids.slice(start, Math.min(readUpTo, start + DEFAULT_CHUNK_TOKENS)), cache, steering, logits: 'none' });
      for (const { name } of group) {
        const readout = result.probes.get(name)!;
        const sum = sums.get(name)!;
        readout.forEach((value, t) => {
          const step = stepOf[start + t];
          if (step >= 0) sum[step] += value;
        });
      }
      cache = result.cache;
    }
  }
  options.report?.({ message: 'projecting steps on the directions', done: passes, total: passes });
  const projected = steps.map((step, i) => {
    const tokens = spans[i].end - spans[i].start;
    const projections = { ...step.projections };
    for (const direction of directions) {
      const { name } = direction.meta;
      // A step with no token of its own (a range between tokens) has no projection.
      if (tokens > 0) projections[name] = layersOf.get(name)!.map((layer) => sums.get(`${name}\u0000${layer}`)![i] / tokens);
    }
    return { ...step, projections };
  });
  return { steps: projected, layers: layersOf };
}

/** The trace's record of a direction, with the layers its projections were read at. */
export function projectedRef(ref: DirectionRef, layers: number[] | undefined): DirectionRef {
  return layers ? { ...ref, layers } : ref;
}
