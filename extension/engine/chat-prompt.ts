// Chat messages as prompt token ids, ready for the assistant's reply: through the checkpoint's chat
// template (a reasoning model's template opens `<think>`), or the plain text for a base model that has
// none. `variables` are extra template inputs such as enable_thinking.

import type { ChatMessage, TextTokenizer } from './checkpoint/tokenizer';

export function chatPromptIds(tokenizer: TextTokenizer, messages: readonly ChatMessage[], variables?: Record<string, unknown>): number[] {
  if (messages.length === 0) throw new Error('give a prompt or at least one message');
  if (!tokenizer.hasChatTemplate) return tokenizer.encode(messages.map((m) => m.content).join('\n\n'), { addSpecialTokens: true });
  return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, variables }));
}

/**
 * A prompt for a direct reply, without thinking: enable_thinking off (Qwen3), and where the template
 * opens the thinking anyway (R1's generation prompt ends with "<think>\n"), the block closed empty,
 * as Qwen3 writes it, so the reply starts in the visible answer.
 */
export function directReplyPromptIds(tokenizer: TextTokenizer, messages: readonly ChatMessage[]): number[] {
  if (!tokenizer.hasChatTemplate) return chatPromptIds(tokenizer, messages);
  const prompt = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, variables: { enable_thinking: false } });
  const open = /<think>\n?$/.exec(prompt);
  return tokenizer.encode(open ? `${prompt.slice(0, open.index)}<think>\n\n</think>\n\n` : prompt);
}

/** The template variable that turns a hybrid model's thinking on or off (Qwen3's enable_thinking); none when unset. */
export function thinkingSwitch(enableThinking: boolean | undefined): Record<string, unknown> | undefined {
  return enableThinking === undefined ? undefined : { enable_thinking: enableThinking };
}
