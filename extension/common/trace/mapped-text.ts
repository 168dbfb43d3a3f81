// A piece of text as the model sees it (decoded), with the way back to the source document.
// Plain text maps one to one but for Windows line breaks ("\r\n" is read as "\n", as the model
// wrote it); a JSON string literal's content is decoded and its escapes ("\n", "\u00e9", …) map
// back to the source characters that wrote them.

import type { TextRange } from './types';

export interface MappedText {
  /** The decoded text. */
  text: string;
  /** Source offset of decoded offset `i`, for 0 ≤ i ≤ text.length (text.length maps to the range's end). */
  toSource(i: number): number;
}

/** The source range of the decoded span [start, end). */
export function sourceRangeOf(mapped: MappedText, start: number, end: number): TextRange {
  return { start: mapped.toSource(start), end: mapped.toSource(end) };
}

export function plainText(source: string, range: TextRange): MappedText {
  checkRange(source, range);
  const text = source.slice(range.start, range.end);
  if (!text.includes('\r\n')) return { text, toSource: (i) => range.start + clampIndex(i, text.length) };
  // A line break read as "\n" stands for both its source characters.
  const sourceOf: number[] = [];
  for (let i = range.start; i < range.end; i++) {
    sourceOf.push(i);
    if (source[i] === '\r' && source[i + 1] === '\n' && i + 1 < range.end) i++;
  }
  sourceOf.push(range.end);
  const lf = text.replace(/\r\n/g, '\n');
  return { text: lf, toSource: (i) => sourceOf[clampIndex(i, lf.length)] };
}

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Decodes the raw content of a JSON string literal (the characters between its quotes, or a part
 * of them that starts and ends on escape boundaries). Throws an Error at a malformed escape;
 * `errorAt` lets the caller turn the offset into a positioned error.
 */
export function jsonStringText(
  source: string,
  range: TextRange,
  errorAt: (offset: number, problem: string) => Error = (offset, problem) => new Error(`${problem} at offset ${offset}`),
): MappedText {
  checkRange(source, range);
  if (!hasBackslash(source, range)) return plainText(source, range);

  const pieces: string[] = [];
  const sourceOf: number[] = [];
  for (let i = range.start; i < range.end; ) {
    const ch = source[i];
    if (ch !== '\\') {
      pieces.push(ch);
      sourceOf.push(i);
      i++;
      continue;
    }
    const kind = source[i + 1];
    if (i + 1 >= range.end) throw errorAt(i, 'a backslash ends the string: escape it as "\\\\"');
    if (kind === 'u') {
      const hex = source.slice(i + 2, i + 6);
      if (i + 6 > range.end || !/^[0-9a-fA-F]{4}$/.test(hex)) throw errorAt(i, `bad unicode escape "\\u${hex}": expected 4 hex digits`);
      pieces.push(String.fromCharCode(parseInt(hex, 16)));
      sourceOf.push(i);
      i += 6;
    } else if (kind in SIMPLE_ESCAPES) {
      pieces.push(SIMPLE_ESCAPES[kind]);
      sourceOf.push(i);
      i += 2;
    } else {
      throw errorAt(i, `bad escape "\\${kind}": expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`);
    }
  }
  sourceOf.push(range.end);
  const text = pieces.join('');
  return { text, toSource: (i) => sourceOf[clampIndex(i, text.length)] };
}

function hasBackslash(source: string, range: TextRange): boolean {
  for (let i = range.start; i < range.end; i++) if (source.charCodeAt(i) === 0x5c) return true;
  return false;
}

function clampIndex(i: number, length: number): number {
  if (!Number.isInteger(i) || i < 0 || i > length) throw new RangeError(`offset ${i} is outside the text (0..${length})`);
  return i;
}

function checkRange(source: string, range: TextRange): void {
  if (!(Number.isInteger(range.start) && Number.isInteger(range.end) && 0 <= range.start && range.start <= range.end && range.end <= source.length)) {
    throw new RangeError(`range ${range.start}..${range.end} is not inside the source (0..${source.length})`);
  }
}
