// What the analyses ask of a parsed trace: the thinking, the question and the final answer.

import { textOf } from './parse';
import type { Conversation, ParsedTrace, Role, TextRange, Turn } from './types';

/** The thinking range of the conversation's last assistant turn, or null when it has none. */
export function thinkingOf(trace: ParsedTrace, conversationIndex = 0): TextRange | null {
  return lastAssistant(conversationAt(trace, conversationIndex))?.reasoning ?? null;
}

/** The last user message before the last assistant turn (decoded), or null when there is none. */
export function questionOf(trace: ParsedTrace, conversationIndex = 0): string | null {
  const turns = conversationAt(trace, conversationIndex).turns;
  let end = turns.length;
  while (end > 0 && turns[end - 1].role !== 'assistant') end--;
  if (end === 0) end = turns.length; // no assistant turn: the last user message is the question
  for (let i = end - 1; i >= 0; i--) if (turns[i].role === 'user') return contentText(trace, turns[i]);
  return null;
}

/** A message as a chat template reads it: the role and the decoded visible text. */
export interface PromptMessage {
  role: Role;
  content: string;
}

/**
 * The conversation before its last assistant turn, decoded: the system prompt, earlier turns and the
 * question, as the model read them before the reply (earlier replies without their thinking, which
 * chat templates drop). The whole conversation when it has no assistant turn.
 */
export function promptMessagesOf(trace: ParsedTrace, conversationIndex = 0): PromptMessage[] {
  const turns = conversationAt(trace, conversationIndex).turns;
  let end = turns.length;
  while (end > 0 && turns[end - 1].role !== 'assistant') end--;
  const before = end === 0 ? turns : turns.slice(0, end - 1);
  return before.map((turn) => ({ role: turn.role, content: contentText(trace, turn) }));
}

/** The visible reply of the last assistant turn (decoded, thinking excluded), or null when there is none. */
export function answerOf(trace: ParsedTrace, conversationIndex = 0): string | null {
  const turn = lastAssistant(conversationAt(trace, conversationIndex));
  return turn ? contentText(trace, turn) : null;
}

/** The content of the last `\boxed{…}` (nested braces allowed), or null when none is closed. */
export function boxedAnswer(text: string): string | null {
  let found: string | null = null;
  for (let at = text.indexOf('\\boxed{'); at !== -1; at = text.indexOf('\\boxed{', at + 1)) {
    const start = at + '\\boxed{'.length;
    let depth = 1;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\\') i++; // \{ and \} are literal braces
      else if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        found = text.slice(start, i);
        break;
      }
    }
  }
  return found;
}

function conversationAt(trace: ParsedTrace, index: number): Conversation {
  const conversation = trace.conversations[index];
  if (!conversation) throw new RangeError(`conversation ${index} does not exist: the trace has ${trace.conversations.length} (0..${trace.conversations.length - 1})`);
  return conversation;
}

function lastAssistant(conversation: Conversation): Turn | undefined {
  return [...conversation.turns].reverse().find((turn) => turn.role === 'assistant');
}

function contentText(trace: ParsedTrace, turn: Turn): string {
  return (turn.contentParts ?? [turn.content]).map((range) => textOf(trace, range).text).join('\n');
}
