import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../extension/engine/checkpoint/config';
import { CheckpointError } from '../../extension/engine/checkpoint/errors';

// The conformance kit sits next to the repository: <repo>/../shared/conformance.
const KIT = resolve(__dirname, '..', '..', '..', 'shared', 'conformance', 'models');
const kitMissing = existsSync(KIT) ? false : `conformance kit not found at ${KIT}`;
if (kitMissing) console.warn(`\n!!! SKIPPING conformance config tests: ${kitMissing}\n`);

const kitConfig = (model: string) => parseConfig(JSON.parse(readFileSync(join(KIT, model, 'config.json'), 'utf8')));

const COMMON = { vocabSize: 300, hiddenSize: 64, numLayers: 4, numHeads: 4, numKvHeads: 2, intermediateSize: 128, maxPositions: 512 };

test('conformance qwen2: q/k/v biases, theta 1e6, untied, no sliding window', { skip: kitMissing }, () => {
  const spec = kitConfig('qwen2');
  assert.deepEqual({ ...spec, ...COMMON }, spec);
  assert.equal(spec.architecture, 'qwen2');
  assert.equal(spec.attentionBias, true);
  assert.equal(spec.ropeTheta, 1e6);
  assert.equal(spec.rmsNormEps, 1e-6);
  assert.equal(spec.tieWordEmbeddings, false);
  assert.deepEqual(spec.slidingWindows, [null, null, null, null]);
  assert.equal(spec.headDim, 16);
  assert.equal(spec.attentionScale, 0.25);
  assert.deepEqual(spec.eosTokenIds, [2]);
  assert.equal(spec.bosTokenId, 1);
});

test('conformance qwen2_tied_bf16: tied embeddings', { skip: kitMissing }, () => {
  assert.equal(kitConfig('qwen2_tied_bf16').tieWordEmbeddings, true);
});

test('conformance llama: plain rope theta 1e4, eps 1e-5', { skip: kitMissing }, () => {
  const spec = kitConfig('llama');
  assert.deepEqual({ ...spec, ...COMMON }, spec);
  assert.deepEqual(spec.ropeScaling, { kind: 'none' });
  assert.equal(spec.ropeTheta, 1e4);
  assert.equal(spec.rmsNormEps, 1e-5);
  assert.equal(spec.attentionBias, false);
  assert.equal(spec.activation, 'silu');
});

test('conformance llama3_rope_f16: llama3 rope scaling, theta 5e5', { skip: kitMissing }, () => {
  const spec = kitConfig('llama3_rope_f16');
  assert.equal(spec.ropeTheta, 5e5);
  assert.deepEqual(spec.ropeScaling, { kind: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64 });
});

test('conformance mistral: sliding window 16 on every layer', { skip: kitMissing }, () => {
  const spec = kitConfig('mistral');
  assert.deepEqual(spec.slidingWindows, [16, 16, 16, 16]);
  assert.equal(spec.rmsNormEps, 1e-5);
});

test('conformance qwen3: q/k norm, explicit head_dim 24, no biases, no window', { skip: kitMissing }, () => {
  const spec = kitConfig('qwen3');
  assert.equal(spec.qkNorm, true);
  assert.equal(spec.headDim, 24);
  assert.equal(spec.attentionScale, 1 / Math.sqrt(24));
  assert.equal(spec.attentionBias, false);
  assert.deepEqual(spec.slidingWindows, [null, null, null, null]);
});

test('conformance gemma2: softcaps, (1+w) norms, sandwich norms, scaled embeddings, window on even layers', { skip: kitMissing }, () => {
  const spec = kitConfig('gemma2');
  assert.equal(spec.headDim, 32);
  assert.equal(spec.attentionScale, 24 ** -0.5);
  assert.equal(spec.attnLogitSoftcap, 8);
  assert.equal(spec.finalLogitSoftcap, 10);
  assert.equal(spec.normAddsOne, true);
  assert.equal(spec.sandwichNorms, true);
  assert.equal(spec.embeddingMultiplier, 8);
  assert.deepEqual(spec.slidingWindows, [16, null, 16, null]);
  assert.equal(spec.activation, 'gelu_tanh');
  assert.equal(spec.tieWordEmbeddings, true);
  assert.equal(spec.rmsNormEps, 1e-6);
});

const base = {
  model_type: 'llama',
  vocab_size: 100,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
};

test('family defaults apply when config.json omits a field', () => {
  const llama = parseConfig(base);
  assert.equal(llama.numKvHeads, 4);
  assert.equal(llama.headDim, 8);
  assert.equal(llama.ropeTheta, 10000);
  assert.equal(llama.tieWordEmbeddings, false);
  assert.equal(llama.maxPositions, 2048);
  assert.deepEqual(llama.eosTokenIds, []);
  const gemma = parseConfig({ ...base, model_type: 'gemma2' });
  assert.equal(gemma.tieWordEmbeddings, true);
  assert.equal(gemma.headDim, 256);
  assert.equal(gemma.attnLogitSoftcap, 50);
  assert.equal(gemma.finalLogitSoftcap, 30);
  assert.equal(gemma.attentionScale, 1 / 16);
  assert.equal(parseConfig({ ...base, model_type: 'qwen3' }).headDim, 128);
  // sqrt(hidden) is rounded to float32, as transformers casts it to the compute dtype.
  assert.equal(parseConfig({ ...base, model_type: 'gemma2', hidden_size: 2304 }).embeddingMultiplier, Math.fround(Math.sqrt(2304)));
  assert.equal(parseConfig({ ...base, model_type: 'gemma2', hidden_size: 2306 }).embeddingMultiplier, Math.fround(Math.sqrt(2306)));
});

