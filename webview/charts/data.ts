// Plain chart data derived from a trace file; the charts take these shapes, not the file itself.

import type { StepAnnotation, TraceFile } from '../../extension/common/bundle/trace-file';
import type { SealClass } from '../../extension/common/trace/types';
import { formatSeal, formatTts } from '../../extension/common/export/format';

export type SealCategory = SealClass | 'unclassified';
export const SEAL_CATEGORIES: readonly SealCategory[] = ['execution', 'reflection', 'transition', 'unclassified'];

export interface StepBar {
  index: number;
  /** 0..1; null when the step was not scored or has nothing to perturb. */
  tts: number | null;
  category: SealCategory;
  /** What a screen reader and a hover say about the bar. */
  label: string;
}

export interface ProjectionGrid {
  direction: string;
  layers: number[];
  /** columns[i].values[j]: projection of step columns[i].index at layers[j]. */
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

export function sealCounts(steps: StepAnnotation[]): Record<SealCategory, number> {
  const counts: Record<SealCategory, number> = { execution: 0, reflection: 0, transition: 0, unclassified: 0 };
  for (const step of steps) counts[step.sealClass ?? 'unclassified']++;
  return counts;
}

/** Names of the directions some step has a projection for, in the file's order. */
export function projectedDirections(file: TraceFile): string[] {
  const named = new Set(file.steps.flatMap((step) => Object.keys(step.projections)));
  const listed = file.directions.map((d) => d.name).filter((name) => named.has(name));
  return [...new Set([...listed, ...named])];
}

export function projectionGrid(file: TraceFile, direction: string): ProjectionGrid {
  const ref = file.directions.find((d) => d.name === direction);
  const columns = file.steps
    .filter((step) => Object.hasOwn(step.projections, direction))
    .map((step) => ({ index: step.index, values: step.projections[direction] }));
  const width = Math.max(0, ...columns.map((c) => c.values.length));
  return { direction, layers: ref ? ref.layers : Array.from({ length: width }, (_, i) => i), columns };
}

export function personaSeries(file: TraceFile): PersonaSeries {
  return {
    turns: file.turns.map(({ turn, projection, belowFloor }) => ({ turn, projection, belowFloor })),
    floor: file.personaFloor,
  };
}
