// The True Thinking Score of every step (algorithms.md §1.4), from two passes and a few packed ones.
//
// One pass over the intact trace and one over the fully perturbed trace (forked from the first where
// they start to differ) leave two KV caches. For step i:
//   S_1(1) = cue and answer after the intact prefix through step i;
//   S_0(0) = the same after the perturbed prefix through step i;
//   S_0(1) = the perturbed step i after the intact steps before it, then cue and answer;
//   S_1(0) = the intact step i after the perturbed steps before it, then cue and answer.
// Each question is tokenized as one string (layout.ts) and continues the trace it shares the longest
// token prefix with, so it computes only the tokens after that prefix. All these continuations are
// independent: they are packed, many steps at a time, into single forwards in which every token sees
// only its own branch's part of the cache (DecoderSession.forwardBranches), so the weights are read a
// few times per pack, not once per question. A pack's questions run in two forwards, one per trace,
// each over that trace's cache cut to the longest prefix they read: attention is computed over every
// key of a forward's cache, so a forward reads one trace, and early steps' questions not its whole.
// Steps without numbers get no score; until the first scored step both prefixes are the same (then
// S_1(0) = S_1(1) and S_0(0) = S_0(1)).

import { confidenceFromLogProbs, tokenLogProb, trueThinking } from '../../../common/analysis/tts';
import type { DecoderSession, Steering } from '../../runtime/decoder-session';
import type { KvCache } from '../../runtime/kv-cache';
import type { Branch } from '../../runtime/positions';
import { phases, throwIfCancelled, type Progress } from '../../runtime/progress';
import type { StepAnnotation } from '../../../common/bundle/trace-file';
import type { TextTokenizer } from '../../checkpoint/tokenizer';
import { stepPositions, variantPrefix, type Question as LayoutQuestion, type TtsLayout, type Variant } from './layout';
import { stepSpanIntervention } from '../../directions/steering-methods';

/** A step's True Thinking Score and its four confidences (all null for a step that is not perturbable). */
export type StepScore = Pick<StepAnnotation, 'index' | 'perturbable' | 'tts' | 's11' | 's01' | 's10' | 's00'>;

export interface TtsProgress extends Progress {
  /** Each step's score as soon as it is known, in step order. */
  onScore?: (score: StepScore) => void;
  /** Scores an earlier run over the same layout finished (see kept-scores.ts): they are not computed again. */
  kept?: KeptScores;
  /** The steps kept from `kept`, handed over at once before any new one. */
  onKept?: (scores: readonly StepScore[]) => void;
  /** After each pack of steps: every score so far, and the packs, so that a cancelled run can resume. */
  onPack?: (kept: KeptScores) => Promise<void> | void;
  /** Once the intact trace is read, before any step is scored: what else reads the trace continues this. */
  onRead?: (intact: ReadTokens) => Promise<void>;
}

/** Tokens already read and their cache: a forward over tokens that begin with some of them continues it. */
export interface ReadTokens {
  ids: readonly number[];
  cache: KvCache;
}

/**
 * `ids` as the tokens `read` does not hold yet and the cache of those it does, sharing at most
 * `maxShared` (by default all but the last token: a forward needs one).
 */
export function continuing(ids: readonly number[], read?: ReadTokens, maxShared = ids.length - 1): { ids: number[]; cache?: KvCache } {
  if (!read) return { ids: [...ids] };
  const shared = Math.min(sharedPrefix(ids, read.ids), maxShared);
  return { ids: ids.slice(shared), cache: read.cache.prefix(shared) };
}

/**
 * The scores of the first packs of steps of a run, and every pack's end (a step index, exclusive). A
 * resumed run answers the remaining packs exactly as the first run would have: the packs decide the
 * shapes of the forwards, and so the last bits of every score.
 */
export interface KeptScores {
  packs: number[];
  scores: StepScore[];
}