test('qwen2 ignores head_dim and applies a sliding window only when use_sliding_window is set', () => {
  const qwen = { ...base, model_type: 'qwen2', head_dim: 99, sliding_window: 8, max_window_layers: 1, num_hidden_layers: 3 };
  assert.equal(parseConfig(qwen).headDim, 8);
  assert.deepEqual(parseConfig({ ...qwen, use_sliding_window: false }).slidingWindows, [null, null, null]);
  assert.deepEqual(parseConfig({ ...qwen, use_sliding_window: true }).slidingWindows, [null, 8, 8]);
});

test('gemma2 attention softcap can be switched off with null', () => {
  const spec = parseConfig({ ...base, model_type: 'gemma2', attn_logit_softcapping: null, final_logit_softcapping: null });
  assert.equal(spec.attnLogitSoftcap, null);
  assert.equal(spec.finalLogitSoftcap, null);
});

test('rope_scaling: linear, llama3 under the older "type" key, default, and unsupported kinds', () => {
  assert.deepEqual(parseConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling, { kind: 'linear', factor: 2 });
  const llama3 = { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
  assert.deepEqual(parseConfig({ ...base, rope_scaling: { type: 'llama3', ...llama3 } }).ropeScaling, {
    kind: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192,
  });
  assert.deepEqual(parseConfig({ ...base, rope_scaling: { rope_type: 'default' } }).ropeScaling, { kind: 'none' });
  assert.throws(() => parseConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } }), /rope_scaling: RoPE type "yarn" is not supported; supported: default, linear, llama3/);
  assert.throws(() => parseConfig({ ...base, rope_scaling: { rope_type: 'linear', factor: 2, mrope_section: [1, 2] } }), /"mrope_section" is not read for RoPE type "linear"/);
  assert.throws(() => parseConfig({ ...base, rope_scaling: { rope_type: 'llama3', factor: 8 } }), /rope_scaling is missing "low_freq_factor"/);
});

test('eos_token_id may be a number or a list', () => {
  assert.deepEqual(parseConfig({ ...base, eos_token_id: 7 }).eosTokenIds, [7]);
  assert.deepEqual(parseConfig({ ...base, eos_token_id: [128001, 128008, 128009] }).eosTokenIds, [128001, 128008, 128009]);
  assert.throws(() => parseConfig({ ...base, eos_token_id: 'end' }), /eos_token_id must be a token id or a list of token ids/);
});

test('unknown model_type names the supported ones', () => {
  assert.throws(
    () => parseConfig({ ...base, model_type: 'gpt2' }),
    (e: Error) => e instanceof CheckpointError && /model_type "gpt2" is not supported; supported model types: qwen2, llama, mistral, qwen3, gemma2/.test(e.message),
  );
  assert.throws(() => parseConfig({ ...base, model_type: undefined }), /has no "model_type" string/);
  assert.throws(() => parseConfig([1, 2]), /expected a JSON object/);
});

test('missing or ill-typed fields are named', () => {
  const { hidden_size: _dropped, ...noHidden } = base;
  assert.throws(() => parseConfig(noHidden), /config.json is missing "hidden_size" \(expected a positive integer\)/);
  assert.throws(() => parseConfig({ ...base, num_hidden_layers: '2' }), /"num_hidden_layers" must be a positive integer, got "2"/);
  assert.throws(() => parseConfig({ ...base, rms_norm_eps: -1 }), /"rms_norm_eps" must be a positive number/);
  assert.throws(() => parseConfig({ ...base, tie_word_embeddings: 'yes' }), /"tie_word_embeddings" must be true or false/);
  assert.throws(() => parseConfig({ ...base, num_key_value_heads: 3 }), /must be a multiple of num_key_value_heads \(3\)/);
  assert.throws(() => parseConfig({ ...base, hidden_act: 'relu' }), /hidden_act "relu" is not supported; supported: silu, gelu_pytorch_tanh/);
});

test('biases the graph does not model are rejected rather than silently dropped', () => {
  assert.throws(() => parseConfig({ ...base, attention_bias: true }), /attention_bias: true is not supported for model_type "llama"/);
  assert.throws(() => parseConfig({ ...base, mlp_bias: true }), /mlp_bias: true is not supported/);
});

test('transformers 5 rope_parameters: the base and scaling are read from it, and a key it would ignore is refused', () => {
  const v5 = base; // no rope_theta: transformers 5 keeps it inside rope_parameters
  assert.equal(parseConfig({ ...v5, rope_parameters: { rope_type: 'default', rope_theta: 1000000.0 } }).ropeTheta, 1e6, 'not the 10000 default');
  const llama3 = { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
  const spec = parseConfig({ ...v5, rope_parameters: { rope_type: 'llama3', rope_theta: 500000.0, ...llama3 } });
  assert.equal(spec.ropeTheta, 5e5);
  assert.deepEqual(spec.ropeScaling, { kind: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  assert.throws(() => parseConfig({ ...v5, rope_parameters: { rope_type: 'default' } }), /rope_parameters is missing "rope_theta"/);
  assert.throws(() => parseConfig({ ...v5, rope_parameters: { rope_type: 'default', rope_theta: 1e6, partial_rotary_factor: 0.5 } }), /"partial_rotary_factor" is not read for RoPE type "default"/);
  assert.throws(() => parseConfig({ ...v5, rope_parameters: { rope_type: 'yarn', rope_theta: 1e6, factor: 4 } }), /RoPE type "yarn" is not supported/);
  assert.throws(() => parseConfig({ ...v5, rope_theta: 10000, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } }), /disagree/);
});
