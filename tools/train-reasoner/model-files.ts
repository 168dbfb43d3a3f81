// The reasoner's files other than its weights: config.json (a qwen2 shape the trainer builds),
// generation_config.json, and the project's generated BPE tokenizer with a ChatML template that opens
// the thinking, and leaves it out when the caller sets enable_thinking to false (as Qwen3 does).

import { trainedTokenizer } from '../../extension/engine/make-model/bpe-tokenizer';
import { tokenizerConfig } from '../../extension/engine/make-model/chat-template';
import { TRANSFORMERS_VERSION, hfConfig } from '../../extension/engine/make-model/presets';

export const REASONER_SHAPE = {
  hiddenSize: 64, numLayers: 4, numHeads: 2, numKvHeads: 1, intermediateSize: 256,
  vocabSize: null, headDim: null, maxPositions: 1024, tied: true, reasoning: true,
};

const CHAT_TEMPLATE = [
  '{%- for message in messages %}',
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}",
  '{%- endfor %}',
  '{%- if add_generation_prompt %}',
  "{{- '<|im_start|>assistant\\n' }}",
  "{%- if enable_thinking is not defined or enable_thinking %}{{- '<think>\\n' }}{%- endif %}",
  '{%- endif %}',
].join('\n');

export function reasonerFiles(): Record<string, Record<string, unknown>> {
  const tokenizer = trainedTokenizer();
  const ids = tokenizer.specialIds;
  const config = hfConfig({
    arch: 'qwen2',
    preset: 'tiny',
    shape: REASONER_SHAPE,
    vocabSize: Math.ceil(tokenizer.size / 64) * 64,
    bosTokenId: ids.endOfText,
    eosTokenId: ids.imEnd,
    padTokenId: ids.endOfText,
    torchDtype: 'float32',
  });
  // A small head dimension needs a short RoPE period to tell nearby positions apart.
  const withRope = Object.fromEntries(Object.entries({ ...config, rope_theta: 10000.0 }).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    'config.json': withRope,
    'generation_config.json': { bos_token_id: ids.endOfText, eos_token_id: [ids.imEnd, ids.endOfText], pad_token_id: ids.endOfText, transformers_version: TRANSFORMERS_VERSION },
    'tokenizer.json': tokenizer.tokenizerJson,
    'tokenizer_config.json': { ...tokenizerConfig(tokenizer, true, REASONER_SHAPE.maxPositions), chat_template: CHAT_TEMPLATE },
  };
}
