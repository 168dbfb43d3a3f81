// What the colours and marks of an annotated trace mean, in one place: the TTS severity buckets
// (as Error Lens grades diagnostics), the SEAL class tints, and "n/p". The editor's badges and hover
// footer and the panel's legend all read it.

import type { StepAnnotation } from './bundle/trace-file';
import { TRUE_THINKING_MIN } from './analysis/tts';

export type TtsBucket = 'high' | 'medium' | 'low' | 'none';
export const TTS_BUCKETS: readonly TtsBucket[] = ['high', 'medium', 'low', 'none'];

/** Below TRUE_THINKING_MIN but at or above this the answer visibly leans on the step. */
export const MEDIUM_TTS_MIN = 0.1;

/** A step's TTS bucket: none when it has no score (not computed, or nothing to perturb). */
export function ttsBucket(step: Pick<StepAnnotation, 'perturbable' | 'tts'>): TtsBucket {
  if (!step.perturbable || step.tts === null) return 'none';
  if (step.tts >= TRUE_THINKING_MIN) return 'high';
  return step.tts >= MEDIUM_TTS_MIN ? 'medium' : 'low';
}

export const TTS_BUCKET_MEANING: Record<TtsBucket, string> = {
  high: `TTS ≥ ${TRUE_THINKING_MIN}: the answer depends on this step (true thinking)`,
  medium: `TTS ${MEDIUM_TTS_MIN}–${TRUE_THINKING_MIN}: the answer leans on this step`,
  low: `TTS < ${MEDIUM_TTS_MIN}: the answer barely depends on this step`,
  none: 'no score',
};

export const SEAL_CLASS_MEANING = {
  execution: 'execution: works the problem forward',
  reflection: 'reflection: checks what was done ("Wait", "verify")',
  transition: 'transition: switches approach ("Alternatively")',
} as const;

export const NOT_PERTURBABLE_MEANING = 'n/p: the step has no number to perturb, so it has no TTS';

/** The legend as one line of plain text (the editor hover's footer). */
export function legendLine(): string {
  return [
    `Badge: #step and TTS — high ≥ ${TRUE_THINKING_MIN}, medium ≥ ${MEDIUM_TTS_MIN}, low below`,
    NOT_PERTURBABLE_MEANING,
    'tint: SEAL class (execution, reflection, transition)',
  ].join(' · ');
}
