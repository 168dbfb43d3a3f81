import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedTensors, SUPPORTED_ARCHITECTURES } from '../../extension/common/model-spec';
import { parseConfig } from '../../extension/engine/checkpoint/config';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { openSafetensors } from '../../extension/engine/checkpoint/safetensors';
import { TextTokenizer } from '../../extension/engine/checkpoint/tokenizer';
import { makeModel, presetConfig } from '../../extension/engine/make-model/make-model';
import { learnMerges, trainedTokenizer } from '../../extension/engine/make-model/bpe-tokenizer';
import { TRAINING_CORPUS } from '../../extension/engine/make-model/corpus';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'make-model-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const meanAndStd = (values: Float32Array) => {
  let sum = 0;
  let squares = 0;
  for (const v of values) [sum, squares] = [sum + v, squares + v * v];
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(squares / values.length - mean * mean) };
};

for (const arch of SUPPORTED_ARCHITECTURES) {
  test(`tiny ${arch}: a complete folder that passes every load check`, async () => {
    const outDir = join(root, `tiny-${arch}`);
    const made = await makeModel({ arch, preset: 'tiny', outDir, seed: 11 });
    const folder = await inspectModelFolder(outDir);
    try {
      assert.deepEqual(folder.warnings, []);
      assert.equal(folder.spec.architecture, arch);
      assert.deepEqual({ ...folder.spec, eosTokenIds: [] }, { ...made.spec, eosTokenIds: [] });
      assert.equal(folder.spec.vocabSize % 64, 0);
      assert.ok(folder.spec.vocabSize >= made.tokenizerSize);
      assert.equal(folder.weights.tensors.size, expectedTensors(folder.spec).length);

      const tokenizer = await TextTokenizer.fromFolder(outDir);
      assert.ok(tokenizer.size <= folder.spec.vocabSize, 'every token id has an embedding row');
      for (const id of folder.spec.eosTokenIds) assert.ok(id < tokenizer.size);
      assert.ok(tokenizer.eosIds.every((id) => folder.spec.eosTokenIds.includes(id)));

      const config = JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8'));
      assert.deepEqual(Object.keys(config), Object.keys(config).sort(), 'keys sorted as save_pretrained writes them');
      assert.equal(config.model_type, arch);
      assert.equal(config.torch_dtype, 'float32');
      assert.match(config.architectures[0], /ForCausalLM$/);
    } finally {
      await folder.weights.close();
    }
  });
}

test('family features of the tiny presets show up in the spec', () => {
  const spec = (arch: (typeof SUPPORTED_ARCHITECTURES)[number]) => parseConfig(presetConfig({ arch, preset: 'tiny' }));
  assert.equal(spec('qwen2').attentionBias, true);
  assert.equal(spec('qwen3').qkNorm, true);
  assert.notEqual(spec('qwen3').headDim, 64 / 4, 'qwen3 gets an explicit head_dim unlike hidden / heads');
  assert.deepEqual(spec('mistral').slidingWindows, [32, 32, 32, 32]);
  assert.deepEqual(spec('gemma2').slidingWindows, [32, null, 32, null]);
  assert.equal(spec('gemma2').tieWordEmbeddings, true);
  assert.equal(spec('llama').ropeScaling.kind, 'llama3');
});

