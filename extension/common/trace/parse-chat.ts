// Chat traces in JSON: every shape users export them in, parsed into the one trace model. Every range
// points into the raw content of a JSON string.
//  - OpenAI-style messages: {"messages": [...]}, a bare array of messages, an array of such objects.
//  - DeepSeek / OpenAI API responses: {"choices": [{"message": {"content", "reasoning_content"}}]},
//    one conversation per choice.
//  - ShareGPT: {"conversations": [{"from": "human" | "gpt" | "system", "value": …}]}.
//  - ChatGPT's export (conversations.json): {"mapping": {id: {message, parent, children}},
//    "current_node"}: the branch that ends at the current node, in order.
//  - Open WebUI's export: {"chat": {"history": {"messages": {id: …}, "currentId"}}} (or "chat.messages").
//  - Dataset rows: {"question", "reasoning", "answer"}-style fields (names detected, or given).
// A message's thinking is its `reasoning_content` (DeepSeek) or `reasoning` string, else a
// <think>…</think> block (or Open WebUI's <details type="reasoning">) in an assistant's content.
// JSONL holds one of these per line.

import { TraceParseError } from './errors';
import { parseJsonIn, member, type JsonNode } from './json-source';
import { jsonStringText, sourceRangeOf } from './mapped-text';
import { splitThinkTags, trimSpan, type Span } from './think-tags';
import type { Conversation, ParsedTrace, Role, TextRange, Turn } from './types';

const ROLES: Record<string, Role | null> = { system: 'system', developer: 'system', user: 'user', assistant: 'assistant', tool: null, function: null };
/** ShareGPT's "from" values. */
const SHAREGPT_ROLES: Record<string, Role | null> = {
  system: 'system', human: 'user', user: 'user', gpt: 'assistant', assistant: 'assistant', model: 'assistant', chatgpt: 'assistant', bing: 'assistant', bard: 'assistant',
  tool: null, function: null, function_call: null, observation: null,
};
const SHAPE =
  'expected {"messages": [{"role": …, "content": …}]}, an API response {"choices": [{"message": …}]}, ShareGPT {"conversations": [{"from": …, "value": …}]}, ' +
  'a ChatGPT or Open WebUI export, a dataset row {"question": …, "reasoning": …, "answer": …}, or an array of these';

/** Field names of a dataset row (a question, the thinking, the answer). */
export interface DatasetFields {
  question?: string;
  reasoning?: string;
  answer?: string;
}

const DATASET_FIELDS: Required<Record<keyof DatasetFields, readonly string[]>> = {
  question: ['question', 'problem', 'prompt', 'input', 'instruction', 'query'],
  reasoning: ['reasoning', 'reasoning_content', 'thinking', 'thought', 'thoughts', 'cot', 'chain_of_thought', 'rationale', 'deepseek_reasoning'],
  answer: ['answer', 'response', 'solution', 'output', 'final_answer', 'completion', 'deepseek_solution'],
};

export function parseChatJson(text: string, fields: DatasetFields = {}): ParsedTrace {
  const root = parseJsonIn(text);
  const lineOf = lineLookup(text);
  // An array of conversations (not of messages): each item is one.
  const items = root.kind === 'array' && root.items.length > 0 && root.items.every((item) => item.kind === 'object' && !member(item, 'role') && !member(item, 'from')) ? root.items : [root];
  const conversations = items.flatMap((item) => conversationsOf(text, item, lineOf(item.start), fields));
  return { format: 'chat-json', text, conversations };
}

export function parseChatJsonLines(text: string, fields: DatasetFields = {}): ParsedTrace {
  const conversations: Conversation[] = [];
  let line = 1;
  for (let start = 0; start <= text.length; line++) {
    const newline = text.indexOf('\n', start);
    const next = newline === -1 ? text.length + 1 : newline + 1;
    let end = newline === -1 ? text.length : newline;
    if (end > start && text[end - 1] === '\r') end--;
    if (text.slice(start, end).trim() !== '') conversations.push(...conversationsOf(text, parseJsonIn(text, start, end), line, fields));
    start = next;
  }
  if (conversations.length === 0) throw TraceParseError.at(text, 0, 'the JSONL file has no conversation: expected one {"messages": [...]} object per line');
  return { format: 'jsonl', text, conversations };
}

