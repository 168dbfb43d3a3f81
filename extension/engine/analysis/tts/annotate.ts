// One conversation of a trace as a trace file: its steps, and with a model their True Thinking Scores.

import { DEFAULT_PERTURBATION_SEED, isPerturbable } from '../../../common/analysis/perturb';
import type { TraceFile } from '../../../common/bundle/trace-file';
import { newTraceFile, unscoredStep } from '../../../common/bundle/trace-write';
import { boxedAnswer } from '../../../common/trace/query';
import type { SegmentOptions } from '../../../common/trace/segment';
import type { ParsedTrace, SegmentationPolicy } from '../../../common/trace/types';
import type { Model } from '../../model';
import { phases, type Progress } from '../../runtime/progress';
import { segmentThinking, thinkingPrompt, type TraceThinking } from '../trace-steps';
import { generate } from '../../runtime/generate';
import { answerCheck, type AnswerCheck } from '../../../common/analysis/tts';
import type { TextTokenizer } from '../../checkpoint/tokenizer';
import { lastThinkingTokens } from '../context-limit';
import { computeTts, continuing, variantConfidence, type ReadTokens, type StepScore } from './compute';
import { resumable, type ResumeOptions } from './kept-scores';
import { DEFAULT_TTS_CUE, ttsLayout, type TtsLayout } from './layout';

export interface TtsSettings {
  /** Text after the thinking prefix that asks for the answer (default DEFAULT_TTS_CUE). */
  cue?: string;
  /** The answer to score; default the trace's own \\boxed{} answer (see traceAnswer). */
  answer?: string;
  /** Score the model's own answer (decoded after the whole trace and the cue) instead of the trace's. */
  answerFrom?: 'trace' | 'model';
  /** Seed of the number perturbation (default DEFAULT_PERTURBATION_SEED). */
  seed?: number;
}

export interface AnnotateOptions extends Progress {
  /** The trace's name in the file (its path, or path:line for a JSONL line). */
  name: string;
  toolVersion: string;
  segmentation: SegmentationPolicy;
  segmentOptions?: SegmentOptions;
  conversation?: number;
  /** With a model, every perturbable step gets its True Thinking Score; without, only steps. */
  model?: Pick<Model, 'session' | 'tokenizer' | 'fingerprint'>;
  tts?: TtsSettings;
  /** A complete trace file after every scored step (steps not yet scored have null scores). */
  onSnapshot?: (file: TraceFile) => void;
  /** Only the steps within the last `tokens` tokens of thinking, when the whole trace is longer than the model's positions. */
  lastTokens?: { tokens: number; tokenizer: Pick<TextTokenizer, 'encodeWithOffsets'> };
  /** Go on from the steps a cancelled run of the same document kept (when its inputs were these), and keep this run's. */
  resume?: ResumeOptions;
}

export async function annotateTrace(trace: ParsedTrace, options: AnnotateOptions): Promise<TraceFile> {
  const segmented = segmentThinking(trace, options.segmentation, { ...options.segmentOptions, conversation: options.conversation });
  const thinking = options.lastTokens ? lastThinkingTokens(segmented, options.lastTokens.tokenizer, options.lastTokens.tokens) : segmented;
  const cue = options.tts?.cue ?? DEFAULT_TTS_CUE;
  const seed = options.tts?.seed ?? DEFAULT_PERTURBATION_SEED;
  const given = traceAnswer(thinking, options.tts?.answer);
  let answer = options.tts?.answerFrom === 'model' ? null : given;
  let check: AnswerCheck | null = null;
  const steps = thinking.steps.map((step) =>
    unscoredStep({
      index: step.index,
      start: step.range.start,
      end: step.range.end,
      // The step as the model reads it: inside a JSON string, decoded (its range covers the escaped form).
      text: step.text,
      perturbable: isPerturbable(step.text),
    }),
  );
  const file = () =>
    newTraceFile({
      toolVersion: options.toolVersion,
      source: { name: options.name, format: trace.format, text: trace.text },
      model: options.model?.fingerprint ?? null,
      segmentation: options.segmentation,
      settings: { cue, answer, seed },
      steps: steps.map((step) => ({ ...step })),
      answerCheck: check,
    });
  options.onSnapshot?.(file());
  if (options.model) {
    // The model's own answer; first when it is the one to score, or when the trace has none to offer.
    const wholeText = thinkingPrompt(options.model.tokenizer, thinking.messages) + thinking.thinking.text + cue;
    let own = answer === null ? await modelAnswer(options.model, wholeText, options.signal) : null;
    if (options.tts?.answerFrom === 'model') {
      if (own === '') throw new Error(`${options.name}: the model gives no answer after the trace and the cue, so there is none of its own to score: give the answer to score`);
      answer = own;
    }
    if (answer === null) {
      throw new Error(`${options.name}: the trace has no \\boxed{} answer: give the answer to score (--answer TEXT), or score the model's own answer after the trace, "${own}" (--answer-from model)`);
    }
    const [tokenizing, scoring] = phases(options, [1, 6]);
    const layout = await ttsLayout(
      options.model.tokenizer,
      { messages: thinking.messages, thinking: thinking.thinking.text, steps: thinking.steps, answer, cue, seed, maxPositions: options.model.session.spec.maxPositions },
      tokenizing,
    );
    const { model } = options;
    const scored = answer;
    // The model's own answer and S after the whole trace continue the intact trace's read (one pass over it);
    // a run whose steps were all kept reads nothing, and they run on their own.
    let checked = false;
    const checkAnswer = async (read?: ReadTokens) => {
      checked = true;
      own ??= await modelAnswer(model, wholeText, options.signal, read);
      if (layout.perturbable.length === 0) return;
      const whole = await variantConfidence(model.session, model.tokenizer, layout, { step: layout.perturbable.length - 1, stepIntact: true, contextIntact: true }, undefined, read);
      check = answerCheck(own, given, scored, whole, (thinking.question ?? '').trim() !== '');
      options.onSnapshot?.(file());
    };
    const { session } = model;
    const place = (score: StepScore) => {
      const { index: _, ...values } = score;
      Object.assign(steps[score.index], values);
    };
    const score = (run: Parameters<typeof computeTts>[2]) =>
      computeTts(session, layout, {
        ...scoring,
        ...run,
        onKept: (kept) => {
          kept.forEach(place);
          options.onSnapshot?.(file());
        },
        onScore: (score) => {
          place(score);
          options.onSnapshot?.(file());
        },
        onRead: checkAnswer,
      });
    if (!options.resume) await score({});
    else {
      const settings = {
        segmentation: options.segmentation,
        conversation: options.conversation ?? 0,
        lastTokens: options.lastTokens?.tokens ?? null,
        cue,
        answer,
        answerFrom: options.tts?.answerFrom ?? 'trace',
        seed,
      };
      await resumable(options.resume, { model: options.model.fingerprint, text: trace.text, settings, layout }, score);
    }
    if (!checked) await checkAnswer();
  }
  return file();
}

