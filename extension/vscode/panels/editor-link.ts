// Between the editor and a trace's steps: which steps a selection covers. Offsets are characters in
// the analysed text, which is the document's text. Pure: no vscode here.
import type { StepAnnotation } from '../../common/bundle/trace-file';

export interface OffsetRange {
  start: number;
  end: number;
}

/**
 * Indices of the steps the ranges touch: an empty range (a cursor) picks the step it stands in, a
 * non-empty one every step it overlaps.
 */
export function stepsInRanges(steps: readonly StepAnnotation[], ranges: readonly OffsetRange[]): number[] {
  const picked = new Set<number>();
  for (const { start, end } of ranges) {
    for (const step of steps) {
      const hit = start === end ? step.start <= start && start <= step.end : step.start < end && start < step.end;
      if (hit) picked.add(step.index);
    }
  }
  return [...picked].sort((a, b) => a - b);
}
