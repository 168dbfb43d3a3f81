// Where a SEAL step closes, by characters: at a newline that ends a blank line (the "\n\n" that
// segment.ts's paragraph policy splits at). Defined on text, not on token ids, because tokenizers spell
// the blank line differently: one "ĊĊ" or ".ĊĊ" token (Qwen, Llama 3), a "\n\n" piece (Gemma), or two
// "\n" byte tokens (Llama 2, Mistral's SentencePiece), and the token holding that newline is the boundary.

/** Scanning state between pieces of one text: whether the current line so far follows a newline and holds only spaces, tabs or "\r". */
export interface SeparatorScan {
  blankLine: boolean;
}

export function separatorScan(): SeparatorScan {
  return { blankLine: false };
}

/**
 * Whether `piece` holds a newline that ends a blank line, given the text before it through `scan`
 * (updated to the end of `piece`, so a text can be fed piece by piece).
 */
export function closesStep(piece: string, scan: SeparatorScan): boolean {
  let closes = false;
  for (const ch of piece) {
    if (ch === '\n') {
      if (scan.blankLine) closes = true;
      scan.blankLine = true;
    } else if (ch !== ' ' && ch !== '\t' && ch !== '\r') {
      scan.blankLine = false;
    }
  }
  return closes;
}

/** Per token span [start, end) of `text` (spans in order), whether the token closes a step. */
export function stepClosingSpans(text: string, spans: readonly (readonly [number, number])[]): boolean[] {
  const scan = separatorScan();
  let cursor = 0;
  return spans.map(([start, end]) => {
    // Characters between spans (none for a tokenization of the whole text) still move the scan.
    if (start > cursor) closesStep(text.slice(cursor, start), scan);
    const closes = end > Math.max(start, cursor) && closesStep(text.slice(Math.max(start, cursor), end), scan);
    cursor = Math.max(cursor, end);
    return closes;
  });
}