export async function computeTts(session: DecoderSession, layout: TtsLayout, progress: TtsProgress = {}): Promise<StepScore[]> {
  const total = layout.perturbable.length;
  const [reading, scoring] = phases(progress, [1, 2]);
  const report = (done: number, message = `True Thinking Score: step ${done} of ${total}`) => scoring.report?.({ message, done, total });
  throwIfCancelled(progress.signal);
  const packs = progress.kept?.packs ?? ttsPacks(session, layout);
  const scores: StepScore[] = progress.kept ? [...progress.kept.scores] : [];
  if (scores.length > 0 && !packs.includes(scores.length)) throw new Error(`kept scores end at step ${scores.length}, inside a pack`);
  // Kept steps are shown at once; the others need the trace pair.
  if (scores.length > 0) progress.onKept?.(scores);
  if (progress.kept && scores.length === total) {
    report(total, `True Thinking Score: all ${total} steps kept from the cancelled run`);
    return scores;
  }
  const pair = await tracePair(session, layout, reading);
  throwIfCancelled(progress.signal);
  await progress.onRead?.({ ids: layout.intact, cache: pair.intact });
  throwIfCancelled(progress.signal);
  report(scores.length, scores.length > 0 ? `True Thinking Score: resuming at step ${scores.length + 1} of ${total}` : undefined);
  // Scores arrive a pack at a time and are handed on step by step; a cancel stops the hand-over too.
  let emitted = scores.length;
  let start = 0;
  for (const end of packs) {
    if (end <= scores.length) {
      start = end;
      continue;
    }
    throwIfCancelled(progress.signal);
    const questions = Array.from({ length: end - start }, (_, k) => stepQuestions(layout, start + k));
    const pack = questions.flatMap((q) => (q ? [q.s11, q.s01, q.s10, q.s00].filter((b): b is Question => b !== null) : []));
    if (pack.length > 0) await answerPacked(session, layout, pair, pack);
    questions.forEach((q, k) => {
      const index = start + k;
      if (!q) scores.push({ index, perturbable: false, tts: null, s11: null, s01: null, s10: null, s00: null });
      else {
        const s = { s11: q.s11.confidence!, s01: q.s01.confidence!, s10: (q.s10 ?? q.s11).confidence!, s00: (q.s00 ?? q.s01).confidence! };
        scores.push({ index, perturbable: true, tts: trueThinking(s).tts, ...s });
      }
    });
    await progress.onPack?.({ packs, scores: [...scores] });
    for (; emitted < end; emitted++) {
      throwIfCancelled(progress.signal);
      progress.onScore?.(scores[emitted]);
      report(emitted + 1);
    }
    start = end;
  }
  return scores;
}

/**
 * Where each pack of steps ends: as many steps as each of the pack's two forwards (one per trace) can
 * take within the memory budget and the logits rows it may return, never splitting a step's questions.
 */
export function ttsPacks(session: DecoderSession, layout: TtsLayout): number[] {
  const tail = layout.answer.length - 1;
  // Per step and trace, the sizes of the questions that continue it: a pack's forward over that trace takes them.
  const sizes = layout.questions.map((q) => {
    const questions = q ? [q.s11, q.s01, q.s10, q.s00].filter((b) => b !== null) : [];
    return Object.fromEntries(TRACES.map((trace) => [trace, questions.filter((b) => b.trace === trace).map((b) => b.tail.length + tail)])) as Record<Trace, number[]>;
  });
  const budget = Object.fromEntries(TRACES.map((trace) => [trace, packBudget(session, layout[trace].length, sizes.map((step) => step[trace]))])) as Record<Trace, number>;
  const logitRows = session.logitRowsWithinBudget();
  const ends: number[] = [];
  const empty = () => ({ intact: { tokens: 0, branches: 0 }, perturbed: { tokens: 0, branches: 0 } });
  let packed = empty();
  sizes.forEach((step, i) => {
    const over = (trace: Trace) =>
      packed[trace].tokens + step[trace].reduce((n, size) => n + size, 0) > budget[trace] || (packed[trace].branches + step[trace].length) * layout.answer.length > logitRows;
    if (packed.intact.tokens + packed.perturbed.tokens > 0 && (over('intact') || over('perturbed'))) {
      ends.push(i);
      packed = empty();
    }
    for (const trace of TRACES) {
      packed[trace].tokens += step[trace].reduce((n, size) => n + size, 0);
      packed[trace].branches += step[trace].length;
    }
  });
  if (sizes.length > 0) ends.push(sizes.length);
  return ends;
}

