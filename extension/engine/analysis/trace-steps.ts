// From a parsed trace to what the model reads: the conversation before the reply, the thinking cut
// into steps, and the prompt text before the thinking. The text is always tokenized as one string;
// `tokenSpans` maps a step's characters onto the tokens of that string (`encodeWithOffsets`).

import { plainText, type MappedText } from '../../common/trace/mapped-text';
import { textOf } from '../../common/trace/parse';
import { answerOf, promptMessagesOf, questionOf } from '../../common/trace/query';
import { segmentMapped, type SegmentOptions } from '../../common/trace/segment';
import type { ParsedTrace, SegmentationPolicy, Step, TextRange } from '../../common/trace/types';
import type { ChatMessage, TextTokenizer } from '../checkpoint/tokenizer';

export interface ThinkingStep extends Step {
  /** Where the step sits in the decoded thinking text (`range` is in the source). */
  at: TextRange;
}

export interface TraceThinking {
  conversation: number;
  /** The user's question (decoded), null when the trace has none. */
  question: string | null;
  /** Everything the model read before the reply: system prompt, earlier turns, the question. */
  messages: ChatMessage[];
  /** The visible reply after the thinking (decoded), null when there is none. */
  reply: string | null;
  /** The decoded thinking, with the way back to the source. */
  thinking: MappedText;
  steps: ThinkingStep[];
}

/** The thinking of a conversation's last assistant turn, segmented with `policy`. */
export function segmentThinking(trace: ParsedTrace, policy: SegmentationPolicy, options: SegmentOptions & { conversation?: number } = {}): TraceThinking {
  const conversation = options.conversation ?? 0;
  const thinking = thinkingText(trace, conversation);
  // Segmenting an identity-mapped copy yields decoded offsets; the real map turns them into source ranges.
  const decoded = segmentMapped(plainText(thinking.text, { start: 0, end: thinking.text.length }), policy, options);
  const steps = decoded.map((step) => ({ index: step.index, text: step.text, at: step.range, range: { start: thinking.toSource(step.range.start), end: thinking.toSource(step.range.end) } }));
  return { conversation, question: questionOf(trace, conversation), messages: promptMessagesOf(trace, conversation), reply: answerOf(trace, conversation), thinking, steps };
}

/**
 * The thinking with steps given by their source ranges (as a trace file stores them). The
 * conversation is the one whose thinking holds the first step. Throws when a range is not a
 * step boundary of the thinking.
 */
export function thinkingWithSteps(trace: ParsedTrace, ranges: readonly TextRange[]): TraceThinking {
  if (ranges.length === 0) throw new Error('no steps: the analysis has no steps to read');
  const conversation = trace.conversations.findIndex((_, c) => {
    const range = reasoningRange(trace, c);
    return range !== null && range.start <= ranges[0].start && ranges[0].end <= range.end;
  });
  if (conversation < 0) throw new Error(`step 0 (characters ${ranges[0].start}..${ranges[0].end}) is not inside the thinking of any conversation of the trace`);
  const thinking = thinkingText(trace, conversation);
  const steps = ranges.map((range, index) => {
    const at = { start: decodedOffset(thinking, range.start), end: decodedOffset(thinking, range.end) };
    if (at.start === null || at.end === null || at.start >= at.end) {
      throw new Error(`step ${index} (characters ${range.start}..${range.end}) does not match the thinking text of the trace: was the trace edited after it was analyzed?`);
    }
    return { index, range, at: at as TextRange, text: thinking.text.slice(at.start, at.end) };
  });
  return { conversation, question: questionOf(trace, conversation), messages: promptMessagesOf(trace, conversation), reply: answerOf(trace, conversation), thinking, steps };
}

/**
 * The text the model reads before its thinking: the conversation through the checkpoint's chat
 * template with the generation prompt, then "<think>\n" when the template does not open the thinking
 * itself and the tokenizer has that token. Without a chat template (a base model): the beginning-of-
 * sequence token when the tokenizer adds one, and the messages' texts, each followed by a blank line
 * as a plain prompt joins them, the last by a newline.
 */
export function thinkingPrompt(
  tokenizer: Pick<TextTokenizer, 'hasChatTemplate' | 'applyChatTemplate' | 'thinkStartId' | 'bosText'>,
  messages: readonly ChatMessage[],
): string {
  const prompt = tokenizer.hasChatTemplate
    ? tokenizer.applyChatTemplate(messages.length ? messages : [{ role: 'user', content: '' }], { addGenerationPrompt: true })
    : tokenizer.bosText + messages.map((m) => m.content).filter((text) => text !== '').map((text, i, all) => text + (i === all.length - 1 ? '\n' : '\n\n')).join('');
  const opensThinking = /<think(?:ing)?>\s*$/.test(prompt);
  return tokenizer.thinkStartId !== null && !opensThinking ? `${prompt}<think>\n` : prompt;
}

/**
 * Token span [start, end) of each character range, given each token's character span (from
 * `encodeWithOffsets`). A token belongs to every range it overlaps; a range that falls between
 * tokens gets an empty span there.
 */
export function tokenSpans(offsets: readonly (readonly [number, number])[], ranges: readonly TextRange[]): TextRange[] {
  // Token starts and ends never decrease, so both ends of a span are binary searches.
  const firstWhere = (test: (token: readonly [number, number]) => boolean) => {
    let lo = 0;
    let hi = offsets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (test(offsets[mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  return ranges.map((range) => {
    const start = firstWhere(([, end]) => end > range.start);
    const end = firstWhere(([begin]) => begin >= range.end);
    return { start, end: Math.max(start, end) };
  });
}

function thinkingText(trace: ParsedTrace, conversation: number): MappedText {
  const range = reasoningRange(trace, conversation);
  if (!range) throw new Error(`conversation ${conversation} has no thinking: expected a <think>…</think> block, a "reasoning_content" field or a Thinking: section`);
  return textOf(trace, range);
}

function reasoningRange(trace: ParsedTrace, conversation: number): TextRange | null {
  const turns = trace.conversations[conversation]?.turns ?? [];
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i].role === 'assistant') return turns[i].reasoning ?? null;
  return null;
}

/** The decoded offset whose source offset is `source`, or null when no decoded offset maps there. */
function decodedOffset(mapped: MappedText, source: number): number | null {
  let lo = 0;
  let hi = mapped.text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (mapped.toSource(mid) < source) lo = mid + 1;
    else hi = mid;
  }
  return mapped.toSource(lo) === source ? lo : null;
}
