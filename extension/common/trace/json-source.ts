// A JSON parser that keeps where every value sits in the source, so a string's content can be
// decorated in the editor. Strict RFC 8259 grammar; nesting is limited so hostile input gets a
// clear error instead of a stack overflow.

import { TraceParseError } from './errors';
import { jsonStringText } from './mapped-text';
import type { TextRange } from './types';

export const MAX_JSON_DEPTH = 64;

interface Located {
  /** Offset of the value's first character. */
  start: number;
  /** Offset just after its last character. */
  end: number;
}

export type JsonNode =
  | (Located & { kind: 'object'; entries: JsonEntry[] })
  | (Located & { kind: 'array'; items: JsonNode[] })
  | (Located & { kind: 'string'; value: string; content: TextRange })
  | (Located & { kind: 'number'; value: number })
  | (Located & { kind: 'boolean'; value: boolean })
  | (Located & { kind: 'null' });

export interface JsonEntry {
  key: string;
  keyStart: number;
  value: JsonNode;
}

/** Parses exactly one JSON value in text[start, end), surrounded only by whitespace. */
export function parseJsonIn(text: string, start = 0, end = text.length): JsonNode {
  const parser = new JsonSourceParser(text, start, end);
  parser.skipWhitespace();
  const node = parser.value(0);
  parser.skipWhitespace();
  if (parser.pos < end) throw parser.error(parser.pos, `unexpected ${describe(text[parser.pos])} after the JSON value: expected the end of ${end < text.length ? 'the line' : 'the input'}`);
  return node;
}

/** The entry named `key` of an object node (the last one, as JSON.parse keeps), if any. */
export function member(node: JsonNode, key: string): JsonNode | undefined {
  if (node.kind !== 'object') return undefined;
  for (let i = node.entries.length - 1; i >= 0; i--) if (node.entries[i].key === key) return node.entries[i].value;
  return undefined;
}

function describe(ch: string | undefined, atLineEnd = false): string {
  if (ch === undefined) return atLineEnd ? 'end of the line' : 'end of input';
  const code = ch.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `control character U+${code.toString(16).padStart(4, '0').toUpperCase()}` : `character '${ch}'`;
}

class JsonSourceParser {
  pos: number;

  constructor(
    private readonly text: string,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  error(offset: number, problem: string): TraceParseError {
    return TraceParseError.at(this.text, offset, problem);
  }

  skipWhitespace(): void {
    while (this.pos < this.end) {
      const c = this.text.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  private peek(): string | undefined {
    return this.pos < this.end ? this.text[this.pos] : undefined;
  }

  /** What stands at `pos`, for a message; a bounded parse (a JSONL line) ends at the end of the line. */
  private found(pos = this.pos): string {
    return describe(pos < this.end ? this.text[pos] : undefined, this.end < this.text.length);
  }

  private expect(ch: string, context: string): void {
    if (this.peek() !== ch) throw this.error(this.pos, `unexpected ${this.found()} ${context}: expected '${ch}'`);
    this.pos++;
  }

  value(depth: number): JsonNode {
    const ch = this.peek();
    if (ch === '{' || ch === '[') {
      if (depth >= MAX_JSON_DEPTH) throw this.error(this.pos, `JSON nested deeper than ${MAX_JSON_DEPTH} levels: a chat trace needs only a few`);
      return ch === '{' ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (ch === '"') return this.string();
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.number();
    for (const [word, node] of LITERALS) {
      if (this.text.startsWith(word, this.pos) && this.pos + word.length <= this.end) {
        const start = this.pos;
        this.pos += word.length;
        return { ...node, start, end: this.pos } as JsonNode;
      }
    }
    throw this.error(this.pos, `unexpected ${this.found()}: expected a JSON value (object, array, string, number, true, false or null)`);
  }

  private object(depth: number): JsonNode {
    const start = this.pos++;
    const entries: JsonEntry[] = [];
    this.skipWhitespace();
    if (this.peek() === '}') {
      this.pos++;
      return { kind: 'object', entries, start, end: this.pos };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.peek() !== '"') throw this.error(this.pos, `unexpected ${this.found()} in an object: expected a "quoted" key`);
      const keyStart = this.pos;
      const key = this.string().value;
      this.skipWhitespace();
      this.expect(':', 'after an object key');
      this.skipWhitespace();
      entries.push({ key, keyStart, value: this.value(depth) });
      this.skipWhitespace();
      const next = this.peek();
      this.pos++;
      if (next === '}') return { kind: 'object', entries, start, end: this.pos };
      if (next !== ',') throw this.error(this.pos - 1, `unexpected ${this.found(this.pos - 1)} in an object: expected ',' or '}'`);
    }
  }

  private array(depth: number): JsonNode {
    const start = this.pos++;
    const items: JsonNode[] = [];
    this.skipWhitespace();
    if (this.peek() === ']') {
      this.pos++;
      return { kind: 'array', items, start, end: this.pos };
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.value(depth));
      this.skipWhitespace();
      const next = this.peek();
      this.pos++;
      if (next === ']') return { kind: 'array', items, start, end: this.pos };
      if (next !== ',') throw this.error(this.pos - 1, `unexpected ${this.found(this.pos - 1)} in an array: expected ',' or ']'`);
    }
  }

  private string(): JsonNode & { kind: 'string' } {
    const start = this.pos++;
    for (let i = this.pos; i < this.end; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 0x22) {
        const content = { start: start + 1, end: i };
        const value = jsonStringText(this.text, content, (offset, problem) => this.error(offset, problem)).text;
        this.pos = i + 1;
        return { kind: 'string', value, content, start, end: this.pos };
      }
      if (c === 0x5c) i++;
      else if (c < 0x20) throw this.error(i, `${describe(this.text[i])} inside a string: write it as an escape such as \\n`);
    }
    throw this.error(start, `string never closed: expected a closing '"' before the end of ${this.end < this.text.length ? 'the line' : 'the input'}`);
  }

  private number(): JsonNode {
    const start = this.pos;
    const match = NUMBER.exec(this.text.slice(start, Math.min(this.end, start + 400)));
    if (!match) throw this.error(start, 'malformed number: expected digits such as 12, -3.5 or 1e-4');
    this.pos += match[0].length;
    return { kind: 'number', value: Number(match[0]), start, end: this.pos };
  }
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/;
const LITERALS: [string, { kind: 'boolean'; value: boolean } | { kind: 'null' }][] = [
  ['true', { kind: 'boolean', value: true }],
  ['false', { kind: 'boolean', value: false }],
  ['null', { kind: 'null' }],
];