/**
 * The answer whose confidence TTS measures: the one given, else the last \boxed{} of the reply, else
 * of the thinking; null when there is none (never the whole reply: its probability is always at the
 * floor, and every step would look decorative).
 */
export function traceAnswer(thinking: Pick<TraceThinking, 'reply' | 'thinking'>, given?: string): string | null {
  if (given !== undefined) {
    if (given.trim() === '') throw new Error('the answer given is empty: give the text the model should be confident in');
    return given;
  }
  return boxedAnswer(thinking.reply?.trim() ?? '') ?? boxedAnswer(thinking.thinking.text);
}

/** The answer to score, or an error that says how to give one: a trace without \boxed{} is never scored against its whole reply. */
export function requiredTraceAnswer(thinking: Pick<TraceThinking, 'reply' | 'thinking'>, given?: string): string {
  const answer = traceAnswer(thinking, given);
  if (answer === null) throw new Error('the trace has no \\boxed{} answer: give the answer to score (--answer TEXT, or pick one when VS Code asks)');
  return answer;
}

/** A trace's thinking and the TTS questions over it (whole strings), for the answer given or boxed. */
export async function traceLayout(
  tokenizer: TextTokenizer,
  trace: ParsedTrace,
  options: TtsSettings & Progress & { segmentation: SegmentationPolicy; conversation?: number },
): Promise<{ thinking: TraceThinking; layout: TtsLayout }> {
  const thinking = segmentThinking(trace, options.segmentation, { conversation: options.conversation });
  const answer = requiredTraceAnswer(thinking, options.answer);
  const layout = await ttsLayout(tokenizer, {
    messages: thinking.messages,
    thinking: thinking.thinking.text,
    steps: thinking.steps,
    answer,
    cue: options.cue ?? DEFAULT_TTS_CUE,
    seed: options.seed ?? DEFAULT_PERTURBATION_SEED,
  }, options);
  return { thinking, layout };
}

/** Greedy answer tokens decoded at most, as the TTS paper reads its answers (≤ 20 tokens, stop at `}`). */
const MAX_ANSWER_TOKENS = 20;

/**
 * The model's own answer: greedy decoding after the question, the whole thinking and the cue (one
 * text, tokenized whole as the model would read it), until the closing brace (the paper's readout).
 */
export async function modelAnswer(model: Pick<Model, 'session' | 'tokenizer'>, textThroughCue: string, signal?: AbortSignal, read?: ReadTokens): Promise<string> {
  const { tokenizer } = model;
  const prompt = continuing(tokenizer.encode(textThroughCue), read);
  const answer: number[] = [];
  const decode = (tokens: readonly number[]) => tokenizer.decode(tokens);
  for await (const token of generate(model.session, prompt.ids, { cache: prompt.cache, maxTokens: MAX_ANSWER_TOKENS, stopTokens: tokenizer.eosIds, stopStrings: ['}'], decode, signal })) {
    if (token.stop !== 'token') answer.push(token.id);
  }
  const text = decode(answer);
  return (boxedAnswer(`\\boxed{${text}`) ?? text).trim();
}
