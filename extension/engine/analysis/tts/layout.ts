// The tokens of every True Thinking Score question of a trace (algorithms.md §1.2):
//   chat-templated prompt | step 1 | … | step i | cue | answer
// with each step intact or perturbed. Every question up to its cue is the tokenization of the whole
// string the model would read, never a concatenation of separately tokenized parts: real tokenizers
// merge across a step's end (Qwen's ".\n\n" is one token, so is "." with the cue's "\n"), and a
// SentencePiece tokenizer would put a space before every separately encoded part. Steps map to
// tokens by character offsets.
//
// Two whole texts are tokenized once: the intact trace and the trace with every perturbable step
// perturbed. Each question is stored as the longest token prefix it shares with one of them (where
// its KV cache forks) and the tokens after it, so the forked computation reads exactly the tokens a
// from-scratch computation of the question reads.

import { perturbAll } from '../../../common/analysis/perturb';
import type { TextRange } from '../../../common/trace/types';
import type { ChatMessage, TextTokenizer } from '../../checkpoint/tokenizer';
import { throwIfCancelled, type Progress } from '../../runtime/progress';
import { checkTtsContext } from '../context-limit';
import { thinkingPrompt, tokenSpans, type ThinkingStep } from '../trace-steps';

export const DEFAULT_TTS_CUE = '\n The final answer is \\boxed{';

type LayoutTokenizer = Pick<TextTokenizer, 'encode' | 'encodeWithOffsets' | 'hasChatTemplate' | 'applyChatTemplate' | 'thinkStartId' | 'bosText'>;

/** Which whole text a question forks from. */
export type TraceKind = 'intact' | 'perturbed';

/** A question's tokens up to and including its cue: `trace[0..fork)` of its whole text, then `tail`. */
export interface Question {
  trace: TraceKind;
  fork: number;
  /** Never empty: at least the row that predicts the first answer token is computed. */
  tail: number[];
}

/** The four questions of a step; s10 and s00 are null while no step before it is perturbed (then they equal s11 and s01). */
export interface StepQuestions {
  s11: Question;
  s01: Question;
  s10: Question | null;
  s00: Question | null;
}

export interface TtsLayout {
  /** The two whole texts (prompt and thinking) and each step's characters in them. */
  texts: Record<TraceKind, string>;
  ranges: Record<TraceKind, TextRange[]>;
  /** Tokens of the two whole texts. */
  intact: number[];
  perturbed: number[];
  /** Whether the step has a number to perturb; a step without one gets no score. */
  perturbable: boolean[];
  /** Per step, its questions (null for a step that is not perturbable). */
  questions: (StepQuestions | null)[];
  cue: string;
  /** The answer's tokens as they follow the cue. */
  answer: number[];
}

export interface TtsLayoutInput {
  /** The conversation before the reply whose thinking is scored (system prompt, earlier turns, the question). */
  messages: readonly ChatMessage[];
  /** The decoded thinking text and its steps. */
  thinking: string;
  steps: readonly ThinkingStep[];
  answer: string;
  cue: string;
  seed: number;
  /** The model's positions: a trace whose longest question does not fit is refused before its questions are tokenized. */
  maxPositions?: number;
}

/** Which prompt: the step intact (x = 1) or perturbed (x = 0), the steps before it intact (c = 1) or perturbed (c = 0). */
export interface Variant {
  step: number;
  stepIntact: boolean;
  contextIntact: boolean;
}

export async function ttsLayout(tokenizer: LayoutTokenizer, input: TtsLayoutInput, progress: Progress = {}): Promise<TtsLayout> {
  const answer = answerTokens(tokenizer, input.cue, input.answer);
  const prompt = thinkingPrompt(tokenizer, input.messages);
  const perturbations = perturbAll(input.steps, input.seed);
  const intact = wholeText(prompt, input.thinking, input.steps, () => undefined);
  const perturbed = wholeText(prompt, input.thinking, input.steps, (i) => (perturbations[i].perturbed ? perturbations[i].text : undefined));
  const layout: TtsLayout = {
    texts: { intact: intact.text, perturbed: perturbed.text },
    ranges: { intact: intact.ranges, perturbed: perturbed.ranges },
    intact: tokenizer.encode(intact.text),
    perturbed: tokenizer.encode(perturbed.text),
    perturbable: perturbations.map((p) => p.perturbed),
    questions: [],
    cue: input.cue,
    answer,
  };
  if (input.maxPositions !== undefined) {
    const promptTokens = tokenizer.encode(prompt).length;
    const thinkingTokens = Math.max(layout.intact.length, layout.perturbed.length) - promptTokens;
    checkTtsContext({ prompt: promptTokens, thinking: thinkingTokens, cue: tokenizer.encode(input.cue).length, answer: answer.length }, input.maxPositions);
  }
  const total = input.steps.length;
  for (let i = 0; i < total; i++) {
    if (i % 8 === 0) {
      // Tokenizing every question of a long trace takes seconds: let a cancel arrive and say how far it got.
      progress.report?.({ message: `Tokenizing the questions of step ${i + 1} of ${total}`, done: i, total });
      await new Promise((resolve) => setImmediate(resolve));
      throwIfCancelled(progress.signal);
    }
    layout.questions.push(layout.perturbable[i] ? stepQuestions(tokenizer, layout, i) : null);
  }
  progress.report?.({ message: `Tokenizing the questions of step ${total} of ${total}`, done: total, total });
  return layout;
}