type Trace = 'intact' | 'perturbed';
const TRACES: readonly Trace[] = ['intact', 'perturbed'];

/** One question for the model: tokens continuing a prefix of one of the traces, and its answer confidence once asked. */
interface Question {
  tokens: number[];
  trace: Trace;
  /** Length of the prefix of its trace the tokens continue. */
  fork: number;
  /** Index in `tokens` of the row that predicts the first answer token. */
  firstAnswerRow: number;
  confidence: number | null;
}

interface TracePair {
  intact: KvCache;
  perturbed: KvCache;
}

/** The two passes over the whole trace, a progress phase of its own: tokens read of the tokens to read. */
async function tracePair(session: DecoderSession, layout: TtsLayout, progress: Progress): Promise<TracePair> {
  const { intact, perturbed } = layout;
  // The perturbed trace forks from the intact one where they part (a trace with nothing to perturb is one trace).
  const identical = intact.length === perturbed.length && intact.every((token, i) => token === perturbed[i]);
  const shared = sharedPrefix(intact, perturbed);
  const toRead = intact.length + (identical ? 0 : perturbed.length - shared);
  const reading = (before: number): Progress => ({
    signal: progress.signal,
    report: (update) => progress.report?.({ message: `True Thinking Score: reading the trace, ${before + update.done} of ${toRead} tokens`, done: before + update.done, total: toRead }),
  });
  const intactCache = (await session.forward({ ids: intact, logits: 'none', progress: reading(0) })).cache;
  const perturbedCache = identical
    ? intactCache
    : (await session.forward({ ids: perturbed.slice(shared), cache: intactCache.prefix(shared), logits: 'none', progress: reading(intact.length) })).cache;
  return { intact: intactCache, perturbed: perturbedCache };
}

/** The four questions of step i, each continuing its whole text from where its tokens part from it. */
function stepQuestions(layout: TtsLayout, i: number): { s11: Question; s01: Question; s10: Question | null; s00: Question | null } | null {
  const step = layout.questions[i];
  if (!step) return null;
  const tail = layout.answer.slice(0, -1);
  const question = (q: LayoutQuestion): Question => ({ tokens: [...q.tail, ...tail], trace: q.trace, fork: q.fork, firstAnswerRow: q.tail.length - 1, confidence: null });
  return { s11: question(step.s11), s01: question(step.s01), s10: step.s10 && question(step.s10), s00: step.s00 && question(step.s00) };
}

/**
 * New tokens per packed forward: as many as the memory budget allows over a trace's cache (the forward's
 * attention scores and branch mask grow with it), but never fewer than the largest step's questions.
 */
function packBudget(session: DecoderSession, cacheLength: number, stepSizes: readonly (readonly number[])[]): number {
  const largest = Math.max(1, ...stepSizes.map((sizes) => sizes.reduce((n, size) => n + size, 0)));
  let rows = session.rowsWithinBudget(cacheLength + largest);
  // The pack's own tokens are keys too: shrink until the pack fits beside the cache.
  while (rows > largest && rows > session.rowsWithinBudget(cacheLength + rows)) rows = session.rowsWithinBudget(cacheLength + rows);
  return Math.max(largest, rows);
}

