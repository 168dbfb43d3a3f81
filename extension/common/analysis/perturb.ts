// The TTS perturbation: every number in a step moves by a small random offset, so the step
// still reads naturally but its arithmetic no longer holds (algorithms.md §1.3). Unlike the
// authors' code, the offsets are all six of ±1..3 (the paper's), and each step draws its own
// offsets from a generator seeded by (seed, step index) instead of every step reusing one sequence.

import type { Step } from '../trace/types';

export const PERTURBATION_OFFSETS: readonly number[] = [-3, -2, -1, 1, 2, 3];
export const DEFAULT_PERTURBATION_SEED = 100;
const NUMBER = /[-+]?\d+(?:\.\d+)?/g;

/** mulberry32: a small, well-known 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One 32-bit seed per (seed, step), mixed with splitmix32's finaliser so nearby steps draw unrelated streams. */
export function stepSeed(seed: number, stepIndex: number): number {
  return splitmix32(seed ^ splitmix32(stepIndex + 0x9e3779b9));
}

function splitmix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export interface NumberEdit {
  /** Where the number was, in the original text. */
  start: number;
  end: number;
  original: string;
  replacement: string;
  offset: number;
}

export interface PerturbedText {
  text: string;
  /** False when the text has no number: such a step is not perturbable and gets no TTS. */
  perturbed: boolean;
  edits: NumberEdit[];
}

export interface PerturbedStep extends PerturbedText {
  index: number;
}

/** Whether `text` has a number the perturbation would change; a step without one gets no TTS. */
export function isPerturbable(text: string): boolean {
  return text.search(NUMBER) !== -1;
}

/** Moves every number of `text` by an offset drawn for (seed, stepIndex); integers stay integers, decimals keep their places. */
export function perturbNumbers(text: string, seed: number, stepIndex: number): PerturbedText {
  const random = mulberry32(stepSeed(seed, stepIndex));
  const edits: NumberEdit[] = [];
  const perturbed = text.replace(NUMBER, (original, start: number) => {
    const offset = PERTURBATION_OFFSETS[Math.floor(random() * PERTURBATION_OFFSETS.length)];
    const replacement = shiftNumber(original, offset);
    edits.push({ start, end: start + original.length, original, replacement, offset });
    return replacement;
  });
  return { text: perturbed, perturbed: edits.length > 0, edits };
}

export function perturbAll(steps: readonly Step[], seed: number = DEFAULT_PERTURBATION_SEED): PerturbedStep[] {
  return steps.map((step) => ({ index: step.index, ...perturbNumbers(step.text, seed, step.index) }));
}

/** Adds `offset` exactly (in scaled integers, so 0.1 + 2 is 2.1), keeping the decimal places and the integer part's width. */
function shiftNumber(original: string, offset: number): string {
  const [, sign, whole, fraction = ''] = /^([-+]?)(\d+)(?:\.(\d+))?$/.exec(original)!;
  const scale = 10n ** BigInt(fraction.length);
  const value = BigInt(whole + fraction) * (sign === '-' ? -1n : 1n) + BigInt(offset) * scale;
  const digits = (value < 0n ? -value : value).toString().padStart(fraction.length + 1, '0');
  const wholePart = digits.slice(0, digits.length - fraction.length).padStart(whole.length, '0');
  const prefix = value < 0n ? '-' : sign === '+' ? '+' : '';
  return fraction ? `${prefix}${wholePart}.${digits.slice(digits.length - fraction.length)}` : `${prefix}${wholePart}`;
}
