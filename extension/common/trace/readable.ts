// A JSON trace as a reader wants it: the analysed conversation's question, its thinking decoded (no
// escapes), one step per line — a blank line where the thinking had a paragraph break — and its
// answer, as a Markdown trace with <think> tags. Its annotations are the JSON's, moved onto the
// decoded text; `sourceStep` maps a place in it back to the step in the JSON.

import type { StepAnnotation, TraceFile } from '../bundle/trace-file';
import { textOf } from './parse';
import { answerOf, questionOf, thinkingOf } from './query';
import type { ParsedTrace, TextRange } from './types';

export interface ReadableTrace {
  /** The readable document's annotated trace: same steps (same indices), ranges in the readable text. */
  file: TraceFile;
}

/** The conversation whose thinking holds the first step. */
function conversationOf(trace: ParsedTrace, first: StepAnnotation | undefined): number {
  if (!first) return 0;
  const found = trace.conversations.findIndex((_, c) => {
    const range = thinkingOf(trace, c);
    return range !== null && range.start <= first.start && first.end <= range.end;
  });
  return Math.max(0, found);
}

/** Decoded text of a source range of a JSON string. */
function decoded(trace: ParsedTrace, range: TextRange): string {
  return textOf(trace, range).text;
}

export function readableTrace(trace: ParsedTrace, file: TraceFile): ReadableTrace {
  const conversation = conversationOf(trace, file.steps[0]);
  const question = questionOf(trace, conversation);
  const answer = answerOf(trace, conversation);
  let text = question ? `**Question:** ${question.trim()}\n\n` : '';
  text += '<think>\n';
  const steps: StepAnnotation[] = [];
  file.steps.forEach((step, i) => {
    if (i > 0) {
      const gap = decoded(trace, { start: file.steps[i - 1].end, end: step.start });
      text += /\n\s*\n/.test(gap) ? '\n\n' : '\n';
    }
    const stepText = decoded(trace, { start: step.start, end: step.end });
    steps.push({ ...step, start: text.length, end: text.length + stepText.length, text: stepText });
    text += stepText;
  });
  const thinkingEnd = text.length;
  text += '\n</think>\n';
  if (answer) text += `\n**Answer:** ${answer.trim()}\n`;
  const thinkingStart = text.indexOf('<think>\n') + '<think>\n'.length;
  // A turn's projection belongs to the thinking shown here when its range held the steps.
  const turns = file.turns
    .filter((turn) => file.steps.some((s) => turn.start <= s.start && s.end <= turn.end))
    .map((turn) => ({ ...turn, start: thinkingStart, end: thinkingEnd }));
  return {
    file: {
      ...file,
      source: { name: `${file.source.name} (readable)`, format: 'markdown', text },
      steps,
      turns,
      comparison: null,
    },
  };
}

/** The step of the JSON a place of the readable text belongs to (the step holding it, or the nearest before). */
export function sourceStep(readable: TraceFile, offset: number): number | undefined {
  let found: number | undefined;
  for (const step of readable.steps) if (step.start <= offset) found = step.index;
  return found;
}