/** A pack's questions, in one forward per trace over its cache cut to the longest prefix they read. */
async function answerPacked(session: DecoderSession, layout: TtsLayout, pair: TracePair, questions: Question[]): Promise<void> {
  for (const trace of TRACES) {
    const group = questions.filter((q) => q.trace === trace);
    if (group.length === 0) continue;
    const cache = pair[trace].prefix(Math.max(...group.map((q) => q.fork)));
    const branch = (q: Question): Branch => ({ length: q.tokens.length, position: q.fork, context: q.fork > 0 ? [{ start: 0, end: q.fork, position: 0 }] : [] });
    const rows: number[] = [];
    let offset = 0;
    for (const q of group) {
      for (let t = 0; t < layout.answer.length; t++) rows.push(offset + q.firstAnswerRow + t);
      offset += q.tokens.length;
    }
    const logits = await session.forwardBranches({ ids: group.flatMap((q) => q.tokens), cache, branches: group.map(branch), logits: rows });
    group.forEach((q, n) => (q.confidence = confidenceOfRows(logits, rows.length, n * layout.answer.length, layout.answer)));
  }
}

/** S from the logits rows first..first+|answer|−1 (of `rowCount`), which predict the answer's tokens. */
function confidenceOfRows(logits: Float32Array, rowCount: number, first: number, answer: readonly number[]): number {
  const vocab = logits.length / rowCount;
  return confidenceFromLogProbs(answer.map((token, k) => tokenLogProb(logits.subarray((first + k) * vocab, (first + k + 1) * vocab), token)));
}

/** How many leading tokens two traces share; at least one token of each is left to compute. */
function sharedPrefix(a: readonly number[], b: readonly number[]): number {
  const limit = Math.min(a.length, b.length) - 1;
  let k = 0;
  while (k < limit && a[k] === b[k]) k++;
  return Math.max(0, k);
}

/**
 * S_x(c) of one variant, recomputed from scratch in a single forward (no cache), optionally steered.
 * The reference the forked computation must match, and how a steered prompt is re-scored.
 */
/** S of a variant; `read` (tokens of the trace already read, unsteered) spares the forward over the tokens it shares. */
export async function variantConfidence(session: DecoderSession, tokenizer: Pick<TextTokenizer, 'encode'>, layout: TtsLayout, variant: Variant, steering?: Steering, read?: ReadTokens): Promise<number> {
  return answerConfidence(session, layout, variantPrefix(tokenizer, layout, variant), steering, read);
}

export interface StepSteering {
  /** The vector added at `blocks.{layer}.hook_resid_pre` on every token of the step (a TrueThinking direction's layer vector, or its random control). */
  vector: Float32Array;
  layer: number;
  /** Positive steers along the vector, negative against it. */
  scale: number;
}

/** S_x(c) with the vector added on the step's tokens at one layer during the prompt pass. */
export async function steeredConfidence(session: DecoderSession, tokenizer: Pick<TextTokenizer, 'encode' | 'encodeWithOffsets'>, layout: TtsLayout, variant: Variant, steer: StepSteering): Promise<number> {
  const { start, end } = stepPositions(tokenizer, layout, variant);
  const positions = Array.from({ length: end - start }, (_, k) => start + k);
  const steering = session.compileSteering([stepSpanIntervention(steer.vector, steer.layer, steer.scale, positions)]);
  return variantConfidence(session, tokenizer, layout, variant, steering);
}

/**
 * Teacher-forced confidence in the answer after `prefix` (which ends with the cue). The last answer
 * token is never an input: only the rows predicting answer tokens are computed.
 */
async function answerConfidence(session: DecoderSession, layout: TtsLayout, prefix: readonly number[], steering?: Steering, read?: ReadTokens): Promise<number> {
  const { answer } = layout;
  if (prefix.length === 0) throw new Error('nothing precedes the answer: the prompt, the steps and the cue are all empty');
  // The row that predicts the first answer token is run, so the prefix's last token is.
  const run = continuing([...prefix, ...answer.slice(0, -1)], read, prefix.length - 1);
  // Rows of the run: the prefix's last token predicts the first answer token.
  const firstRow = prefix.length - 1 - (prefix.length + answer.length - 1 - run.ids.length);
  const rows = answer.map((_, k) => firstRow + k);
  const { logits } = await session.forward({ ids: run.ids, cache: run.cache, logits: rows, steering });
  return confidenceOfRows(logits, rows.length, 0, answer);
}
