// The checkpoint's own tokenizer (tokenizer.json through @huggingface/tokenizers) and chat template
// (tokenizer_config.json through @huggingface/jinja, an interpreter: templates never reach eval).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { TemplateLimitError, TemplateRenderer } from './template-render';
import { CheckpointError } from './errors';
import { generationEosIds, readJsonFile, readOptionalJsonFile } from './load';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface TokenOffsets {
  ids: number[];
  /** [start, end) character offsets (UTF-16 indices) of each token in the encoded text. */
  offsets: [number, number][];
}

type Json = Record<string, unknown>;

export class TextTokenizer {
  /** One past the highest token id the tokenizer knows (added tokens included). */
  readonly size: number;
  readonly bosId: number | null;
  /**
   * The beginning-of-sequence token's text when this tokenizer starts every encoded text with it
   * (through its post-processor, or `add_bos_token` as transformers reads it); '' otherwise.
   */
  readonly bosText: string;
  readonly eosIds: readonly number[];
  readonly thinkStartId: number | null;
  readonly thinkEndId: number | null;
  /** Ids of tokens marked special (chat markers, end of text); `<think>` usually is not one. */
  readonly specialIds: ReadonlySet<number>;
  private readonly tokenizer: Tokenizer;
  private readonly config: Json;
  private readonly template: TemplateRenderer | null;
  /** Whether `add_bos_token` asks for a BOS that the post-processor does not add (transformers adds it). */
  private readonly prependsBos: boolean;

  /**
   * @param tokenizerJson decoded tokenizer.json
   * @param tokenizerConfig decoded tokenizer_config.json ({} if the folder has none)
   * @param source the folder or file, for error messages
   * @param options.chatTemplate overrides tokenizer_config.json's template (chat_template.jinja files)
   * @param options.extraEosIds end-of-turn ids from generation_config.json
   */
  constructor(
    tokenizerJson: unknown,
    tokenizerConfig: Json,
    private readonly source: string,
    options: { chatTemplate?: string; extraEosIds?: number[] } = {},
  ) {
    this.config = tokenizerConfig;
    try {
      this.tokenizer = new Tokenizer(tokenizerJson as object, tokenizerConfig);
    } catch (error) {
      throw new CheckpointError(
        `${source}: tokenizer.json could not be loaded (${(error as Error).message}); expected a Hugging Face tokenizers file.`,
      );
    }
    const vocab = this.tokenizer.get_vocab(true);
    let highest = -1;
    for (const id of vocab.values()) highest = Math.max(highest, id);
    this.size = highest + 1;
    this.specialIds = new Set([...this.tokenizer.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));
    this.bosId = this.specialTokenId('bos_token');
    const postProcessed = this.bosId !== null && this.tokenizer.encode('a', { add_special_tokens: true }).ids[0] === this.bosId;
    this.prependsBos = this.bosId !== null && !postProcessed && tokenizerConfig.add_bos_token === true;
    this.bosText = postProcessed || this.prependsBos ? this.specialTokenText('bos_token') : '';
    const eos = this.specialTokenId('eos_token');
    this.eosIds = [...new Set([...(eos === null ? [] : [eos]), ...(options.extraEosIds ?? [])])];
    this.thinkStartId = vocab.get('<think>') ?? null;
    this.thinkEndId = vocab.get('</think>') ?? null;
    this.template = compileTemplate(options.chatTemplate ?? pickChatTemplate(tokenizerConfig.chat_template), source);
  }

  /** Reads tokenizer.json, tokenizer_config.json, chat_template.jinja and generation_config.json's eos ids. */
  static async fromFolder(dir: string): Promise<TextTokenizer> {
    const tokenizerJson = await readJsonFile(join(dir, 'tokenizer.json'), 'the tokenizer (required)');
    const config = (await readOptionalJsonFile(join(dir, 'tokenizer_config.json'), 'tokenizer settings')) ?? {};
    const chatTemplate = await readFile(join(dir, 'chat_template.jinja'), 'utf8').catch(() => undefined);
    return new TextTokenizer(tokenizerJson, config, dir, { chatTemplate, extraEosIds: await generationEosIds(dir) });
  }

  get hasChatTemplate(): boolean {
    return this.template !== null;
  }

