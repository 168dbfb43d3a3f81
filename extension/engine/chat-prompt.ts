// Chat messages as prompt token ids, ready for the assistant's reply: through the checkpoint's chat
// template (a reasoning model's template opens `<think>`), or the plain text for a base model that has
// none. `variables` are extra template inputs such as enable_thinking.

import type { ChatMessage, TextTokenizer } from './checkpoint/tokenizer';

export function chatPromptIds(tokenizer: TextTokenizer, messages: readonly ChatMessage[], variables?: Record<string, unknown>): number[] {
  if (messages.length === 0) throw new Error('give a prompt or at least one message');
  if (!tokenizer.hasChatTemplate) return tokenizer.encode(messages.map((m) => m.content).join('\n\n'), { addSpecialTokens: true });
  return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true, variables }));
}

/** The template variable that turns a hybrid model's thinking on or off (Qwen3's enable_thinking); none when unset. */
export function thinkingSwitch(enableThinking: boolean | undefined): Record<string, unknown> | undefined {
  return enableThinking === undefined ? undefined : { enable_thinking: enableThinking };
}
