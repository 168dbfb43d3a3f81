// Live counterfactuals: the answer's confidence S and the model's greedy answer after an edited trace,
// computing only from the first token that changed. The analysed trace is run once and its KV cache
// kept (a baseline); an edit forks that cache where the edited tokens part from it and runs the rest of
// the trace, the cue and the answer teacher-forced in one forward. While the model's greedy tokens
// follow the answer those same rows are its greedy answer; where they part (or to find the closing
// brace) it decodes on, feeding a guess of the tokens ahead in one forward and keeping the rows while
// the greedy tokens follow it (the baseline's greedy answer, or what followed the same token there or
// earlier in this one: a greedy answer that left the answer often repeats): an edit that leaves the
// greedy answer as it was costs one forward more, not one per token (each a full read of the weights).

import { performance } from 'node:perf_hooks';
import { confidenceFromLogProbs, tokenLogProb } from '../../common/analysis/tts';
import type { AnswerReadout, Counterfactual } from '../../common/analysis/counterfactual';
import { boxedAnswer } from '../../common/trace/query';
import type { ParsedTrace, SegmentationPolicy } from '../../common/trace/types';
import type { Model } from '../model';
import type { KvCache } from '../runtime/kv-cache';
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
    /** The greedy answer's tokens of `before`: what an edit's greedy answer is read ahead along. */
    private readonly greedyBefore: readonly number[],
  ) {}

  static async prepare(model: Pick<Model, 'session' | 'tokenizer'>, trace: ParsedTrace, settings: CounterfactualSettings, signal?: AbortSignal): Promise<CounterfactualBaseline> {
    const thinking = segmentThinking(trace, settings.segmentation, { conversation: settings.conversation });
    const answer = requiredTraceAnswer(thinking, settings.answer);
    const answerTokens = ttsAnswerTokens(model.tokenizer, settings.cue ?? DEFAULT_TTS_CUE, answer);
    const tokens = traceTokens(model, thinking, settings);
    throwIfCancelled(signal);
    const { cache } = await model.session.forward({ ids: tokens.ids, logits: 'none' });
    const baseline = new CounterfactualBaseline(model, settings, answerTokens, answer, tokens, cache, { confidence: 0, greedy: '' }, []);
    const { readout, greedy } = await baseline.readout(tokens.ids, signal);
    return new CounterfactualBaseline(model, settings, answerTokens, answer, tokens, cache, readout, greedy);
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
  private async readout(ids: readonly number[], signal?: AbortSignal): Promise<{ readout: AnswerReadout; greedy: number[]; forkedAt: number; recomputed: number }> {
    const { session, tokenizer } = this.model;
    const base = this.tokens.ids;
    let forkedAt = 0;
    while (forkedAt < ids.length - 1 && forkedAt < base.length && ids[forkedAt] === base[forkedAt]) forkedAt++;
    throwIfCancelled(signal);
    const answer = this.answerTokens;
    const tail = ids.slice(forkedAt);
    // Rows: the cue's last predicts answer[0]; answer[k]'s row predicts answer[k+1], the last one what follows the answer.
    const answerRows = Array.from({ length: answer.length + 1 }, (_, k) => tail.length - 1 + k);
    const forced = await session.forward({ ids: [...tail, ...answer], cache: this.cache.prefix(forkedAt), logits: answerRows, progress: { signal } });
    throwIfCancelled(signal);
    const V = session.spec.vocabSize;
    const confidence = confidenceFromLogProbs(answer.map((token, k) => tokenLogProb(forced.logits.subarray(k * V, (k + 1) * V), token)));
    let recomputed = tail.length + answer.length;

    const greedy: number[] = [];
    const stops = new Set(tokenizer.eosIds);
    const closed = () => boxedAnswer(`\\boxed{${tokenizer.decode(greedy)}`) !== null;
    let ahead: ReadAhead = { tokens: answer, row: (k) => forced.logits.subarray(k * V, (k + 1) * V), cacheThrough: (k) => forced.cache.prefix(ids.length + k) };
    let next = argmax(ahead.row(0));
    for (let k = 0; ; k++) {
      if (stops.has(next)) break;
      greedy.push(next);
      if (closed() || greedy.length >= MAX_ANSWER_TOKENS) break;
      if (k < ahead.tokens.length && next === ahead.tokens[k]) {
        next = argmax(ahead.row(k + 1));
        continue;
      }
      // The greedy answer left the rows read ahead: run on from the cache through its last shared token.
      throwIfCancelled(signal);
      const cache = ahead.cacheThrough(k);
      // Rows for at most the tokens before the last one the answer may take.
      const guess = guessAhead(greedy, this.greedyBefore, MAX_ANSWER_TOKENS - 1 - k);
      const step = await session.forward({ ids: guess, cache, logits: 'all' });
      recomputed += guess.length;
      const from = k;
      ahead = {
        tokens: [...greedy.slice(0, from), ...guess],
        row: (j) => step.logits.subarray((j - from - 1) * V, (j - from) * V),
        cacheThrough: (j) => step.cache.prefix(cache.length + j - from),
      };
      next = argmax(ahead.row(k + 1));
    }
    const text = tokenizer.decode(greedy);
    return { readout: { confidence, greedy: (boxedAnswer(`\\boxed{${text}`) ?? text).trim() }, greedy, forkedAt, recomputed };
  }
}

/**
 * The tokens to feed after the greedy answer so far (its last token first, the one not yet fed), at most
 * `limit`: the baseline's greedy answer from here while this one has followed it, else what followed this
 * token where it first occurs in the baseline's, else the cycle since its last occurrence in this one;
 * else the token alone. A wrong guess costs rows of one forward; the kept rows are only those it got right.
 */
export function guessAhead(greedy: readonly number[], before: readonly number[], limit: number): number[] {
  const k = greedy.length - 1;
  const token = greedy[k];
  const same = greedy.every((t, i) => t === before[i]);
  const afterFirst = before.indexOf(token);
  const previous = k > 0 ? greedy.lastIndexOf(token, k - 1) : -1;
  let rest: readonly number[] = [];
  if (same && before.length > k + 1) rest = before.slice(k + 1);
  else if (afterFirst >= 0 && afterFirst < before.length - 1) rest = before.slice(afterFirst + 1);
  else if (previous >= 0) {
    const cycle = greedy.slice(previous + 1);
    rest = Array.from({ length: limit }, (_, i) => cycle[i % cycle.length]);
  }
  return [token, ...rest].slice(0, limit);
}

/**
 * Greedy tokens fed in one forward, indexed from the greedy answer's first token: while the greedy
 * answer's first k tokens equal `tokens`' first k, `row(k)` predicts its token k and `cacheThrough(k)`
 * holds the trace and those k tokens.
 */
interface ReadAhead {
  tokens: readonly number[];
  row: (k: number) => Float32Array;
  cacheThrough: (k: number) => KvCache;
}

function traceTokens(model: Pick<Model, 'tokenizer'>, thinking: TraceThinking, settings: CounterfactualSettings): TraceTokens {
  // The string of the True Thinking Score's intact question after the last step (tts/layout.ts), so S here is S there.
  const prompt = thinkingPrompt(model.tokenizer, thinking.messages);
  const { ids, offsets } = model.tokenizer.encodeWithOffsets(prompt + thinking.thinking.text + (settings.cue ?? DEFAULT_TTS_CUE));
  const spans = tokenSpans(offsets, thinking.steps.map((step) => ({ start: prompt.length + step.at.start, end: prompt.length + step.at.end })));
  return { thinking, ids, promptLength: spans[0]?.start ?? ids.length, stepEnds: spans.map((span) => span.end) };
}
