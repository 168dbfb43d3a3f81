// Live counterfactuals: the answer's confidence S and the model's greedy answer after an edited trace,
// computing only from the first token that changed. The analysed trace is run once and its KV cache
// kept (a baseline); an edit forks that cache where the edited tokens part from it, runs the rest of
// the trace and the cue, then the answer teacher-forced. While the model's greedy tokens follow the
// answer those same rows are its greedy answer; only where they part (or to find the closing brace)
// does it decode further, one token at a time.

import { performance } from 'node:perf_hooks';
import { confidenceFromLogProbs, tokenLogProb } from '../../common/analysis/tts';
import type { AnswerReadout, Counterfactual } from '../../common/analysis/counterfactual';
import { boxedAnswer } from '../../common/trace/query';
import type { ParsedTrace, SegmentationPolicy } from '../../common/trace/types';
import type { Model } from '../model';
import type { KvCache } from '../runtime/decoder-session';
import { cachePrefix } from '../runtime/kv-cache';
import { throwIfCancelled } from '../runtime/progress';
import { argmax } from '../runtime/sampling';
import { segmentThinking, thinkingPrompt, tokenSpans, type TraceThinking } from './trace-steps';
import { requiredTraceAnswer } from './tts/annotate';
import { answerTokens as ttsAnswerTokens, DEFAULT_TTS_CUE } from './tts/layout';

/** Greedy answer tokens decoded at most, as the TTS paper reads its answers (≤ 20 tokens, stop at `}`). */
const MAX_ANSWER_TOKENS = 20;

export interface CounterfactualSettings {
  segmentation: SegmentationPolicy;
  conversation?: number;
  cue?: string;
  /** The answer to score; default the analysed trace's own. */
  answer?: string;
}

interface TraceTokens {
  thinking: TraceThinking;
  /** Question, thinking and cue, as the model reads them: one string, tokenized as one. */
  ids: number[];
  /** Tokens before the first step's first token. */
  promptLength: number;
  /** One past the last token holding a character of each step, as an index into `ids`. */
  stepEnds: number[];
}

/** The analysed trace, run once: its tokens, its KV cache and its answer readout. */
export class CounterfactualBaseline {
  private constructor(
    private readonly model: Pick<Model, 'session' | 'tokenizer'>,
    private readonly settings: CounterfactualSettings,
    private readonly answerTokens: number[],
    readonly answer: string,
    private readonly tokens: TraceTokens,
    private readonly cache: KvCache,
    readonly before: AnswerReadout,
  ) {}

  static async prepare(model: Pick<Model, 'session' | 'tokenizer'>, trace: ParsedTrace, settings: CounterfactualSettings, signal?: AbortSignal): Promise<CounterfactualBaseline> {
    const thinking = segmentThinking(trace, settings.segmentation, { conversation: settings.conversation });
    const answer = requiredTraceAnswer(thinking, settings.answer);
    const answerTokens = ttsAnswerTokens(model.tokenizer, settings.cue ?? DEFAULT_TTS_CUE, answer);
    const tokens = traceTokens(model, thinking, settings);
    throwIfCancelled(signal);
    const { cache } = await model.session.forward({ ids: tokens.ids, logits: 'none' });
    const baseline = new CounterfactualBaseline(model, settings, answerTokens, answer, tokens, cache, { confidence: 0, greedy: '' });
    const { readout } = await baseline.readout(tokens.ids, signal);
    return new CounterfactualBaseline(model, settings, answerTokens, answer, tokens, cache, readout);
  }

