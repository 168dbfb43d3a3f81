// Where the thinking sits inside a text: `<think>…</think>` (or `<thinking>…</thinking>`), or Open
// WebUI's `<details type="reasoning"><summary>…</summary>…</details>`. Offsets are into the given
// (decoded) text.

export type Span = [start: number, end: number];

export interface ThinkSplit {
  /** Before the opening tag (empty when only a closing tag was found). */
  before: Span;
  reasoning: Span;
  /** After the closing tag (empty when the thinking was never closed). */
  after: Span;
}

const OPEN = /<think(?:ing)?>/;
const CLOSE = /<\/think(?:ing)?>/g;
const DETAILS_OPEN = /<details\s+type="reasoning"[^>]*>\s*(?:<summary>[^]*?<\/summary>)?/;
const DETAILS_CLOSE = /<\/details>/g;

/**
 * Splits a text at its first opening tag and the first closing tag after it. An unclosed block
 * runs to the end (a truncated trace); a closing tag alone means the text began inside the
 * thinking, as models whose chat template opens the block in the prompt write it. Null when
 * there is no tag.
 */
export function splitThinkTags(text: string): ThinkSplit | null {
  const details = DETAILS_OPEN.exec(text);
  if (details && (OPEN.exec(text)?.index ?? Infinity) > details.index) {
    const reasoningStart = details.index + details[0].length;
    DETAILS_CLOSE.lastIndex = reasoningStart;
    const close = DETAILS_CLOSE.exec(text);
    const before: Span = [0, details.index];
    if (!close) return { before, reasoning: [reasoningStart, text.length], after: [text.length, text.length] };
    return { before, reasoning: [reasoningStart, close.index], after: [close.index + close[0].length, text.length] };
  }
  const open = OPEN.exec(text);
  const reasoningStart = open ? open.index + open[0].length : 0;
  CLOSE.lastIndex = reasoningStart;
  const close = CLOSE.exec(text);
  if (!open && !close) return null;
  const before: Span = open ? [0, open.index] : [0, 0];
  if (!close) return { before, reasoning: [reasoningStart, text.length], after: [text.length, text.length] };
  return { before, reasoning: [reasoningStart, close.index], after: [close.index + close[0].length, text.length] };
}

/** The span without leading and trailing whitespace (an empty span stays where it was). */
export function trimSpan(text: string, [start, end]: Span): Span {
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return [start, end];
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09 || code === 0x0c || code === 0xa0 || code === 0x3000 || (code >= 0x2000 && code <= 0x200a) || code === 0xfeff;
}