/** The string the model reads for a variant, through its cue. */
export function variantText(layout: TtsLayout, variant: Variant): { text: string; step: TextRange } {
  checkStep(layout, variant.step);
  const context: TraceKind = variant.contextIntact ? 'intact' : 'perturbed';
  const own: TraceKind = variant.stepIntact ? 'intact' : 'perturbed';
  const start = layout.ranges[context][variant.step].start;
  const ownRange = layout.ranges[own][variant.step];
  const stepText = layout.texts[own].slice(ownRange.start, ownRange.end);
  return { text: layout.texts[context].slice(0, start) + stepText + layout.cue, step: { start, end: start + stepText.length } };
}

/** A variant's tokens through its cue, tokenized as one string (what a from-scratch computation reads). */
export function variantPrefix(tokenizer: Pick<TextTokenizer, 'encode'>, layout: TtsLayout, variant: Variant): number[] {
  return tokenizer.encode(variantText(layout, variant).text);
}

/** Token positions [start, end) of the step in the variant's prefix: every token that holds a character of it. */
export function stepPositions(tokenizer: Pick<TextTokenizer, 'encodeWithOffsets'>, layout: TtsLayout, variant: Variant): TextRange {
  const { text, step } = variantText(layout, variant);
  return tokenSpans(tokenizer.encodeWithOffsets(text).offsets, [step])[0];
}

/** A variant's question: tokenized as one string, stored as the prefix it shares with its context's whole trace and the rest. */
export function variantQuestion(tokenizer: Pick<TextTokenizer, 'encode'>, layout: TtsLayout, variant: Variant): Question {
  const trace: TraceKind = variant.contextIntact ? 'intact' : 'perturbed';
  const ids = variantPrefix(tokenizer, layout, variant);
  const fork = sharedPrefix(layout[trace], ids);
  return { trace, fork, tail: ids.slice(fork) };
}

function stepQuestions(tokenizer: Pick<TextTokenizer, 'encode'>, layout: TtsLayout, i: number): StepQuestions {
  const question = (stepIntact: boolean, contextIntact: boolean) => variantQuestion(tokenizer, layout, { step: i, stepIntact, contextIntact });
  const contextPerturbed = layout.perturbable.slice(0, i).some(Boolean);
  return { s11: question(true, true), s01: question(false, true), s10: contextPerturbed ? question(true, false) : null, s00: contextPerturbed ? question(false, false) : null };
}

/** The prompt then the thinking with `replace(i)` for step i (undefined keeps it), and each step's characters. */
function wholeText(prompt: string, thinking: string, steps: readonly ThinkingStep[], replace: (index: number) => string | undefined): { text: string; ranges: TextRange[] } {
  let text = prompt;
  let from = 0;
  const ranges = steps.map((step, i) => {
    if (step.at.start < from || step.at.end < step.at.start || step.at.end > thinking.length) throw new RangeError(`step ${i} (${step.at.start}..${step.at.end}) overlaps the one before it or lies outside the thinking`);
    text += thinking.slice(from, step.at.start);
    const start = text.length;
    text += replace(i) ?? thinking.slice(step.at.start, step.at.end);
    from = step.at.end;
    return { start, end: text.length };
  });
  return { text: text + thinking.slice(from), ranges };
}

/**
 * The answer's tokens as they follow the cue: the tokens of cue + answer after those of the cue.
 * Refused when the answer's first token would merge with the cue's last one, since the answer
 * would then have no tokens of its own to score.
 */
export function answerTokens(tokenizer: Pick<TextTokenizer, 'encode'>, cue: string, answer: string): number[] {
  if (answer.length === 0) throw new Error('the answer is empty: give the text the model should be confident in (e.g. the \\boxed{} answer)');
  const cueIds = tokenizer.encode(cue);
  const both = tokenizer.encode(cue + answer);
  if (sharedPrefix(cueIds, both) < cueIds.length) {
    throw new Error(`the answer ${JSON.stringify(answer)} merges into one token with the end of the cue ${JSON.stringify(cue)}: end the cue where a token ends (e.g. with "{" or a space)`);
  }
  return both.slice(cueIds.length);
}

/** How many leading tokens `ids` shares with `trace`, leaving at least one token of `ids` to compute. */
function sharedPrefix(trace: readonly number[], ids: readonly number[]): number {
  const limit = Math.min(trace.length, ids.length - 1);
  let k = 0;
  while (k < limit && trace[k] === ids[k]) k++;
  return Math.max(0, k);
}

function checkStep(layout: TtsLayout, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= layout.perturbable.length) throw new RangeError(`step ${index} does not exist: the trace has ${layout.perturbable.length} steps (0..${layout.perturbable.length - 1})`);
}