test('the named presets have the real models\' shapes', () => {
  const count = (preset: Parameters<typeof presetConfig>[0]['preset']) => {
    const spec = parseConfig(presetConfig({ preset }));
    return { spec, params: expectedTensors(spec).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0) };
  };
  const qwen05 = count('qwen2.5-0.5b');
  assert.equal(qwen05.params, 494_032_768); // Qwen2.5-0.5B's published parameter count
  assert.deepEqual(
    [qwen05.spec.hiddenSize, qwen05.spec.numLayers, qwen05.spec.numHeads, qwen05.spec.numKvHeads, qwen05.spec.intermediateSize, qwen05.spec.vocabSize],
    [896, 24, 14, 2, 4864, 151936],
  );
  assert.equal(qwen05.spec.tieWordEmbeddings, true);
  assert.equal(qwen05.spec.ropeTheta, 1e6);
  assert.equal(qwen05.spec.attentionBias, true);
  assert.equal(count('qwen2.5-1.5b').params, 1_543_714_304); // Qwen2.5-1.5B
  const llama = count('llama-3.2-1b');
  assert.equal(llama.params, 1_235_814_400); // Llama-3.2-1B
  assert.deepEqual(llama.spec.ropeScaling, { kind: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  assert.equal(llama.spec.ropeTheta, 5e5);
  assert.equal(llama.spec.headDim, 64);
  const qwen3 = count('qwen3-0.6b');
  assert.equal(qwen3.params, 596_049_920); // Qwen3-0.6B
  assert.equal(qwen3.spec.headDim, 128);
  assert.equal(qwen3.spec.qkNorm, true);

  // The papers' models, as published (parameter counts of their model cards' safetensors).
  const r1Small = count('r1-distill-qwen-1.5b');
  assert.equal(r1Small.params, 1_777_088_000);
  assert.equal(r1Small.spec.ropeTheta, 1e4);
  const r1 = count('r1-distill-qwen-7b');
  assert.equal(r1.params, 7_615_616_512);
  assert.deepEqual([r1.spec.hiddenSize, r1.spec.numLayers, r1.spec.numHeads, r1.spec.numKvHeads, r1.spec.vocabSize, r1.spec.maxPositions], [3584, 28, 28, 4, 152064, 131072]);
  assert.equal(r1.spec.tieWordEmbeddings, false);
  assert.equal(r1.spec.ropeTheta, 1e4);
  assert.ok(r1.spec.slidingWindows.every((w) => w === null), 'use_sliding_window is false');
  const r1Llama = count('r1-distill-llama-8b');
  assert.equal(r1Llama.params, 8_030_261_248);
  assert.deepEqual(r1Llama.spec.ropeScaling, { kind: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  const qwen3Large = count('qwen3-8b');
  assert.equal(qwen3Large.params, 8_190_735_360);
  for (const preset of ['r1-distill-qwen-1.5b', 'r1-distill-qwen-7b', 'r1-distill-llama-8b', 'qwen3-8b'] as const) {
    assert.equal(presetConfig({ preset }).torch_dtype, 'bfloat16', `${preset} is stored in bfloat16 by default`);
  }
  assert.equal(presetConfig({ preset: 'r1-distill-qwen-7b', dtype: 'F32' }).torch_dtype, 'float32');
});

test('bad preset, arch or dtype is refused with the choices', () => {
  assert.throws(() => presetConfig({ preset: 'qwen2.5-0.5b', arch: 'llama' }), /preset "qwen2.5-0.5b" is a qwen2 model, so arch "llama" does not apply/);
  assert.throws(() => presetConfig({ preset: 'huge' as never }), /unknown preset "huge"; choose one of: tiny, qwen2.5-0.5b/);
  assert.throws(() => presetConfig({ preset: 'tiny', arch: 'gpt2' as never }), /unknown arch "gpt2"; choose one of: qwen2, llama/);
  assert.throws(() => presetConfig({ preset: 'tiny', dtype: 'F64' as never }), /dtype "F64" is not supported; choose F32, F16 or BF16/);
});

test('the same seed writes the same weights; another seed writes others', async () => {
  const read = async (seed: number, name: string) => {
    const outDir = join(root, name);
    await makeModel({ arch: 'llama', preset: 'tiny', outDir, seed });
    return readFile(join(outDir, 'model.safetensors'));
  };
  const [a, b, c] = [await read(5, 'seed-a'), await read(5, 'seed-b'), await read(6, 'seed-c')];
  assert.ok(a.equals(b));
  assert.equal(a.length, c.length);
  assert.ok(!a.equals(c));
});

test('weights have the documented scales: matrices σ = max(0.02, 0.5/√hidden), norm gains near 1', async () => {
  const outDir = join(root, 'scales');
  await makeModel({ arch: 'qwen2', preset: 'tiny', outDir, seed: 2 });
  const file = await openSafetensors(join(outDir, 'model.safetensors'));
  try {
    const up = meanAndStd(await file.readFloat32('model.layers.0.mlp.up_proj.weight'));
    assert.ok(Math.abs(up.mean) < 0.003 && Math.abs(up.std - 0.5 / 8) < 0.002, JSON.stringify(up));
    const norm = meanAndStd(await file.readFloat32('model.layers.3.input_layernorm.weight'));
    assert.ok(Math.abs(norm.mean - 1) < 0.01 && norm.std > 0.01 && norm.std < 0.03, JSON.stringify(norm));
  } finally {
    await file.close();
  }
  const gemmaDir = join(root, 'gemma-scales');
  await makeModel({ arch: 'gemma2', preset: 'tiny', outDir: gemmaDir, seed: 2 });
  const gemma = await openSafetensors(join(gemmaDir, 'model.safetensors'));
  // Gemma applies (1 + w), so its stored w sits near 0.
  assert.ok(Math.abs(meanAndStd(await gemma.readFloat32('model.norm.weight')).mean) < 0.01);
  await gemma.close();
});

test('BF16 output stores bfloat16 tensors and says so in config.json', async () => {
  const outDir = join(root, 'bf16');
  await makeModel({ arch: 'qwen3', preset: 'tiny', outDir, seed: 1, dtype: 'BF16' });
  const folder = await inspectModelFolder(outDir);
  try {
    assert.ok([...folder.weights.tensors.values()].every((t) => t.dtype === 'BF16'));
    assert.equal(JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8')).torch_dtype, 'bfloat16');
    const values = await folder.weights.readFloat32('model.layers.0.self_attn.q_norm.weight');
    assert.ok(values.every((v) => Math.abs(v - 1) < 0.2));
  } finally {
    await folder.weights.close();
  }
});

test('the reasoning switch controls whether the assistant turn opens with <think>', async () => {
  const outDir = join(root, 'plain-chat');
  await makeModel({ arch: 'qwen2', preset: 'tiny', outDir, seed: 1, reasoning: false });
  const tokenizer = await TextTokenizer.fromFolder(outDir);
  const prompt = tokenizer.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true });
  assert.ok(prompt.endsWith('<|im_start|>assistant\n'));
});

test('the tokenizer learns a deterministic set of merges, blank-line tokens included', () => {
  const merges = learnMerges(TRAINING_CORPUS, 5000);
  assert.deepEqual(learnMerges(TRAINING_CORPUS, 5000), merges);
  assert.ok(merges.length >= 300 && merges.length <= 3000, `${merges.length} merges`);
  const vocab = (trainedTokenizer().tokenizerJson.model as { vocab: Record<string, number> }).vocab;
  assert.ok('ĊĊ' in vocab && '.ĊĊ' in vocab, 'byte-level spellings of "\\n\\n" and ".\\n\\n"');
  assert.equal(Object.keys(vocab).length, 256 + merges.length);
});

test('make-model reports progress per tensor, and a cancelled run leaves no model behind', async () => {
  const updates: number[] = [];
  const out = join(root, 'progress');
  await makeModel({ preset: 'tiny', arch: 'llama', outDir: out, seed: 1, report: (u) => updates.push(u.done) });
  assert.ok(updates.length > 10 && updates.every((d, i) => i === 0 || d > updates[i - 1]), 'one report per tensor, in order');

  const controller = new AbortController();
  const cancelled = join(root, 'cancelled');
  await assert.rejects(
    makeModel({ preset: 'tiny', arch: 'llama', outDir: cancelled, seed: 1, signal: controller.signal, report: (u) => u.done === 3 && controller.abort() }),
    { name: 'CancelledError' },
  );
  assert.deepEqual(await readdir(cancelled), [], 'no config.json, no weights, no temporary file');
});
