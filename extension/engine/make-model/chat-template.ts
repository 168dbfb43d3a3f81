// tokenizer_config.json for generated models: Qwen-style ChatML with an optional system message.
import { SPECIAL_TOKENS, type TrainedTokenizer } from './bpe-tokenizer';

/** ChatML; reasoning models open the assistant turn with "<think>\n", as DeepSeek-R1 distills do. */
export function chatTemplate(reasoning: boolean): string {
  const generationPrompt = reasoning ? '<|im_start|>assistant\\n<think>\\n' : '<|im_start|>assistant\\n';
  return [
    "{%- for message in messages %}",
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}",
    '{%- endfor %}',
    '{%- if add_generation_prompt %}',
    `{{- '${generationPrompt}' }}`,
    '{%- endif %}',
  ].join('\n');
}

export function tokenizerConfig(tokenizer: TrainedTokenizer, reasoning: boolean, maxLength: number): Record<string, unknown> {
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const token of tokenizer.tokenizerJson.added_tokens as { id: number; content: string; special: boolean }[]) {
    addedTokensDecoder[String(token.id)] = {
      content: token.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: token.special,
    };
  }
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: [SPECIAL_TOKENS.imStart, SPECIAL_TOKENS.imEnd],
    bos_token: null,
    chat_template: chatTemplate(reasoning),
    clean_up_tokenization_spaces: false,
    eos_token: SPECIAL_TOKENS.imEnd,
    errors: 'replace',
    model_max_length: maxLength,
    pad_token: SPECIAL_TOKENS.endOfText,
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
}
