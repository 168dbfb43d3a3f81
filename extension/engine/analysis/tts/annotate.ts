// One conversation of a trace as a trace file: its steps, and with a model their True Thinking Scores.

import { DEFAULT_PERTURBATION_SEED, isPerturbable } from '../../../common/analysis/perturb';
import type { TraceFile } from '../../../common/bundle/trace-file';
import { newTraceFile, unscoredStep } from '../../../common/bundle/trace-write';
import { boxedAnswer } from '../../../common/trace/query';
import type { SegmentOptions } from '../../../common/trace/segment';
import type { ParsedTrace, SegmentationPolicy } from '../../../common/trace/types';
import type { Model } from '../../model';
import type { Progress } from '../../runtime/progress';
import { segmentThinking, type TraceThinking } from '../trace-steps';
import type { TextTokenizer } from '../../checkpoint/tokenizer';
import { lastThinkingTokens } from '../context-limit';
import { computeTts } from './compute';
import { DEFAULT_TTS_CUE, ttsLayout } from './layout';

export interface TtsSettings {
  /** Text after the thinking prefix that asks for the answer (default DEFAULT_TTS_CUE). */
  cue?: string;
  /** The answer to score; default the trace's own (see traceAnswer). */
  answer?: string;
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
}

export async function annotateTrace(trace: ParsedTrace, options: AnnotateOptions): Promise<TraceFile> {
  const segmented = segmentThinking(trace, options.segmentation, { ...options.segmentOptions, conversation: options.conversation });
  const thinking = options.lastTokens ? lastThinkingTokens(segmented, options.lastTokens.tokenizer, options.lastTokens.tokens) : segmented;
  const cue = options.tts?.cue ?? DEFAULT_TTS_CUE;
  const seed = options.tts?.seed ?? DEFAULT_PERTURBATION_SEED;
  const answer = traceAnswer(thinking, options.tts?.answer);
  const steps = thinking.steps.map((step) =>
    unscoredStep({
      index: step.index,
      start: step.range.start,
      end: step.range.end,
      // A trace file stores the step as written in the source (escaped, inside a JSON string).
      text: trace.text.slice(step.range.start, step.range.end),
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
    });
  options.onSnapshot?.(file());
  if (options.model) {
    if (answer === null) throw new Error(`${options.name}: the trace has no \\boxed{} answer and no final reply: give the answer to score`);
    const layout = await ttsLayout(
      options.model.tokenizer,
      { messages: thinking.messages, thinking: thinking.thinking.text, steps: thinking.steps, answer, cue, seed, maxPositions: options.model.session.spec.maxPositions },
      options,
    );
    await computeTts(options.model.session, layout, {
      ...options,
      onScore: (score) => {
        const { index: _, ...values } = score;
        Object.assign(steps[score.index], values);
        options.onSnapshot?.(file());
      },
    });
  }
  return file();
}

/**
 * The answer whose confidence TTS measures: the one given, else the last \boxed{} of the reply,
 * else of the thinking, else the reply itself; null when there is none of these.
 */
export function traceAnswer(thinking: Pick<TraceThinking, 'reply' | 'thinking'>, given?: string): string | null {
  if (given !== undefined) {
    if (given.trim() === '') throw new Error('the answer given is empty: give the text the model should be confident in');
    return given;
  }
  const reply = thinking.reply?.trim() ?? '';
  return boxedAnswer(reply) ?? boxedAnswer(thinking.thinking.text) ?? (reply === '' ? null : reply);
}
