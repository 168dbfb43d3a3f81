// Splitting the thinking into steps. Steps are found on the decoded text (what the model reads)
// and mapped back to the source, so a step inside a JSON string decorates exactly its characters.
//  - sentence: split after '.', '?' and '!' (a run such as "?!" ends once), as the TTS paper splits
//    its CoT, and at every blank line; a dot does not end a sentence inside decimals (3.14), after a
//    list number at a line start ("1. "), in "i.e." / "e.g." and similar abbreviations, or in an
//    ellipsis ("Hmm... so" stays one step).
//  - paragraph: split at blank lines, as SEAL splits at "\n\n" tokens. SEAL does not score the
//    text before its first split token (there is no boundary token before it to read); here that
//    text is the first step by default so all of the thinking is decorated, and
//    `leadingParagraph: 'drop'` restores SEAL's rule.
//  - markers: a new step starts where a sentence starts with a discourse marker ("Wait",
//    "Alternatively", …), matched as written and as a whole word; the text before the first
//    marker is the first step.
// Every step excludes surrounding whitespace; whitespace-only pieces are not steps. For plain
// text, `source.slice(step.range.start, step.range.end) === step.text`; inside a JSON string
// `step.text` is the decoded text and the range covers its escaped form.

import { plainText, sourceRangeOf, type MappedText } from './mapped-text';
import { textOf } from './parse';
import { trimSpan } from './think-tags';
import type { ParsedTrace, SegmentationPolicy, Step, TextRange } from './types';

export const DEFAULT_STEP_MARKERS: readonly string[] = [
  'Wait', 'Alternatively', 'So', 'But', 'Hmm', 'Let me', 'Therefore', 'Actually', 'Now', 'First', 'Next', 'Finally',
];

export interface SegmentOptions {
  /** Discourse markers for the `markers` policy (default DEFAULT_STEP_MARKERS). */
  markers?: readonly string[];
  /** `paragraph` policy: whether the text before the first blank line is a step ('step', default) or not ('drop', as SEAL). */
  leadingParagraph?: 'step' | 'drop';
}

/** Steps of `source[range]`, read as plain text. */
export function segmentSteps(source: string, range: TextRange, policy: SegmentationPolicy, options: SegmentOptions = {}): Step[] {
  return segmentMapped(plainText(source, range), policy, options);
}

/** Steps of a trace's range, decoded as the model reads it (JSON escapes resolved). */
export function stepsOf(trace: ParsedTrace, range: TextRange, policy: SegmentationPolicy, options: SegmentOptions = {}): Step[] {
  return segmentMapped(textOf(trace, range), policy, options);
}

/** Steps of a decoded text; every step's range is mapped back to the source through `toSource`. */
export function segmentMapped(mapped: MappedText, policy: SegmentationPolicy, options: SegmentOptions = {}): Step[] {
  const text = mapped.text;
  let pieces: [number, number][];
  if (policy === 'sentence') pieces = between(sentenceCuts(text), text.length);
  else if (policy === 'paragraph') pieces = paragraphPieces(text, options.leadingParagraph ?? 'step');
  else if (policy === 'markers') pieces = between(markerCuts(text, options.markers ?? DEFAULT_STEP_MARKERS), text.length);
  else throw new Error(`unknown segmentation policy ${JSON.stringify(policy)}: expected "sentence", "paragraph" or "markers"`);

  const steps: Step[] = [];
  for (const piece of pieces) {
    const [start, end] = trimSpan(text, piece);
    if (start === end) continue;
    steps.push({ index: steps.length, range: sourceRangeOf(mapped, start, end), text: text.slice(start, end) });
  }
  return steps;
}

function between(cuts: number[], length: number): [number, number][] {
  const bounds = [0, ...cuts, length];
  return bounds.slice(1).map((end, i) => [bounds[i], end]);
}

/** Abbreviations whose dots end no sentence (matched case-insensitively, as a whole word before the dot). */
const ABBREVIATIONS = /(?:^|[^\p{L}])(?:i\.e|e\.g|i|e|vs|cf|approx|etc)$/iu;

function sentenceCuts(text: string): number[] {
  const cuts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') {
      // A blank line always starts a step: cut where the line after it begins.
      const blank = /^\n[ \t]*\r?\n/.exec(text.slice(i, i + 64));
      if (blank) cuts.push(i + 1);
      continue;
    }
    if (ch !== '.' && ch !== '?' && ch !== '!') continue;
    const next = text[i + 1];
    if (next === '.' || next === '?' || next === '!') continue; // the run ends at its last mark
    if (ch === '.') {
      if (text[i - 1] === '.') continue; // an ellipsis
      if (isDigit(text[i - 1]) && isDigit(next)) continue; // 3.14
      if (isListNumber(text, i) && (next === undefined || /\s/.test(next))) continue; // "1. " at a line start
      if (ABBREVIATIONS.test(text.slice(Math.max(0, i - 8), i))) continue; // "i.e.", "e.g."
    }
    cuts.push(i + 1);
  }
  return [...new Set(cuts)].sort((a, b) => a - b);
}

/** Whether the text from the start of the line up to the dot at `dot` is only a number. */
function isListNumber(text: string, dot: number): boolean {
  let i = dot - 1;
  while (i >= 0 && isDigit(text[i])) i--;
  if (i === dot - 1) return false;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t')) i--;
  return i < 0 || text[i] === '\n';
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function paragraphPieces(text: string, leading: 'step' | 'drop'): [number, number][] {
  const breaks = [...text.matchAll(/\n[ \t]*\r?\n/g)];
  const pieces: [number, number][] = [];
  let from = 0;
  for (const match of breaks) {
    pieces.push([from, match.index]);
    from = match.index + match[0].length;
  }
  pieces.push([from, text.length]);
  return leading === 'drop' ? pieces.slice(1) : pieces;
}

function markerCuts(text: string, markers: readonly string[]): number[] {
  const words = markers.map((marker) => {
    if (typeof marker !== 'string' || marker.trim() === '') throw new Error(`step marker ${JSON.stringify(marker)} is empty: expected words such as "Wait" or "Let me"`);
    return marker.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  if (words.length === 0) return [];
  words.sort((a, b) => b.length - a.length);
  const pattern = new RegExp(`(?:${words.join('|')})(?![\\p{L}\\p{N}])`, 'gu');
  return [...text.matchAll(pattern)].map((match) => match.index).filter((at) => at > 0 && isSentenceStart(text, at));
}

/** After a line break, or after . ! ? (and a closing quote or bracket) and whitespace. */
function isSentenceStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && /\s/.test(text[i])) {
    if (text[i] === '\n') return true;
    i--;
  }
  if (i === at - 1) return false;
  if (i < 0) return true;
  if (`"')]`.includes(text[i])) i--;
  return i >= 0 && '.!?'.includes(text[i]);
}
