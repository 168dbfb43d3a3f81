// A generated reply scored as Analyze Trace scores a trace: the prompt and the reply make the chat the
// model answered, the engine's analyzeTrace scores that chat (TTS, SEAL, persona: one place per
// method), and the scores are placed back on the reply's own text.

import type { ReplyRecord, TraceFile } from '../bundle/trace-file';
import { excerpt } from '../export/format';
import { boxedAnswer } from '../trace/query';
import { splitThinkTags } from '../trace/think-tags';

/** The name a reply's chat is analysed under: its extension says the format (a chat JSON). */
export const REPLY_TRACE_NAME = 'reply.json';

/** What a reply without an answer to measure says instead of a TTS. */
export const NO_BOXED_ANSWER = 'no \\boxed{} answer, TTS not scored';

/**
 * The conversation the model answered, as a chat trace: the prompt, then the reply. A reply without a
 * thinking tag began inside the thinking the chat template opened (or has no thinking at all), so the
 * tag is written for it: its whole text is then its thinking, as the comparison's steps take it.
 */
export function replyTraceText(prompt: string, reply: string): string {
  const content = splitThinkTags(reply) ? reply : `<think>\n${reply}`;
  return `${JSON.stringify([{ role: 'user', content: prompt }, { role: 'assistant', content }], null, 2)}\n`;
}

/** Whether a reply has an answer of its own whose probability its steps' TTS can measure. */
export function hasOwnAnswer(reply: string): boolean {
  return boxedAnswer(reply) !== null;
}

/** The analyses a trace was made with: a reply scored "as that trace" runs the same ones. */
export interface TraceAnalyses {
  tts: boolean;
  seal: boolean;
  /** Whether its steps carry the SEAL latent score, and the direction's name when the trace lists it. */
  sealLatent: boolean;
  sealDirection: string | null;
  persona: boolean;
  /** The Assistant Axis of its persona drift. */
  axis: string | null;
}

export function analysesOf(file: TraceFile): TraceAnalyses {
  const sealDirection = directionNamed(file, 'seal');
  const axis = directionNamed(file, 'assistant-axis');
  return {
    tts: Boolean(file.answerCheck) || file.steps.some((step) => step.s11 !== null),
    seal: sealDirection !== null || file.steps.some((step) => step.sealClass !== null),
    sealLatent: sealDirection !== null || file.steps.some((step) => step.latentScore !== null),
    sealDirection,
    persona: axis !== null || file.turns.length > 0,
    axis,
  };
}

function directionNamed(file: TraceFile, method: string): string | null {
  return file.directions.find((d) => d.method === method)?.name ?? null;
}

/**
 * A reply's steps and scores from the analysis of its chat (replyTraceText), with ranges in the reply's
 * own text. `tts`: whether TTS was asked for; `notScored`: what was chosen but not scored, and why.
 */
export function scoredReply(reply: string, file: TraceFile, options: { tts: boolean; notScored: readonly string[] }): ReplyRecord {
  // The steps cut the reply's thinking in order, with only separators between them: each one's text is
  // found right after the one before it (JSON escapes make the chat's offsets differ from the reply's).
  let cursor = 0;
  const steps = file.steps.map((step) => {
    const start = reply.indexOf(step.text, cursor);
    if (step.text === '' || start < 0) throw new Error(`step ${step.index} of the analysed reply ("${excerpt(step.text, 60)}") is not in the reply's text`);
    cursor = start + step.text.length;
    return { ...step, start, end: cursor };
  });
  const turn = file.turns.at(-1) ?? null;
  return {
    text: reply,
    steps,
    scoring: {
      ttsAnswer: options.tts ? file.settings.answer : null,
      answerCheck: options.tts ? (file.answerCheck ?? null) : null,
      sealDirection: directionNamed(file, 'seal'),
      sealLayer: file.settings.sealLayer,
      axis: turn ? directionNamed(file, 'assistant-axis') : null,
      personaLayer: turn ? file.settings.personaLayer : null,
      personaProjection: turn?.projection ?? null,
      personaFloor: turn ? file.personaFloor : null,
      notScored: [...options.notScored],
    },
  };
}

/** The workspace's saved directions as the analyses read them (AnalysisDirections in the extension). */
export interface WorkspaceDirections {
  /** Saved directions of the kind made on the loaded model's weights. */
  usable(kind: 'seal' | 'assistant-axis'): { name: string; path: string }[];
  /** The workspace's remembered choice (path null: SEAL keyword classes only); undefined when none. */
  remembered(kind: 'seal' | 'assistant-axis'): { path: string | null } | undefined;
}

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
function directionPath(directions: WorkspaceDirections, kind: 'seal' | 'assistant-axis', name: string | null): string | undefined {
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
export function replyScoringChoice(trace: { name: string; file: TraceFile } | null, remembered: { tts: boolean; seal: boolean; persona: boolean }, directions: WorkspaceDirections): ReplyScoringChoice {
  // Without a trace, SEAL is offered its latent score as Analyze Trace does: when the workspace has a direction.
  const chosen = trace ? analysesOf(trace.file) : { ...remembered, sealLatent: remembered.seal, sealDirection: null, axis: null };
  const notScored: string[] = [];
  // A trace scored with keyword classes only gives its replies keyword classes only.
  const sealDirection = chosen.sealLatent ? directionPath(directions, 'seal', chosen.sealDirection) : undefined;
  if (trace && chosen.sealLatent && !sealDirection) notScored.push('SEAL latent score not scored: this workspace has no SEAL direction for the loaded model (ThinkScope: Choose Analysis Directions…)');
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
