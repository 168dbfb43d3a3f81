// The answer read out at every layer of every step (logit lens): the series names under which a trace
// file keeps them (in each step's `projections`, entry l = layer l's hook_resid_post), and where the
// answer first becomes readable.

/** Probability of the answer's first token, read from each layer after the step and the cue. */
export const LENS_FIRST_TOKEN = 'logit lens: p(answer first token)';
/** Probability of the whole answer, teacher-forced, read from each layer after the step and the cue. */
export const LENS_ANSWER = 'logit lens: p(answer)';
export const LENS_SERIES: readonly string[] = [LENS_FIRST_TOKEN, LENS_ANSWER];

/** The answer's first token counts as readable at a layer once its lens probability reaches this (then it is the top token). */
export const READABLE_PROBABILITY = 0.5;

export interface Readable {
  step: number;
  layer: number;
}

/** The lowest layer at which the first answer token is readable, or null when no layer reaches it. */
export function readableLayer(firstToken: readonly number[]): number | null {
  const layer = firstToken.findIndex((p) => p >= READABLE_PROBABILITY);
  return layer < 0 ? null : layer;
}

/** The first step (in trace order) after which some layer reads the answer, with that step's lowest such layer. */
export function answerReadableAt(steps: readonly { index: number; projections: Record<string, number[]> }[]): Readable | null {
  for (const step of steps) {
    const series = step.projections[LENS_FIRST_TOKEN];
    const layer = series ? readableLayer(series) : null;
    if (layer !== null) return { step: step.index, layer };
  }
  return null;
}

/** "the answer becomes readable at layer 14 after step 9", or why it never does. */
export function describeReadable(steps: readonly { index: number; projections: Record<string, number[]> }[]): string | null {
  if (!steps.some((step) => step.projections[LENS_FIRST_TOKEN])) return null;
  const at = answerReadableAt(steps);
  return at === null
    ? `the answer is not readable at any layer after any step (its first token never reaches p ≥ ${READABLE_PROBABILITY})`
    : `the answer becomes readable at layer ${at.layer} after step ${at.step}`;
}