/** The conversations one JSON value holds (an API response holds one per choice). */
function conversationsOf(text: string, node: JsonNode, line: number, fields: DatasetFields): Conversation[] {
  if (node.kind === 'object') {
    const choices = member(node, 'choices');
    if (choices?.kind === 'array') return apiResponse(text, choices, line);
    if (!member(node, 'messages')) {
      const conversations = member(node, 'conversations');
      if (conversations?.kind === 'array') return [{ turns: shareGpt(text, conversations), line }];
      const mapping = member(node, 'mapping');
      if (mapping?.kind === 'object') return [{ turns: chatGptExport(text, node, mapping), line }];
      const chat = member(node, 'chat');
      if (chat?.kind === 'object') return [{ turns: openWebUiExport(text, chat), line }];
      const row = datasetRow(text, node, fields);
      if (row) return [{ turns: row, line }];
    }
  }
  return [conversationOf(text, node, line)];
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

  return turnFrom(text, role, contentParts(text, message), explicitReasoning(text, message));
}

/** A turn from its role, its content's text ranges and its thinking (else found inline in an assistant's content). */
function turnFrom(text: string, role: Role, parts: TextRange[], reasoning: TextRange | null): Turn {
  const turn: Turn = { role, content: parts[0] };
  if (parts.length > 1) turn.contentParts = parts;
  if (reasoning) turn.reasoning = reasoning;
  else if (role === 'assistant' && parts.length === 1) {
    const inline = splitInlineThinking(text, parts[0]);
    if (inline) Object.assign(turn, inline);
  }
  return turn;
}

/** An API response: each choice's message (or streamed delta) is a conversation of one assistant turn. */
function apiResponse(text: string, choices: JsonNode & { kind: 'array' }, line: number): Conversation[] {
  if (choices.items.length === 0) throw TraceParseError.at(text, choices.start, `the response has no choices: ${SHAPE}`);
  return choices.items.map((choice) => {
    const message = member(choice, 'message') ?? member(choice, 'delta');
    if (!message || message.kind !== 'object') throw TraceParseError.at(text, choice.start, 'a choice needs a "message" object with "content" (and "reasoning_content" for the thinking)');
    return { turns: [turnFrom(text, 'assistant', contentParts(text, message), explicitReasoning(text, message))], line };
  });
}

/** ShareGPT's {"from", "value"} turns. */
function shareGpt(text: string, conversations: JsonNode & { kind: 'array' }): Turn[] {
  if (conversations.items.length === 0) throw TraceParseError.at(text, conversations.start, `the conversation has no turns: ${SHAPE}`);
  return conversations.items.flatMap((item) => {
    const from = member(item, 'from');
    if (from?.kind !== 'string' || !(from.value.toLowerCase() in SHAREGPT_ROLES)) {
      throw TraceParseError.at(text, (from ?? item).start, `a ShareGPT turn needs "from": "human", "gpt" or "system"${from?.kind === 'string' ? `; found ${JSON.stringify(from.value)}` : ''}`);
    }
    const role = SHAREGPT_ROLES[from.value.toLowerCase()];
    if (role === null) return [];
    const value = member(item, 'value');
    if (value?.kind !== 'string') throw TraceParseError.at(text, (value ?? item).start, 'a ShareGPT turn needs a "value" string');
    return [turnFrom(text, role, [trimmed(text, value.content)], explicitReasoning(text, item))];
  });
}