  /** The readout after `edited` (the same document, changed), computed from its first changed token. */
  async edit(edited: ParsedTrace, signal?: AbortSignal): Promise<Counterfactual> {
    const started = performance.now();
    const tokens = traceTokens(this.model, segmentThinking(edited, this.settings.segmentation, { conversation: this.settings.conversation }), this.settings);
    const { readout, forkedAt, recomputed } = await this.readout(tokens.ids, signal);
    const base = this.tokens.ids;
    const same = tokens.ids.length === base.length && tokens.ids.every((token, i) => token === base[i]);
    // The step holding the first changed token; none when only the question changed.
    const index = same || forkedAt < tokens.promptLength ? -1 : tokens.stepEnds.findIndex((end) => end > forkedAt);
    const step = index >= 0 ? tokens.thinking.steps[index] : null;
    return {
      answer: this.answer,
      before: this.before,
      after: readout,
      step: step && { index: step.index, start: step.range.start, end: step.range.end },
      recomputed,
      tokens: { before: this.tokens.ids.length, after: tokens.ids.length },
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** S and the greedy answer after `ids`, continuing this baseline's cache from the first token that differs. */
  private async readout(ids: readonly number[], signal?: AbortSignal): Promise<{ readout: AnswerReadout; forkedAt: number; recomputed: number }> {
    const { session, tokenizer } = this.model;
    const base = this.tokens.ids;
    let forkedAt = 0;
    while (forkedAt < ids.length - 1 && forkedAt < base.length && ids[forkedAt] === base[forkedAt]) forkedAt++;
    throwIfCancelled(signal);
    const prompt = await session.forward({ ids: ids.slice(forkedAt), cache: cachePrefix(this.cache, forkedAt), logits: 'last' });
    throwIfCancelled(signal);
    const answer = this.answerTokens;
    // Rows: the one after the cue predicts answer[0]; answer[k]'s row predicts answer[k+1], the last one what follows the answer.
    const forced = await session.forward({ ids: answer, cache: prompt.cache, logits: 'all' });
    const V = session.spec.vocabSize;
    const row = (k: number) => (k === 0 ? prompt.logits : forced.logits.subarray((k - 1) * V, k * V));
    const confidence = confidenceFromLogProbs(answer.map((token, k) => tokenLogProb(row(k), token)));
    let recomputed = ids.length - forkedAt + answer.length;

    const greedy: number[] = [];
    const stops = new Set(tokenizer.eosIds);
    const closed = () => boxedAnswer(`\\boxed{${tokenizer.decode(greedy)}`) !== null;
    let next = argmax(row(0));
    let cache: KvCache | null = null;
    for (let k = 0; ; k++) {
      if (stops.has(next)) break;
      greedy.push(next);
      if (closed() || greedy.length >= MAX_ANSWER_TOKENS) break;
      if (cache === null && k < answer.length && next === answer[k]) {
        next = argmax(row(k + 1));
        continue;
      }
      // The greedy answer left the teacher-forced rows: decode on from the cache through its last shared token.
      throwIfCancelled(signal);
      cache ??= cachePrefix(forced.cache, prompt.cache.length + k);
      const step = await session.forward({ ids: [next], cache, logits: 'last' });
      cache = step.cache;
      recomputed++;
      next = argmax(step.logits);
    }
    const text = tokenizer.decode(greedy);
    return { readout: { confidence, greedy: (boxedAnswer(`\\boxed{${text}`) ?? text).trim() }, forkedAt, recomputed };
  }
}

function traceTokens(model: Pick<Model, 'tokenizer'>, thinking: TraceThinking, settings: CounterfactualSettings): TraceTokens {
  // The string of the True Thinking Score's intact question after the last step (tts/layout.ts), so S here is S there.
  const prompt = thinkingPrompt(model.tokenizer, thinking.messages);
  const { ids, offsets } = model.tokenizer.encodeWithOffsets(prompt + thinking.thinking.text + (settings.cue ?? DEFAULT_TTS_CUE));
  const spans = tokenSpans(offsets, thinking.steps.map((step) => ({ start: prompt.length + step.at.start, end: prompt.length + step.at.end })));
  return { thinking, ids, promptLength: spans[0]?.start ?? ids.length, stepEnds: spans.map((span) => span.end) };
}
