// A tiny Qwen2 checkpoint whose weights are set by hand so that greedy generation writes a fixed cycle
// of tokens, whatever the prompt: after any token outside the cycle comes the cycle's first token, and
// after each token of the cycle the next one. Every block is zero (attention and MLP add nothing), so
// the residual stream at a position is its token's embedding plus exactly the edits made at that
// position: which positions and layers a steering rule changed can be read off directly.
//
// Dimensions used: one per cycle token (0..n−1) and a constant 1 for every token (63); the others are
// free for steering vectors that must not change the generated tokens.

import { join } from 'node:path';
import { expectedTensors } from '../../extension/common/model-spec';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { writeSafetensors } from '../../extension/engine/checkpoint/safetensors';
import { makeModel } from '../../extension/engine/make-model/make-model';

export const CONSTANT_DIMENSION = 63;

export async function makeCycleModel(outDir: string, cycle: readonly string[]): Promise<number[]> {
  const { spec } = await makeModel({ preset: 'tiny', arch: 'qwen2', outDir, seed: 11 });
  const tokenizer = await TextTokenizer.fromFolder(outDir);
  const ids = cycle.map((text) => {
    const encoded = tokenizer.encode(text);
    if (encoded.length !== 1) throw new Error(`${JSON.stringify(text)} is ${encoded.length} tokens in the generated tokenizer; the cycle needs single tokens`);
    return encoded[0];
  });
  if (new Set(ids).size !== ids.length || ids.length >= CONSTANT_DIMENSION) throw new Error('the cycle needs distinct tokens, fewer than 63');

  const tensors = new Map(expectedTensors(spec).map(({ name, shape }) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  const set = (name: string, row: number, column: number, value: number) => {
    const tensor = tensors.get(name)!;
    tensor.data[row * (tensor.shape[1] ?? 1) + column] = value;
  };
  for (const [name, tensor] of tensors) if (name.endsWith('norm.weight')) tensor.data.fill(1);
  for (let token = 0; token < spec.vocabSize; token++) set('model.embed_tokens.weight', token, CONSTANT_DIMENSION, 1);
  ids.forEach((id, i) => set('model.embed_tokens.weight', id, i, 1));
  // The normalized residual of a cycle token is √32 on its two dimensions, of any other token √64 on the
  // constant one: the cycle's successor (weight 3) beats the entry token (weight 1) after a cycle token.
  set('lm_head.weight', ids[0], CONSTANT_DIMENSION, 1);
  ids.forEach((_, i) => set('lm_head.weight', ids[(i + 1) % ids.length], i, 3));
  await writeSafetensors(
    join(outDir, 'model.safetensors'),
    [...tensors].map(([name, { shape, data }]) => ({ name, dtype: 'F32' as const, shape, data })),
    { format: 'pt' },
  );
  return ids;
}
