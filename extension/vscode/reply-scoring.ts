// The replies of a steered generation scored as Analyze Trace scores a trace: each reply's chat goes
// through the engine's analyzeTrace with the analyses chosen for the trace the panel shows (else those
// Analyze Trace last ran), reading the workspace's SEAL direction and Assistant Axis.

import { alignedReplies } from '../common/analysis/compare';
import { analysesOf, hasOwnAnswer, NO_BOXED_ANSWER, REPLY_TRACE_NAME, replyTraceText, scoredReply } from '../common/analysis/reply-scores';
import type { Comparison, ReplyRecord, TraceFile } from '../common/bundle/trace-file';
import { ProgressWords } from '../common/progress-text';
import type { EngineNotifications } from '../common/protocol';
import type { AnalysisDirectionKind, AnalysisDirections } from './analysis-directions';
import type { EngineClient } from './contracts';
import { analyzeParams } from './settings';

export interface ReplyScoringChoice {
  tts: boolean;
  /** SEAL keyword classes are always given: the comparison's classes; a direction adds the latent score. */
  sealDirection?: string;
  persona: boolean;
  axisDirection?: string;
  /** Chosen, but not scored here, and why. */
  notScored: string[];
  /** Whose choice it is, in words: "as train.md was analysed", "as Analyze Trace last ran". */
  source: string;
}

/** A direction of the workspace for an analysis: the one named (by the trace), else the remembered one, else the only one. */
function directionPath(directions: AnalysisDirections, kind: AnalysisDirectionKind, name: string | null): string | undefined {
  const usable = directions.usable(kind);
  const remembered = directions.remembered(kind)?.path;
  const named = usable.filter((d) => d.name === name);
  if (named.length > 0) return (named.find((d) => d.path === remembered) ?? named[0]).path;
  if (remembered !== undefined) return remembered ?? undefined;
  return usable.length === 1 ? usable[0].path : undefined;
}

/**
 * What scores the replies: the analyses of the shown trace, else Analyze Trace's last choice (`remembered`).
 * An analysis whose direction the workspace does not have is not run, and says so.
 */
export function replyScoringChoice(trace: { name: string; file: TraceFile } | null, remembered: { tts: boolean; seal: boolean; persona: boolean }, directions: AnalysisDirections): ReplyScoringChoice {
  const chosen = trace ? analysesOf(trace.file) : { ...remembered, sealDirection: null, axis: null };
  const notScored: string[] = [];
  // A trace scored with keyword classes only gives its replies keyword classes only.
  const wantsLatent = chosen.seal && (trace === null || chosen.sealDirection !== null);
  const sealDirection = wantsLatent ? directionPath(directions, 'seal', chosen.sealDirection) : undefined;
  if (trace && chosen.sealDirection !== null && !sealDirection) notScored.push(`SEAL latent score not scored: this workspace has no SEAL direction for the loaded model (ThinkScope: Choose Analysis Directions…)`);
  const axisDirection = chosen.persona ? directionPath(directions, 'assistant-axis', chosen.axis) : undefined;
  if (chosen.persona && !axisDirection) notScored.push('persona projection not scored: this workspace has no Assistant Axis for the loaded model (ThinkScope: Choose Analysis Directions…)');
  return {
    tts: chosen.tts,
    sealDirection,
    persona: axisDirection !== undefined,
    axisDirection,
    notScored,
    source: trace ? `as ${trace.name} was analysed` : 'as Analyze Trace last ran',
  };
}

export interface ScoringProgress {
  signal: AbortSignal;
  /** Which reply is being scored, and the engine's progress in words. */
  report(reply: 'baseline' | 'steered', words: string): void;
}

/** Scores one reply through analyzeTrace (the Analyze command's request) and places its scores on the reply's text. */
async function scoreReply(engine: EngineClient, prompt: string, reply: string, choice: ReplyScoringChoice, onProgress: (words: string) => void, signal: AbortSignal): Promise<ReplyRecord> {
  const tts = choice.tts && hasOwnAnswer(reply);
  const notScored = choice.tts && !tts ? [NO_BOXED_ANSWER, ...choice.notScored] : choice.notScored;
  const params = {
    ...analyzeParams(replyTraceText(prompt, reply), REPLY_TRACE_NAME, { tts, seal: true, persona: choice.persona, lens: false }),
    ...(choice.sealDirection ? { sealDirection: choice.sealDirection } : {}),
    ...(choice.axisDirection ? { axisDirection: choice.axisDirection } : {}),
  };
  const words = new ProgressWords();
  const file = await engine.request('analyzeTrace', params, {
    signal,
    onNotification: (method, notification) => {
      if (method === 'progress') onProgress(words.words(notification as EngineNotifications['progress']));
    },
  });
  return scoredReply(reply, file, { tts, notScored });
}

/** Both replies of a comparison scored, one after the other, and aligned again on the scored steps. */
export async function scoreReplies(engine: EngineClient, comparison: Comparison, choice: ReplyScoringChoice, progress: ScoringProgress): Promise<Comparison> {
  const baseline = await scoreReply(engine, comparison.prompt, comparison.baseline.text, choice, (words) => progress.report('baseline', words), progress.signal);
  const steered = await scoreReply(engine, comparison.prompt, comparison.steered.text, choice, (words) => progress.report('steered', words), progress.signal);
  return alignedReplies(comparison.prompt, baseline, steered);
}
