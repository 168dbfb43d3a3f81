// The one trace model every input format is parsed into. Offsets are UTF-16 code-unit offsets into
// the source document's text, so the editor can decorate exactly what was parsed.

export type TraceFormat = 'markdown' | 'chat-json' | 'jsonl' | 'text';
export type SegmentationPolicy = 'sentence' | 'paragraph' | 'markers';
export const SEGMENTATION_POLICIES: readonly SegmentationPolicy[] = ['sentence', 'paragraph', 'markers'];

export interface TextRange {
  start: number;
  end: number;
}

export type Role = 'system' | 'user' | 'assistant';

/** One message of a conversation. `content` is the visible text; `reasoning` the thinking, when present. */
export interface Turn {
  role: Role;
  content: TextRange;
  /** Every text part, in order, when the content was an array of several text parts (`content` is the first). */
  contentParts?: TextRange[];
  reasoning?: TextRange;
}

export interface Conversation {
  turns: Turn[];
  /** 1-based line of the source where this conversation starts (JSONL: its line). */
  line: number;
}

export interface ParsedTrace {
  format: TraceFormat;
  text: string;
  conversations: Conversation[];
}

/** A step of the thinking: a range of the source document and its text. */
export interface Step {
  index: number;
  range: TextRange;
  text: string;
}

export type SealClass = 'execution' | 'reflection' | 'transition';
