// Turns a user's prompt or messages into prompt token ids, through the checkpoint's chat template when
// it has one (a base model without a template reads the plain text).

import type { ChatMessage, TextTokenizer } from './checkpoint/tokenizer';

export function promptIds(tokenizer: TextTokenizer, input: { prompt?: string; messages?: readonly ChatMessage[] }): number[] {
  const messages = input.messages ?? (input.prompt !== undefined ? [{ role: 'user' as const, content: input.prompt }] : null);
  if (!messages || messages.length === 0) throw new Error('give a prompt or at least one message');
  if (!tokenizer.hasChatTemplate) {
    return tokenizer.encode(messages.map((m) => m.content).join('\n\n'), { addSpecialTokens: true });
  }
  return tokenizer.encode(tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
}