/** ChatGPT's export: the messages on the path from the root to "current_node" (the branch the user last saw). */
function chatGptExport(text: string, conversation: JsonNode, mapping: JsonNode & { kind: 'object' }): Turn[] {
  const current = member(conversation, 'current_node');
  const nodes = new Map(mapping.entries.map((entry) => [entry.key, entry.value]));
  let id = current?.kind === 'string' ? current.value : [...nodes.keys()].pop();
  const path: JsonNode[] = [];
  const seen = new Set<string>();
  while (id !== undefined && nodes.has(id) && !seen.has(id)) {
    seen.add(id);
    const node = nodes.get(id)!;
    path.push(node);
    const parent = member(node, 'parent');
    id = parent?.kind === 'string' ? parent.value : undefined;
  }
  const turns: Turn[] = [];
  let thoughts: TextRange | null = null;
  for (const node of path.reverse()) {
    const message = member(node, 'message');
    if (!message || message.kind !== 'object') continue;
    const role = stringMember(member(message, 'author'), 'role');
    const content = member(message, 'content');
    const type = stringMember(content, 'content_type');
    if (role === undefined || !(role in ROLES) || ROLES[role] === null || !content) continue;
    if (type === 'thoughts') {
      // Reasoning models' thoughts come as their own message before the reply.
      const first = (member(content, 'thoughts') as (JsonNode & { kind: 'array' }) | undefined)?.items?.[0];
      const value = first && member(first, 'content');
      if (value?.kind === 'string') thoughts = trimmed(text, value.content);
      continue;
    }
    const parts = member(content, 'parts');
    const ranges = parts?.kind === 'array' ? parts.items.flatMap((part) => (part.kind === 'string' ? [trimmed(text, part.content)] : [])) : [];
    if (ranges.length === 0 || (ROLES[role] === 'system' && ranges.every((r) => r.start === r.end))) continue;
    const turn = turnFrom(text, ROLES[role]!, ranges, ROLES[role] === 'assistant' ? thoughts : null);
    if (ROLES[role] === 'assistant') thoughts = null;
    turns.push(turn);
  }
  if (turns.length === 0) throw TraceParseError.at(text, mapping.start, 'the ChatGPT conversation has no text messages on its current branch');
  return turns;
}

/** Open WebUI's export: the history's branch that ends at "currentId", else the "messages" list. */
function openWebUiExport(text: string, chat: JsonNode): Turn[] {
  const history = member(chat, 'history');
  const byId = member(history ?? chat, 'messages');
  const currentId = stringMember(history, 'currentId');
  let messages: JsonNode[];
  if (byId?.kind === 'object' && currentId !== undefined) {
    const nodes = new Map(byId.entries.map((entry) => [entry.key, entry.value]));
    messages = [];
    const seen = new Set<string>();
    for (let id: string | undefined = currentId; id !== undefined && nodes.has(id) && !seen.has(id); id = stringMember(nodes.get(id), 'parentId')) {
      seen.add(id);
      messages.unshift(nodes.get(id)!);
    }
  } else {
    const list = member(chat, 'messages');
    if (list?.kind !== 'array') throw TraceParseError.at(text, chat.start, 'an Open WebUI chat needs "history" with "messages" and "currentId", or a "messages" list');
    messages = list.items;
  }
  const turns = messages.map((message) => turnOf(text, message)).filter((turn): turn is Turn => turn !== null);
  if (turns.length === 0) throw TraceParseError.at(text, chat.start, 'the Open WebUI chat has no messages');
  return turns;
}

/**
 * A dataset row: a question, the thinking and the answer as fields (the given names, else the first
 * known name present). Null when the object has no question field and no thinking or answer field.
 */
function datasetRow(text: string, row: JsonNode, fields: DatasetFields): Turn[] | null {
  const pick = (key: keyof DatasetFields): JsonNode | undefined => {
    const given = fields[key];
    if (given !== undefined) {
      const value = member(row, given);
      if (!value) throw TraceParseError.at(text, row.start, `the row has no "${given}" field (given as the ${key} field)`);
      return value;
    }
    for (const name of DATASET_FIELDS[key]) {
      const value = member(row, name);
      if (value?.kind === 'string') return value;
    }
    return undefined;
  };
  const question = pick('question');
  const reasoning = pick('reasoning');
  const answer = pick('answer');
  if (!question || (!reasoning && !answer)) return null;
  for (const [key, node] of [['question', question], ['reasoning', reasoning], ['answer', answer]] as const) {
    if (node && node.kind !== 'string') throw TraceParseError.at(text, node.start, `the ${key} field must be a string; found ${node.kind}`);
  }
  const range = (node: JsonNode | undefined) => (node?.kind === 'string' ? trimmed(text, node.content) : { start: row.end - 1, end: row.end - 1 });
  return [
    { role: 'user', content: range(question) },
    turnFrom(text, 'assistant', [range(answer)], reasoning ? range(reasoning) : null),
  ];
}

function stringMember(node: JsonNode | undefined, key: string): string | undefined {
  const value = node && member(node, key);
  return value?.kind === 'string' ? value.value : undefined;
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