  /** Token ids of `text`. Special tokens are added only on request: chat-templated text carries its own. */
  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    const ids = this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
    return options.addSpecialTokens && this.prependsBos && ids[0] !== this.bosId ? [this.bosId!, ...ids] : ids;
  }

  /**
   * Ids plus the character span of each token in `text`. The library reports no offsets, so they come
   * from incremental decoding: token i's text is decode(ids[c..i+1]) minus decode(ids[c..i]), with one
   * token of left context c so that decoders which treat the first token specially (SentencePiece's
   * leading space) see it mid-sequence. Tokens that hold only part of a multi-byte character are grouped
   * until the character is complete, and every token of the group gets the group's span. Where the decoded
   * piece differs from the input (a normalizer rewrote it), the span is re-anchored by searching for it.
   */
  encodeWithOffsets(text: string): TokenOffsets {
    const ids = this.encode(text);
    const offsets: [number, number][] = [];
    let cursor = 0;
    let groupStart = 0;
    for (let i = 0; i < ids.length; i++) {
      const context = Math.max(0, groupStart - 1);
      const before = this.rawDecode(ids.slice(context, groupStart));
      const piece = this.rawDecode(ids.slice(context, i + 1)).slice(before.length);
      if (piece.endsWith('\uFFFD') && i + 1 < ids.length && !text.startsWith(piece, cursor)) continue;
      const [start, end] = locate(text, piece, cursor);
      for (let j = groupStart; j <= i; j++) offsets.push([start, end]);
      cursor = end;
      groupStart = i + 1;
    }
    return { ids, offsets };
  }

  /** Text of `ids`. Ids the tokenizer does not know (padding rows of a larger embedding) decode to nothing. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const known = ids.filter((id) => Number.isInteger(id) && id >= 0 && this.tokenizer.id_to_token(id) !== undefined);
    return known.length ? this.tokenizer.decode(known, { skip_special_tokens: options.skipSpecialTokens ?? false }) : '';
  }

  /** The vocabulary entry for `id` as stored (e.g. "Ġthe"), or null for an unknown id. */
  tokenString(id: number): string | null {
    return this.tokenizer.id_to_token(id) ?? null;
  }

  /** What `id` alone decodes to (e.g. " the"). */
  tokenText(id: number): string {
    return this.decode([id]);
  }

  tokenId(token: string): number | null {
    return this.tokenizer.token_to_id(token) ?? null;
  }

  /**
   * The text `id` adds after `context` (the tokens before it): decoded in context, so that decoders
   * which treat a sequence's first token specially (SentencePiece's leading space) see it mid-sequence.
   */
  appendedText(context: readonly number[], id: number): string {
    const before = this.rawDecode([...context]);
    return this.rawDecode([...context, id]).slice(before.length);
  }

  /**
   * Renders the checkpoint's chat template; `variables` adds template inputs such as enable_thinking.
   * A template that refuses a system message (Gemma 2, Mistral v0.1) gets the system text at the start
   * of the first user turn instead, as those models' users write it.
   */
  applyChatTemplate(
    messages: readonly ChatMessage[],
    options: { addGenerationPrompt?: boolean; variables?: Record<string, unknown> } = {},
  ): string {
    if (!this.template) {
      throw new CheckpointError(`${this.source}: tokenizer_config.json has no chat_template, so chat prompts cannot be built.`);
    }
    try {
      return this.render(messages, options);
    } catch (error) {
      if (error instanceof TemplateLimitError) throw error;
      const folded = foldSystemIntoFirstUser(messages);
      if (folded) {
        try {
          return this.render(folded, options);
        } catch {
          // The template fails for another reason: report the first failure.
        }
      }
      throw new CheckpointError(`${this.source}: the chat template failed to render (${(error as Error).message}).`);
    }
  }

  private render(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean; variables?: Record<string, unknown> }): string {
    return this.template!.render({
      ...options.variables,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: this.specialTokenText('bos_token'),
      eos_token: this.specialTokenText('eos_token'),
      pad_token: this.specialTokenText('pad_token'),
      unk_token: this.specialTokenText('unk_token'),
    });
  }

  /** Decoding exactly as stored: no special-token skipping, no clean-up of spaces before punctuation. */
  private rawDecode(ids: number[]): string {
    return ids.length ? this.tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) : '';
  }

  private specialTokenText(key: string): string {
    const value = this.config[key];
    if (typeof value === 'string') return value;
    const content = (value as { content?: unknown } | null | undefined)?.content;
    return typeof content === 'string' ? content : '';
  }

  private specialTokenId(key: string): number | null {
    const text = this.specialTokenText(key);
    return text ? (this.tokenizer.token_to_id(text) ?? null) : null;
  }
}

/** The messages with the system messages' text put before the first user message's, or null when there is no system message to fold. */
function foldSystemIntoFirstUser(messages: readonly ChatMessage[]): ChatMessage[] | null {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
  const rest = messages.filter((m) => m.role !== 'system');
  const first = rest.findIndex((m) => m.role === 'user');
  if (system.length === 0 || first < 0) return null;
  return rest.map((m, i) => (i === first ? { role: m.role, content: [...system, m.content].join('\n\n') } : m));
}

/** Span of `piece` at or after `cursor`: exact when the text matches, otherwise the nearest occurrence. */
function locate(text: string, piece: string, cursor: number): [number, number] {
  if (text.startsWith(piece, cursor)) return [cursor, cursor + piece.length];
  const trimmed = piece.replace(/\uFFFD+$/, '').trimStart();
  if (trimmed) {
    const found = text.indexOf(trimmed, cursor);
    if (found >= 0 && found - cursor <= 16) return [found, found + trimmed.length];
  }
  // Nothing recognizable (e.g. a token the normalizer rewrote): it covers nothing but keeps its place.
  return [cursor, cursor];
}

function pickChatTemplate(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  // Some configs hold a list of named templates; "default" is the chat one.
  if (Array.isArray(raw)) {
    const named = raw.find((t) => (t as { name?: unknown })?.name === 'default') ?? raw[0];
    const template = (named as { template?: unknown } | undefined)?.template;
    return typeof template === 'string' ? template : undefined;
  }
  return undefined;
}

function compileTemplate(text: string | undefined, source: string): TemplateRenderer | null {
  if (text === undefined) return null;
  try {
    new Template(text); // parsed here, so a template that does not parse is refused when the folder is opened
  } catch (error) {
    throw new CheckpointError(`${source}: the chat template does not parse (${(error as Error).message}).`);
  }
  return new TemplateRenderer(text, source);
}
