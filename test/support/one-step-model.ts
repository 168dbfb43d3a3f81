// A tiny Qwen2 checkpoint whose weights are set by hand so that its answer depends on the number of
// exactly one step: the number written right before the marker word " apples". Two attention heads do
// it, as a real transformer would:
//   layer 0, a previous-token head (RoPE): every position copies the digit identity of the token
//     before it, so the marker's residual learns which digit preceded it;
//   layer 1, a content head: the answer position attends to the marker (position-independent, on the
//     slowest RoPE frequency) and copies that digit identity;
//   the output layer gives the answer token "8" a high logit when that digit is 5.
// Other steps' numbers never reach the answer. Layers 2 and 3 and every MLP are zero (identity blocks).

import { join } from 'node:path';
import { expectedTensors } from '../../extension/common/model-spec';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { writeSafetensors } from '../../extension/engine/checkpoint/safetensors';
import { makeModel } from '../../extension/engine/make-model/make-model';

export const MARKER = ' apples';
export const KEY_DIGIT = 5;
export const ANSWER = '8';

// Residual dimensions: digit identity (0..9), "is the marker" (10), the previous token's digit (20..29),
// the digit the answer position read from the marker (30..39), and a constant 1 for every token (63).
const DIGITS = 0;
const IS_MARKER = 10;
const PREVIOUS_DIGIT = 20;
const READ_DIGIT = 30;
const CONSTANT = 63;

export async function makeOneStepModel(outDir: string): Promise<void> {
  const made = await makeModel({ preset: 'tiny', arch: 'qwen2', outDir, seed: 7 });
  const { spec } = made;
  const tokenizer = await TextTokenizer.fromFolder(outDir);
  const single = (text: string) => {
    const ids = tokenizer.encode(text);
    if (ids.length !== 1) throw new Error(`"${text}" is ${ids.length} tokens in the generated tokenizer; the construction needs one`);
    return ids[0];
  };
  const H = spec.hiddenSize;
  const d = spec.headDim;
  if (H !== 64 || d !== 16 || spec.numLayers < 2 || !spec.attentionBias) throw new Error('the construction expects the tiny qwen2 shape');

  const tensors = new Map(expectedTensors(spec).map(({ name, shape }) => [name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  const set = (name: string, row: number, column: number, value: number) => {
    const tensor = tensors.get(name)!;
    tensor.data[row * (tensor.shape[1] ?? 1) + column] = value;
  };
  const setVector = (name: string, index: number, value: number) => (tensors.get(name)!.data[index] = value);
  for (const [name, tensor] of tensors) if (name.endsWith('norm.weight')) tensor.data.fill(1);

  for (let token = 0; token < spec.vocabSize; token++) set('model.embed_tokens.weight', token, CONSTANT, 1);
  for (let digit = 0; digit <= 9; digit++) set('model.embed_tokens.weight', single(String(digit)), DIGITS + digit, 1);
  set('model.embed_tokens.weight', single(MARKER), IS_MARKER, 1);

  // Layer 0, head 0: constant query and key (biases) on the four fastest RoPE pairs, the key turned one
  // position's angle ahead, so the score peaks at the previous token: 0.25·s²·Σ cos((1 − distance)·θ).
  const theta = (i: number) => Math.pow(spec.ropeTheta, (-2 * i) / d);
  const s = 11;
  for (let i = 0; i < 4; i++) {
    setVector('model.layers.0.self_attn.q_proj.bias', i, s);
    setVector('model.layers.0.self_attn.k_proj.bias', i, s * Math.cos(theta(i)));
    setVector('model.layers.0.self_attn.k_proj.bias', i + d / 2, s * Math.sin(theta(i)));
  }
  // The value is the digit identity (normalized inputs are √32 ≈ 5.66 per set dimension); out to PREVIOUS_DIGIT.
  for (let digit = 0; digit <= 9; digit++) {
    set('model.layers.0.self_attn.v_proj.weight', digit, DIGITS + digit, 1 / Math.sqrt(32));
    set('model.layers.0.self_attn.o_proj.weight', PREVIOUS_DIGIT + digit, digit, 1);
  }

  // Layer 1, head 0: the key says "marker", the query is a constant, both on the slowest RoPE pair (pair 7:
  // 5.6e-6 rad per position, so position does not matter); the value is the previous-token digit.
  const slow = d / 2 - 1;
  set('model.layers.1.self_attn.k_proj.weight', slow, IS_MARKER, 1);
  setVector('model.layers.1.self_attn.q_proj.bias', slow, 26);
  for (let digit = 0; digit <= 9; digit++) {
    set('model.layers.1.self_attn.v_proj.weight', digit, PREVIOUS_DIGIT + digit, Math.sqrt(3 / 64));
    set('model.layers.1.self_attn.o_proj.weight', READ_DIGIT + digit, digit, 1);
  }

  set('lm_head.weight', single(ANSWER), READ_DIGIT + KEY_DIGIT, 2.12);

  await writeSafetensors(
    join(outDir, 'model.safetensors'),
    [...tensors].map(([name, { shape, data }]) => ({ name, dtype: 'F32' as const, shape, data })),
    { format: 'pt' },
  );
}
