// Prune the decorative thinking: score every step's True Thinking Score (or take the scores of an
// analysis), remove the steps a rule picks, and read the answer on the pruned trace (S and the model's
// greedy answer, forked from the original's cache where the first removed step was). The pruned trace
// is a trace file of its own that records what was removed.

import type { PruneRecord, PruneRule, TraceFile } from '../../common/bundle/trace-file';
import { removeSteps } from '../../common/analysis/counterfactual';
import { stepsToPrune } from '../../common/analysis/prune';
import { parseTrace } from '../../common/trace/parse';
import type { ParsedTrace, SegmentationPolicy } from '../../common/trace/types';
import type { Model } from '../model';
import { throwIfCancelled, type Progress } from '../runtime/progress';
import { CounterfactualBaseline } from './counterfactual';
import { annotateTrace } from './tts/annotate';
import { segmentThinking } from './trace-steps';

export interface PruneOptions extends Progress {
  /** The trace's name (its path); the pruned file records it as the original. */
  name: string;
  fileName?: string;
  toolVersion: string;
  segmentation: SegmentationPolicy;
  conversation?: number;
  cue?: string;
  answer?: string;
  seed?: number;
  rules: readonly PruneRule[];
  /** Each step's TTS from an analysis of this very text; computed when absent or not one per step (the text changed since). */
  scores?: readonly (number | null)[];
}

export interface PrunedTrace {
  /** The pruned source text (same format as the original). */
  text: string;
  record: PruneRecord;
  /** The pruned trace as a trace file: its steps and the pruning record. */
  file: TraceFile;
}

export interface PruneResult {
  /** The original's steps with their scores. */
  steps: { index: number; start: number; end: number; text: string; tts: number | null }[];
  pruned: PrunedTrace[];
}

export async function pruneTrace(model: Model, trace: ParsedTrace, options: PruneOptions): Promise<PruneResult> {
  const settings = { cue: options.cue, answer: options.answer, seed: options.seed };
  const stepCount = segmentThinking(trace, options.segmentation, { conversation: options.conversation }).steps.length;
  const given = options.scores?.length === stepCount ? options.scores : undefined;
  const analysed = await annotateTrace(trace, {
    name: options.name,
    toolVersion: options.toolVersion,
    segmentation: options.segmentation,
    conversation: options.conversation,
    model: given ? undefined : model,
    tts: settings,
    signal: options.signal,
    report: options.report,
  });
  const steps = analysed.steps.map((step, i) => ({ index: step.index, start: step.start, end: step.end, text: step.text, tts: given ? given[i] : step.tts }));
  if (!steps.some((step) => step.tts !== null)) throw new Error(`${options.name}: no step has a True Thinking Score (no step has a number to perturb), so there is nothing to prune by`);
  throwIfCancelled(options.signal);
  const baseline = await CounterfactualBaseline.prepare(model, trace, { segmentation: options.segmentation, conversation: options.conversation, cue: options.cue, answer: options.answer }, options.signal);
  const pruned: PrunedTrace[] = [];
  for (const rule of options.rules) {
    throwIfCancelled(options.signal);
    const remove = stepsToPrune(steps, rule);
    const text = removeSteps(trace.text, steps, remove);
    const prunedTrace = parseTrace(text, { fileName: options.fileName ?? options.name });
    const readout = await baseline.edit(prunedTrace, options.signal);
    const record: PruneRecord = {
      original: options.name,
      rule,
      removed: steps.filter((step) => remove.has(step.index)).map(({ index, text: stepText, tts }) => ({ index, text: stepText, tts })),
      answer: readout.answer,
      tokens: readout.tokens,
      before: readout.before,
      after: readout.after,
    };
    const file = await annotateTrace(prunedTrace, { name: options.name, toolVersion: options.toolVersion, segmentation: options.segmentation, conversation: options.conversation, tts: settings });
    pruned.push({ text, record, file: { ...file, model: model.fingerprint, pruning: record } });
  }
  return { steps, pruned };
}
