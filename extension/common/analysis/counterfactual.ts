// Counterfactual edits of a trace and what they do to the answer: the text of a trace with one step
// removed or with one step's numbers moved, and the readout the editor and the CLI show (S before →
// after, and the model's greedy answer when it changed).

import { formatNumber } from '../export/format';
import { perturbNumbers } from './perturb';

/** The model's answer after the thinking and the cue: the confidence S in the expected answer (teacher-forced) and its own greedy answer. */
export interface AnswerReadout {
  confidence: number;
  /** The greedy continuation after the cue up to the closing brace (or its first tokens when it never closes). */
  greedy: string;
}

export interface Counterfactual {
  /** The answer whose confidence S is (the analysed trace's). */
  answer: string;
  before: AnswerReadout;
  after: AnswerReadout;
  /** The first step of the edited trace whose tokens differ, with its range in the edited text; null when only the question changed or nothing did. */
  step: { index: number; start: number; end: number } | null;
  /** Tokens computed again: from the first changed token through the cue and the answer. */
  recomputed: number;
  /** Tokens of the trace, before and after the edit (question and thinking). */
  tokens: { before: number; after: number };
  /** Time the engine spent on this readout. */
  seconds: number;
}

/** A range of a text, as a step's place in a trace. */
export interface TextSpan {
  start: number;
  end: number;
}

/**
 * The text without the steps in `remove`, each with the white space before it (back to the last kept
 * step; a step with no kept step before it takes the white space after it instead), so the neighbours
 * close up as if it had never been written and paragraphs stay paragraphs.
 */
export function removeSteps(text: string, steps: readonly TextSpan[], remove: ReadonlySet<number>): string {
  let lastKept = -1;
  const cuts: TextSpan[] = [];
  steps.forEach((step, i) => {
    if (!remove.has(i)) lastKept = i;
    else if (lastKept >= 0) cuts.push({ start: steps[lastKept].end, end: step.end });
    else cuts.push({ start: step.start, end: steps[i + 1]?.start ?? step.end });
  });
  let out = '';
  let from = 0;
  for (const cut of cuts) {
    out += text.slice(from, Math.max(from, cut.start));
    from = Math.max(from, cut.end);
  }
  return out + text.slice(from);
}

/** The text with the numbers of one step moved (the TTS perturbation of that step), or null when it has none. */
export function perturbStep(text: string, step: TextSpan & { index: number }, seed: number): string | null {
  const perturbed = perturbNumbers(text.slice(step.start, step.end), seed, step.index);
  return perturbed.perturbed ? text.slice(0, step.start) + perturbed.text + text.slice(step.end) : null;
}

/** "S 0.912 → 0.104 · answer 42 → 41" (the greedy answer only when it changed). */
export function describeCounterfactual(result: Pick<Counterfactual, 'before' | 'after'>): string {
  const s = `S ${formatProbability(result.before.confidence)} → ${formatProbability(result.after.confidence)}`;
  return result.before.greedy === result.after.greedy ? s : `${s} · answer ${quote(result.before.greedy)} → ${quote(result.after.greedy)}`;
}

/** A probability: three decimals, or two significant digits when it is that small. */
export function formatProbability(value: number): string {
  return value !== 0 && value < 0.001 ? value.toExponential(1) : formatNumber(value);
}

function quote(answer: string): string {
  const short = answer.length > 24 ? `${answer.slice(0, 23)}…` : answer;
  return short === '' ? '“”' : short;
}
