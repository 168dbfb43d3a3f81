// OpenAI-style chat traces: {"messages": [...]}, a bare array of messages, an array of
// {"messages": [...]} objects, or JSONL with one conversation per line. A message's thinking is
// its `reasoning_content` (DeepSeek) or `reasoning` string, or else a <think>…</think> block at
// the start of an assistant's content. Every range points into the raw content of a JSON string.

import { TraceParseError } from './errors';
import { parseJsonIn, member, type JsonNode } from './json-source';
import { jsonStringText, sourceRangeOf } from './mapped-text';
import { splitThinkTags, trimSpan, type Span } from './think-tags';
import type { Conversation, ParsedTrace, Role, TextRange, Turn } from './types';

const ROLES: Record<string, Role | null> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant', tool: null, function: null };
const SHAPE = 'expected {"messages": [{"role": …, "content": …}, …]} or an array of such messages';

export function parseChatJson(text: string): ParsedTrace {
  const root = parseJsonIn(text);
  const lineOf = lineLookup(text);
  let conversations: Conversation[];
  if (root.kind === 'array' && root.items.length > 0 && root.items.every((item) => member(item, 'messages'))) {
    conversations = root.items.map((item) => conversationOf(text, item, lineOf(item.start)));
  } else {
    conversations = [conversationOf(text, root, lineOf(root.start))];
  }
  return { format: 'chat-json', text, conversations };
}

export function parseChatJsonLines(text: string): ParsedTrace {
  const conversations: Conversation[] = [];
  let line = 1;
  for (let start = 0; start <= text.length; line++) {
    const newline = text.indexOf('\n', start);
    const next = newline === -1 ? text.length + 1 : newline + 1;
    let end = newline === -1 ? text.length : newline;
    if (end > start && text[end - 1] === '\r') end--;
    if (text.slice(start, end).trim() !== '') conversations.push(conversationOf(text, parseJsonIn(text, start, end), line));
    start = next;
  }
  if (conversations.length === 0) throw TraceParseError.at(text, 0, 'the JSONL file has no conversation: expected one {"messages": [...]} object per line');
  return { format: 'jsonl', text, conversations };
}

function conversationOf(text: string, node: JsonNode, line: number): Conversation {
  const messages = node.kind === 'array' ? node : member(node, 'messages');
  if (!messages) throw TraceParseError.at(text, node.start, `not a chat conversation: ${SHAPE}`);
  if (messages.kind !== 'array') throw TraceParseError.at(text, messages.start, `"messages" must be an array: ${SHAPE}`);
  if (messages.items.length === 0) throw TraceParseError.at(text, messages.start, `the conversation has no messages: ${SHAPE}`);
  const turns = messages.items.map((message) => turnOf(text, message)).filter((turn): turn is Turn => turn !== null);
  return { turns, line };
}

function turnOf(text: string, message: JsonNode): Turn | null {
  const fail = (at: JsonNode, problem: string) => TraceParseError.at(text, at.start, problem);
  if (message.kind !== 'object') throw fail(message, 'a message must be an object with "role" and "content"');
  const roleNode = member(message, 'role');
  if (!roleNode) throw fail(message, 'the message has no "role": expected "system", "user" or "assistant"');
  if (roleNode.kind !== 'string' || !(roleNode.value in ROLES)) {
    throw fail(roleNode, `unknown role ${roleNode.kind === 'string' ? JSON.stringify(roleNode.value) : `of type ${roleNode.kind}`}: expected "system", "user" or "assistant"`);
  }
  const role = ROLES[roleNode.value];
  if (role === null) return null; // tool results are not part of the reasoning

  const parts = contentParts(text, message);
  const turn: Turn = { role, content: parts[0] };
  if (parts.length > 1) turn.contentParts = parts;
  const reasoning = explicitReasoning(text, message);
  if (reasoning) turn.reasoning = reasoning;
  else if (role === 'assistant' && parts.length === 1) {
    const inline = splitInlineThinking(text, parts[0]);
    if (inline) Object.assign(turn, inline);
  }
  return turn;
}

/** The text ranges of a message's content: one for a string or null, one per text part of an array. */
function contentParts(text: string, message: JsonNode & { kind: 'object' }): TextRange[] {
  const content = member(message, 'content');
  if (!content) return [{ start: message.end - 1, end: message.end - 1 }];
  if (content.kind === 'null') return [{ start: content.start, end: content.start }];
  if (content.kind === 'string') return [trimmed(text, content.content)];
  if (content.kind !== 'array') throw TraceParseError.at(text, content.start, `"content" must be a string, an array of {"type": "text", "text": …} parts, or null; found ${content.kind}`);
  const ranges: TextRange[] = [];
  for (const part of content.items) {
    const type = member(part, 'type');
    if (part.kind !== 'object' || type?.kind !== 'string') throw TraceParseError.at(text, part.start, 'a content part must be an object with a "type", such as {"type": "text", "text": "…"}');
    if (type.value !== 'text') continue; // images and other media carry no reasoning text
    const value = member(part, 'text');
    if (value?.kind !== 'string') throw TraceParseError.at(text, value?.start ?? part.start, 'a "text" content part needs a "text" string');
    ranges.push(trimmed(text, value.content));
  }
  return ranges.length > 0 ? ranges : [{ start: content.start, end: content.start }];
}

function explicitReasoning(text: string, message: JsonNode): TextRange | null {
  for (const key of ['reasoning_content', 'reasoning']) {
    const value = member(message, key);
    if (!value || value.kind === 'null') continue;
    if (value.kind !== 'string') throw TraceParseError.at(text, value.start, `"${key}" must be a string (the model's thinking); found ${value.kind}`);
    return trimmed(text, value.content);
  }
  return null;
}

function splitInlineThinking(text: string, content: TextRange): { reasoning: TextRange; content: TextRange } | null {
  const mapped = jsonStringText(text, content);
  const split = splitThinkTags(mapped.text);
  if (!split) return null;
  const toSource = ([start, end]: Span) => sourceRangeOf(mapped, start, end);
  return { reasoning: toSource(trimSpan(mapped.text, split.reasoning)), content: toSource(trimSpan(mapped.text, split.after)) };
}

function trimmed(text: string, raw: TextRange): TextRange {
  const mapped = jsonStringText(text, raw);
  const [start, end] = trimSpan(mapped.text, [0, mapped.text.length]);
  return sourceRangeOf(mapped, start, end);
}

/** offset → 1-based line, in O(log n) after one pass over the text. */
function lineLookup(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}
