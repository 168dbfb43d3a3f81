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
  /** The SEAL direction of its latent score; null: keyword classes only. */
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
