// True Thinking Score arithmetic (algorithms.md §1.2, §1.4).

/** S_x(c): confidence in the right answer with the step intact (x=1) or perturbed (x=0), the context intact (c=1) or perturbed (c=0). */
export interface Confidences {
  s11: number;
  s01: number;
  s10: number;
  s00: number;
}

export interface TrueThinking {
  /** Necessity: S_1(1) − S_0(1). */
  ate1: number;
  /** Sufficiency: S_1(0) − S_0(0). */
  ate0: number;
  /** ½(|ATE(1)| + |ATE(0)|), in [0, 1]. */
  tts: number;
}

/** Steps at or below this are decorative, at or above TRUE_THINKING_MIN true thinking (the paper's thresholds). */
export const DECORATIVE_MAX = 0.005;
export const TRUE_THINKING_MIN = 0.7;
/**
 * When the model gives the scored answer at most this probability after the whole intact trace and the
 * cue, no step's TTS can tell true from decorative (every S it is built from is about as small): the
 * trace's scores are uninformative, not decorative.
 */
export const UNINFORMATIVE_MAX_S = DECORATIVE_MAX;

/** What the model itself answers after the whole trace, against the answer scored. */
export interface AnswerCheck {
  /** The model's own answer: greedy after the whole intact trace and the cue, until "}". */
  modelAnswer: string;
  /** The trace's own \boxed{} answer; null when it has none. */
  traceAnswer: string | null;
  /** S of the scored answer after the whole intact trace and the cue. */
  confidence: number;
  /** Whether the scored answer is the model's own (same text, spaces aside). */
  agrees: boolean;
  /** uninformative: S ≤ UNINFORMATIVE_MAX_S, so the scores say nothing about the steps. */
  tts: 'scored' | 'uninformative';
  /** Whether the trace gave the model a question before its thinking (absent in files that did not record it). */
  question?: boolean;
}

export function answerCheck(modelAnswer: string, traceAnswer: string | null, scored: string, confidence: number, question: boolean): AnswerCheck {
  const plain = (text: string) => text.replace(/\s+/g, '');
  return { modelAnswer, traceAnswer, confidence, agrees: plain(modelAnswer) === plain(scored), tts: confidence <= UNINFORMATIVE_MAX_S ? 'uninformative' : 'scored', question };
}

/** The answer check in words, one line per concern (none when the model gives the scored answer and the scores are informative). */
export function answerWarnings(check: AnswerCheck, scored: string): string[] {
  const warnings: string[] = [];
  if (check.tts === 'uninformative') {
    warnings.push(`TTS is uninformative: after the whole trace the model gives the answer "${scored}" S = ${check.confidence.toExponential(1)} (≤ ${UNINFORMATIVE_MAX_S}), so no step's score can show whether the model relies on it`);
  }
  if (!check.agrees) warnings.push(`the model's own answer after the trace is "${check.modelAnswer}", not the scored "${scored}"`);
  if (check.question === false) warnings.push('the trace holds no question (an API response without the request, say): every S is read after the thinking alone, not after the problem it solves');
  return warnings;
}

/** The summed answer log-probability is clamped here, so a hopeless answer reads as e^−50, not 0 or NaN. */
export const LOG_PROB_FLOOR = -50;

export function trueThinking(s: Confidences): TrueThinking {
  for (const key of ['s11', 's01', 's10', 's00'] as const) {
    const value = s[key];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new RangeError(`${key} = ${value}: a confidence must be a probability in [0, 1]`);
  }
  const ate1 = s.s11 - s.s01;
  const ate0 = s.s10 - s.s00;
  return { ate1, ate0, tts: 0.5 * (Math.abs(ate1) + Math.abs(ate0)) };
}

export function ttsBucket(tts: number): 'decorative' | 'intermediate' | 'true' {
  return tts <= DECORATIVE_MAX ? 'decorative' : tts >= TRUE_THINKING_MIN ? 'true' : 'intermediate';
}

/** Teacher-forced confidence: exp(max(Σ log p(answer token), −50)). */
export function confidenceFromLogProbs(logProbs: ArrayLike<number>): number {
  if (logProbs.length === 0) throw new RangeError('no answer-token log-probabilities: the answer must have at least one token');
  let sum = 0;
  for (let i = 0; i < logProbs.length; i++) {
    const value = logProbs[i];
    if (Number.isNaN(value) || value > 1e-6) throw new RangeError(`log-probability ${value} at token ${i}: expected a value ≤ 0`);
    sum += value;
  }
  return Math.exp(Math.max(sum, LOG_PROB_FLOOR));
}

/** log Σ exp(row), without overflow (shifted by the maximum, summed in float64). */
export function logSumExp(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  if (max === -Infinity || Number.isNaN(max)) return max;
  if (max === Infinity) return Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum);
}

/** The log-softmax of a row of logits. */
export function logSoftmax(row: Float32Array): Float32Array {
  if (row.length === 0) throw new RangeError('log-softmax of an empty row');
  const shift = logSumExp(row);
  const out = new Float32Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i] - shift;
  return out;
}

/** log p(token) under the row's softmax, without materialising the whole distribution. */
export function tokenLogProb(row: Float32Array, token: number): number {
  if (!Number.isInteger(token) || token < 0 || token >= row.length) throw new RangeError(`token id ${token} is outside the vocabulary (0..${row.length - 1})`);
  return row[token] - logSumExp(row);
}
