// A steered reply beside its baseline: both segmented into steps, each step classified (SEAL), and the
// steps aligned so the panels can show them side by side.

import type { Comparison, ReplyRecord, StepAnnotation } from '../bundle/trace-file';
import { unscoredStep } from '../bundle/trace-write';
import { parseTrace } from '../trace/parse';
import { thinkingOf } from '../trace/query';
import { stepsOf } from '../trace/segment';
import type { SegmentationPolicy } from '../trace/types';
import { isPerturbable } from './perturb';
import { classifyStep, DEFAULT_SEAL_KEYWORDS, type SealKeywords } from './seal';
import { alignSteps } from './align';

/** Steps of a reply's thinking (or of the whole reply when it has no <think> span), classified. */
export function annotateReply(text: string, policy: SegmentationPolicy, keywords: SealKeywords = DEFAULT_SEAL_KEYWORDS): ReplyRecord {
  const trace = parseTrace(text, { fileName: 'reply.md' });
  const range = thinkingOf(trace) ?? { start: 0, end: text.length };
  const steps = stepsOf(trace, range, policy).map((step): StepAnnotation => {
    const seal = classifyStep(step.text, keywords);
    return {
      ...unscoredStep({ index: step.index, start: step.range.start, end: step.range.end, text: step.text, perturbable: isPerturbable(step.text) }),
      sealClass: seal.cls,
      sealKeyword: seal.keyword,
    };
  });
  return { text, steps };
}

export function compareReplies(prompt: string, baseline: string, steered: string, policy: SegmentationPolicy): Comparison {
  return alignedReplies(prompt, annotateReply(baseline, policy), annotateReply(steered, policy));
}

/** Two annotated replies with their steps aligned. */
export function alignedReplies(prompt: string, baseline: ReplyRecord, steered: ReplyRecord): Comparison {
  return {
    prompt,
    baseline,
    steered,
    alignment: alignSteps(
      baseline.steps.map((s) => s.text),
      steered.steps.map((s) => s.text),
    ),
  };
}
