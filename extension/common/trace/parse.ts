// One entry point for every trace format: detect, parse, and read text back as the model sees it.

import { TraceParseError } from './errors';
import { jsonStringText, plainText, type MappedText } from './mapped-text';
import { parseChatJson, parseChatJsonLines, type DatasetFields } from './parse-chat';
import { parseTextTrace } from './parse-text';
import type { ParsedTrace, TextRange, TraceFormat } from './types';

export { TraceParseError } from './errors';

/** Larger inputs are refused: a trace of this size is not something to decorate in an editor. */
export const MAX_TRACE_CHARS = 64 * 1024 * 1024;

export interface TraceHint {
  fileName?: string;
  /** Field names of dataset rows (question, reasoning, answer); detected when not given. */
  fields?: DatasetFields;
}

/**
 * Parses a trace in any supported format. Throws a TraceParseError (with `line` and `column`)
 * when the text does not fit the format it was detected as.
 */
export function parseTrace(text: string, hint: TraceHint = {}): ParsedTrace {
  if (typeof text !== 'string') throw new TypeError(`a trace must be text; got ${text === null ? 'null' : typeof text}`);
  if (text.length > MAX_TRACE_CHARS) {
    throw new TraceParseError(`the trace has ${text.length} characters; at most ${MAX_TRACE_CHARS} are supported`, { line: 1, column: 1 });
  }
  const body = text.charCodeAt(0) === 0xfeff ? ' ' + text.slice(1) : text; // a BOM keeps its offset as whitespace
  const format = detectFormat(body, hint.fileName);
  const trace = format === 'chat-json' ? parseChatJson(body, hint.fields) : format === 'jsonl' ? parseChatJsonLines(body, hint.fields) : parseTextTrace(body, format);
  return { ...trace, text };
}

/**
 * The format from the file name when it says (.md/.markdown, .txt, .json, .jsonl/.ndjson),
 * else from the content: JSON when it starts like a JSON object or array, JSONL when its first
 * line is a whole JSON value and more lines follow, text otherwise.
 */
export function detectFormat(text: string, fileName?: string): TraceFormat {
  const extension = /\.([a-z]+)$/i.exec(fileName ?? '')?.[1]?.toLowerCase();
  if (extension === 'md' || extension === 'markdown') return 'markdown';
  if (extension === 'txt' || extension === 'text') return 'text';
  if (extension === 'jsonl' || extension === 'ndjson') return 'jsonl';
  if (extension === 'json' || /^\s*(?:\{\s*["}]|\[\s*[[{"\]])/.test(text)) return isJsonLines(text) ? 'jsonl' : 'chat-json';
  return 'text';
}

/** Whether the first non-blank line is a whole JSON value and another non-blank line follows; stops there. */
function isJsonLines(text: string): boolean {
  let first: string | undefined;
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    const line = text.slice(start, end);
    if (line.trim() !== '') {
      if (first !== undefined) return isJsonValue(first);
      first = line;
    }
    start = end + 1;
  }
  return false;
}

function isJsonValue(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The text of a range as the model reads it: JSON escapes decoded, with the map back to the source. */
export function textOf(trace: ParsedTrace, range: TextRange): MappedText {
  return trace.format === 'chat-json' || trace.format === 'jsonl' ? jsonStringText(trace.text, range) : plainText(trace.text, range);
}
