// Markdown and plain-text traces. The convention, in order:
//  1. `<think>…</think>`: the question is the text before the opening tag, the thinking is inside,
//     the answer is after the closing tag. A closing tag alone means the text starts with the
//     thinking (no question); an unclosed tag means the thinking runs to the end (no answer).
//  2. Labelled sections, a label starting a line ("Question:", "**Answer:**", "## Reasoning"):
//     question ← Question/Problem/Prompt/User, thinking ← Thinking/Reasoning/Thoughts,
//     answer ← Answer/Final answer/Response/Assistant. With a question label and an answer label
//     but no thinking label, the answer section's last paragraph is the answer and the paragraphs
//     before it are the thinking.
//  3. Otherwise paragraphs (blank-line separated): with three or more, the first is the question,
//     the last the answer and those between the thinking; with fewer, the whole text is thinking.
// In every case labels are left out of the ranges, and ranges exclude surrounding whitespace.

import { TraceParseError } from './errors';
import { splitThinkTags, trimSpan, type Span } from './think-tags';
import type { Conversation, ParsedTrace, Turn } from './types';

type Section = 'question' | 'thinking' | 'answer';

const LABEL_WORDS: Record<string, Section> = {
  question: 'question', problem: 'question', prompt: 'question', user: 'question',
  thinking: 'thinking', reasoning: 'thinking', thoughts: 'thinking',
  answer: 'answer', 'final answer': 'answer', response: 'answer', assistant: 'answer',
};
const WORDS = Object.keys(LABEL_WORDS).join('|');
// "Question:", "**Question:**", "**Question**:", or a heading line "## Question".
const LABEL_LINE = new RegExp(`^[ \\t]*(?:(?:\\*\\*)?(${WORDS})(?:\\*\\*)?[ \\t]*:(?:\\*\\*)?|#{1,6}[ \\t]+(${WORDS})[ \\t]*:?[ \\t]*$)`, 'gim');

interface Label {
  section: Section;
  /** Where the label starts and where the section's text starts. */
  start: number;
  contentStart: number;
}

export function parseTextTrace(text: string, format: 'markdown' | 'text'): ParsedTrace {
  const nul = text.indexOf('\0');
  if (nul !== -1) throw TraceParseError.at(text, nul, 'NUL character: this looks like a binary file, not a text trace');
  if (text.trim() === '') throw TraceParseError.at(text, 0, 'the trace is empty: expected a question, a <think>…</think> block and an answer');

  const parts = splitByTags(text) ?? splitByLabels(text) ?? splitByParagraphs(text);
  const turns: Turn[] = [];
  if (parts.question) turns.push({ role: 'user', content: range(parts.question) });
  turns.push({ role: 'assistant', content: range(parts.answer), reasoning: range(parts.thinking) });
  const conversation: Conversation = { turns, line: 1 };
  return { format, text, conversations: [conversation] };
}

interface Parts {
  question: Span | null;
  thinking: Span;
  answer: Span;
}

function splitByTags(text: string): Parts | null {
  const split = splitThinkTags(text);
  if (!split) return null;
  let before = trimSpan(text, split.before);
  const labels = labelsIn(text, before);
  const last = labels[labels.length - 1];
  // "User: … Assistant: <think>": the trailing answer label belongs to what follows.
  if (last?.section === 'answer' && trimSpan(text, [last.contentStart, before[1]])[0] === before[1]) before = trimSpan(text, [before[0], last.start]);
  const question = withoutLabel(text, before);
  return { question: question[0] < question[1] ? question : null, thinking: trimSpan(text, split.reasoning), answer: withoutLabel(text, trimSpan(text, split.after)) };
}

function splitByLabels(text: string): Parts | null {
  const labels = labelsIn(text, [0, text.length]);
  const sectionOf = (section: Section, which: 'first' | 'last'): Span | null => {
    const indices = labels.flatMap((label, i) => (label.section === section ? [i] : []));
    if (indices.length === 0) return null;
    const index = which === 'first' ? indices[0] : indices[indices.length - 1];
    return trimSpan(text, [labels[index].contentStart, labels[index + 1]?.start ?? text.length]);
  };
  const question = sectionOf('question', 'first');
  const answer = sectionOf('answer', 'last');
  const thinking = sectionOf('thinking', 'first');
  if (!question || (!answer && !thinking)) return null;
  const end = text.length;
  if (thinking) return { question, thinking, answer: answer ?? [end, end] };
  const paragraphs = paragraphsIn(text, answer!);
  if (paragraphs.length < 2) return { question, thinking: [answer![0], answer![0]], answer: answer! };
  const last = paragraphs[paragraphs.length - 1];
  return { question, thinking: trimSpan(text, [answer![0], last[0]]), answer: last };
}

function splitByParagraphs(text: string): Parts {
  const paragraphs = paragraphsIn(text, [0, text.length]);
  const end = text.length;
  if (paragraphs.length < 3) return { question: null, thinking: trimSpan(text, [0, end]), answer: [end, end] };
  const last = paragraphs[paragraphs.length - 1];
  const question = withoutLabel(text, paragraphs[0]);
  return { question, thinking: trimSpan(text, [paragraphs[1][0], paragraphs[paragraphs.length - 2][1]]), answer: withoutLabel(text, last) };
}

function labelsIn(text: string, [start, end]: Span): Label[] {
  const labels: Label[] = [];
  const region = text.slice(start, end);
  for (const match of region.matchAll(LABEL_LINE)) {
    const word = (match[1] ?? match[2]).toLowerCase().replace(/\s+/g, ' ');
    labels.push({ section: LABEL_WORDS[word], start: start + match.index, contentStart: start + match.index + match[0].length });
  }
  return labels;
}

/** The span without a label at its start. */
function withoutLabel(text: string, span: Span): Span {
  const first = labelsIn(text, span)[0];
  return first && first.start === span[0] ? trimSpan(text, [first.contentStart, span[1]]) : span;
}

function paragraphsIn(text: string, [start, end]: Span): Span[] {
  const spans: Span[] = [];
  const breaks = /\n[ \t]*\r?\n/g;
  breaks.lastIndex = start;
  let from = start;
  for (let match = breaks.exec(text); match && match.index < end; match = breaks.exec(text)) {
    spans.push(trimSpan(text, [from, match.index]));
    from = match.index + match[0].length;
  }
  spans.push(trimSpan(text, [from, end]));
  return spans.filter(([s, e]) => s < e);
}

function range([start, end]: Span) {
  return { start, end };
}
