// Plain chart data derived from a trace file; the charts take these shapes, not the file itself.

import { LENS_SERIES } from '../../extension/common/analysis/logit-lens';
import type { StepAnnotation, TraceFile } from '../../extension/common/bundle/trace-file';
import type { SealCategory } from '../../extension/common/analysis/reply-summary';
import { formatSeal, formatTts } from '../../extension/common/export/format';

export { SEAL_CATEGORIES, sealCounts, type SealCategory } from '../../extension/common/analysis/reply-summary';

export interface StepBar {
  index: number;
  /** 0..1; null when the step was not scored or has nothing to perturb. */
  tts: number | null;
  category: SealCategory;
  /** What a screen reader and a hover say about the bar. */
  label: string;
}

/**
 * One named series of the layer × step heatmap: a value per step and layer. Direction projections
 * are series; any other per-layer reading of the steps becomes one by adding it to `heatmapSeries`.
 */
export interface HeatmapSeries {
  /** Unique among a trace's series: what the picker lists and the panel remembers. */
  name: string;
  /** The chart's title, e.g. "Projection onto seal, layer by step". */
  title: string;
  /** What a cell's value is, for its tooltip: "projection". */
  valueLabel: string;
  layers: number[];
  /** columns[i].values[j]: the value of step columns[i].index at layers[j]. */
  columns: { index: number; values: number[] }[];
}

export interface PersonaSeries {
  turns: { turn: number; projection: number; belowFloor: boolean }[];
  floor: number | null;
}

export function stepBars(steps: StepAnnotation[]): StepBar[] {
  return steps.map((step) => ({
    index: step.index,
    tts: step.perturbable ? step.tts : null,
    category: step.sealClass ?? 'unclassified',
    label: `Step ${step.index}: ${formatSeal(step)}, TTS ${formatTts(step)}`,
  }));
}

/** Names of the directions some step has a projection for, in the file's order. */
function projectedDirections(file: TraceFile): string[] {
  const named = new Set(file.steps.flatMap((step) => Object.keys(step.projections)));
  const listed = file.directions.map((d) => d.name).filter((name) => named.has(name));
  return [...new Set([...listed, ...named])];
}

function projectionSeries(file: TraceFile, direction: string): HeatmapSeries {
  const lens = LENS_SERIES.includes(direction);
  const ref = lens ? undefined : file.directions.find((d) => d.name === direction);
  const columns = file.steps
    .filter((step) => Object.hasOwn(step.projections, direction))
    .map((step) => ({ index: step.index, values: step.projections[direction] }));
  const width = Math.max(0, ...columns.map((c) => c.values.length));
  return {
    name: direction,
    // The logit lens keeps a probability per layer (entry l = layer l), not a projection.
    title: lens ? `${direction[0].toUpperCase()}${direction.slice(1)}, layer by step` : `Projection onto ${direction}, layer by step`,
    valueLabel: lens ? 'p' : 'projection',
    layers: ref ? ref.layers : Array.from({ length: width }, (_, i) => i),
    columns,
  };
}

/** Every heatmap series of a trace, in the order the picker lists them. */
export function heatmapSeries(file: TraceFile): HeatmapSeries[] {
  return projectedDirections(file).map((name) => projectionSeries(file, name));
}

export function personaSeries(file: TraceFile): PersonaSeries {
  return {
    turns: file.turns.map(({ turn, projection, belowFloor }) => ({ turn, projection, belowFloor })),
    floor: file.personaFloor,
  };
}
