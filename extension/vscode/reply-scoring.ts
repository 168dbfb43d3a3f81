// The replies of a steered generation scored as Analyze Trace scores a trace: each reply's chat goes
// through the engine's analyzeTrace with the analyses chosen for it (replyScoringChoice).

import { alignedReplies } from '../common/analysis/compare';
import type * as vscode from 'vscode';
import { hasOwnAnswer, NO_BOXED_ANSWER, REPLY_TRACE_NAME, replyScoringChoice, replyTraceText, scoredReply, type ReplyScoringChoice, type WorkspaceDirections } from '../common/analysis/reply-scores';
import type { Comparison, ReplyRecord, TraceFile } from '../common/bundle/trace-file';
import { ProgressWords } from '../common/progress-text';
import type { EngineNotifications } from '../common/protocol';
import type { EngineClient } from './contracts';
import { analyzeParams } from './settings';
import { rememberedAnalyses } from './analyze-command';

/** What scores the replies generated from `trace` (null: none): its analyses, else Analyze Trace's last choice, with the workspace's directions. */
export function replyScoring(state: vscode.Memento, directions: WorkspaceDirections): (trace: { name: string; file: TraceFile } | null) => ReplyScoringChoice {
  return (trace) => replyScoringChoice(trace, rememberedAnalyses(state), directions);
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

/** A steered reply generated without a baseline, scored on its own. */
export async function scoreLoneReply(engine: EngineClient, prompt: string, reply: string, choice: ReplyScoringChoice, progress: ScoringProgress): Promise<ReplyRecord> {
  return scoreReply(engine, prompt, reply, choice, (words) => progress.report('steered', words), progress.signal);
}

/** Both replies of a comparison scored, one after the other, and aligned again on the scored steps. */
export async function scoreReplies(engine: EngineClient, comparison: Comparison, choice: ReplyScoringChoice, progress: ScoringProgress): Promise<Comparison> {
  const baseline = await scoreReply(engine, comparison.prompt, comparison.baseline.text, choice, (words) => progress.report('baseline', words), progress.signal);
  const steered = await scoreReply(engine, comparison.prompt, comparison.steered.text, choice, (words) => progress.report('steered', words), progress.signal);
  return alignedReplies(comparison.prompt, baseline, steered);
}
