// What an export shows of a trace: the text a reader reads. A JSON trace's steps sit inside JSON
// strings, escapes and all; its export shows the decoded thinking (from the first step to the last,
// with the text between steps decoded too) and every step's decoded text, offsets into that view.

import type { StepAnnotation, TraceFile } from '../bundle/trace-file';
import { jsonStringText } from '../trace/mapped-text';

export interface ReadableTrace {
  text: string;
  steps: StepAnnotation[];
}

export function readableTrace(file: Pick<TraceFile, 'source' | 'steps'>): ReadableTrace {
  const { text, format } = file.source;
  if ((format !== 'chat-json' && format !== 'jsonl') || file.steps.length === 0) return { text, steps: file.steps };
  let view = '';
  const steps = file.steps.map((step, i) => {
    if (i > 0) view += jsonStringText(text, { start: file.steps[i - 1].end, end: step.start }).text;
    const decoded = jsonStringText(text, { start: step.start, end: step.end }).text;
    const start = view.length;
    view += decoded;
    return { ...step, text: decoded, start, end: view.length };
  });
  return { text: view, steps };
}
