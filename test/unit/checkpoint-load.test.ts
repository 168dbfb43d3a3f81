import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { openCheckpointWeights } from '../../extension/engine/checkpoint/weights';
import { openSafetensors, writeSafetensors, type TensorToWrite } from '../../extension/engine/checkpoint/safetensors';
import { CheckpointError } from '../../extension/engine/checkpoint/errors';
import { makeModel } from '../../extension/engine/make-model/make-model';

const KIT = resolve(__dirname, '..', '..', '..', 'shared', 'conformance', 'models');
const kitMissing = existsSync(KIT) ? false : `conformance kit not found at ${KIT}`;
if (kitMissing) console.warn(`\n!!! SKIPPING conformance loading tests: ${kitMissing}\n`);
const KIT_MODELS = { qwen2: 'qwen2', qwen2_tied_bf16: 'qwen2', llama: 'llama', llama3_rope_f16: 'llama', mistral: 'mistral', qwen3: 'qwen3', gemma2: 'gemma2' };

let root: string;
let model: string; // a complete generated qwen2 folder that the hostile cases start from
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'checkpoint-load-test-'));
  model = join(root, 'model');
  await makeModel({ arch: 'qwen2', preset: 'tiny', outDir: model, seed: 3 });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let copies = 0;
async function copyOf(source: string): Promise<string> {
  const dir = join(root, `copy-${copies++}`);
  await cp(source, dir, { recursive: true });
  return dir;
}

/** Rewrites dir/model.safetensors (or writes `target`) after `edit` changes the list of tensors. */
async function rewriteWeights(dir: string, edit: (tensors: TensorToWrite[]) => TensorToWrite[], target = 'model.safetensors') {
  const file = await openSafetensors(join(dir, 'model.safetensors'));
  const tensors: TensorToWrite[] = [];
  for (const [name, info] of file.tensors) {
    tensors.push({ name, dtype: 'F32', shape: info.shape, data: await file.readFloat32(name) });
  }
  await file.close();
  await writeSafetensors(join(dir, target), edit(tensors));
}

async function editConfig(dir: string, edit: (config: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, 'config.json');
  const config = JSON.parse(await readFile(path, 'utf8'));
  edit(config);
  await writeFile(path, JSON.stringify(config));
}

async function fails(dir: string, message: RegExp, options = {}): Promise<void> {
  await assert.rejects(inspectModelFolder(dir, options), (e: Error) => {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${e.name}: ${e.message}`);
    assert.match(e.message, message);
    return true;
  });
}

for (const [name, architecture] of Object.entries(KIT_MODELS)) {
  test(`conformance ${name} passes every check`, { skip: kitMissing }, async () => {
    const folder = await inspectModelFolder(join(KIT, name), { requireTokenizer: false });
    try {
      assert.equal(folder.spec.architecture, architecture);
      assert.deepEqual(folder.warnings, []);
      assert.equal(folder.tokenizerFiles, null);
      assert.equal(folder.weights.tensors.has('lm_head.weight'), !folder.spec.tieWordEmbeddings);
    } finally {
      await folder.weights.close();
    }
  });
}

test('a complete folder yields spec, weights and tokenizer files; generation_config eos ids are merged', async () => {
  const folder = await inspectModelFolder(model);
  try {
    assert.equal(folder.spec.architecture, 'qwen2');
    assert.equal(folder.tokenizerFiles?.tokenizerJson, join(model, 'tokenizer.json'));
    assert.equal(folder.tokenizerFiles?.tokenizerConfigJson, join(model, 'tokenizer_config.json'));
    const generation = JSON.parse(await readFile(join(model, 'generation_config.json'), 'utf8'));
    for (const id of generation.eos_token_id) assert.ok(folder.spec.eosTokenIds.includes(id));
    assert.equal((await folder.weights.readFloat32('model.norm.weight')).length, folder.spec.hiddenSize);
  } finally {
    await folder.weights.close();
  }
});

test('not a folder', async () => {
  await fails(join(root, 'does-not-exist'), /is not a folder; expected a Hugging Face model folder/);
});

test('missing or malformed config.json names the file', async () => {
  const missing = await copyOf(model);
  await unlink(join(missing, 'config.json'));
  await fails(missing, /config.json is missing: it holds the model configuration/);
  const malformed = await copyOf(model);
  await writeFile(join(malformed, 'config.json'), '{"model_type": "qwen2",');
  await fails(malformed, /config.json is not valid JSON/);
});

test('unknown architecture lists the supported ones', async () => {
  const dir = await copyOf(model);
  await editConfig(dir, (c) => (c.model_type = 'phi3'));
  await fails(dir, /model_type "phi3" is not supported; supported model types: qwen2, llama, mistral, qwen3, gemma2/);
});

test('no tokenizer.json is an error unless the caller allows weight-only folders', async () => {
  const dir = await copyOf(model);
  await unlink(join(dir, 'tokenizer.json'));
  await fails(dir, /has no tokenizer.json; a Hugging Face "fast" tokenizer file is required/);
  const folder = await inspectModelFolder(dir, { requireTokenizer: false });
  assert.equal(folder.tokenizerFiles, null);
  await folder.weights.close();
});

test('missing weights say which files are supported', async () => {
  const dir = await copyOf(model);
  await unlink(join(dir, 'model.safetensors'));
  await fails(dir, /no model.safetensors or model.safetensors.index.json\.$/);
  await writeFile(join(dir, 'pytorch_model.bin'), 'x');
  await fails(dir, /found pytorch_model.bin; only safetensors weights with those names are supported/);
});

test('a truncated weights file is caught up front', async () => {
  const dir = await copyOf(model);
  await truncate(join(dir, 'model.safetensors'), 20000);
  await fails(dir, /outside the \d+-byte data section \(truncated or corrupt file\)/);
  await truncate(join(dir, 'model.safetensors'), 100);
  await fails(dir, /header length \d+ runs past the end of the 100-byte file/);
});

test('a malformed safetensors header is caught up front', async () => {
  const dir = await copyOf(model);
  const path = join(dir, 'model.safetensors');
  const bytes = await readFile(path);
  bytes.write('!', 8); // the header's opening brace
  await writeFile(path, bytes);
  await fails(dir, /model.safetensors: the safetensors header is not valid JSON/);
});

test('a missing tensor is named', async () => {
  const dir = await copyOf(model);
  await rewriteWeights(dir, (ts) => ts.filter((t) => t.name !== 'model.layers.2.mlp.up_proj.weight'));
  await fails(dir, /lack 1 tensor\(s\) that a qwen2 with 4 layers needs: model.layers.2.mlp.up_proj.weight\./);
});

test('an untied model without lm_head.weight says why it is needed', async () => {
  const dir = await copyOf(model);
  await rewriteWeights(dir, (ts) => ts.filter((t) => t.name !== 'lm_head.weight'));
  await fails(dir, /lm_head.weight \(tie_word_embeddings is false, so lm_head.weight must be stored\)/);
});

test('shapes that disagree with config.json are listed', async () => {
  const dir = await copyOf(model);
  await editConfig(dir, (c) => (c.intermediate_size = 256));
  await fails(dir, /do not match config.json: "model.layers.0.mlp.gate_proj.weight" has shape \[128, 64\], config.json implies \[256, 64\].* and \d+ more/);
});

test('tensors the architecture does not use are only a warning', async () => {
  const dir = await copyOf(model);
  await rewriteWeights(dir, (ts) => [...ts, { name: 'model.rotary_emb.inv_freq', dtype: 'F32', shape: [8], data: new Float32Array(8) }]);
  const folder = await inspectModelFolder(dir);
  assert.deepEqual(folder.warnings, ['1 tensor(s) in the weights are not used by a qwen2 with 4 layers: model.rotary_emb.inv_freq.']);
  await folder.weights.close();
});

/** Splits dir/model.safetensors into two shards plus an index, removing the single file. */
async function shard(dir: string): Promise<Record<string, string>> {
  const names: string[] = [];
  await rewriteWeights(dir, (ts) => (names.push(...ts.map((t) => t.name)), ts.filter((t) => t.name.includes('layers.'))), 'model-00001-of-00002.safetensors');
  await rewriteWeights(dir, (ts) => ts.filter((t) => !t.name.includes('layers.')), 'model-00002-of-00002.safetensors');
  await unlink(join(dir, 'model.safetensors'));
  const weightMap = Object.fromEntries(names.map((n) => [n, n.includes('layers.') ? 'model-00001-of-00002.safetensors' : 'model-00002-of-00002.safetensors']));
  await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  return weightMap;
}

test('sharded weights expose the union of their shards, read the same values, and fingerprint stably', async () => {
  const dir = await copyOf(model);
  await shard(dir);
  const single = await openCheckpointWeights(model);
  const folder = await inspectModelFolder(dir);
  try {
    assert.equal(folder.weights.files.length, 2);
    assert.deepEqual([...folder.weights.tensors.keys()].sort(), [...single.tensors.keys()].sort());
    for (const name of ['model.layers.1.self_attn.q_proj.bias', 'model.embed_tokens.weight']) {
      assert.deepEqual(await folder.weights.readFloat32(name), await single.readFloat32(name));
    }
    assert.match(folder.weights.tensors.get('model.norm.weight')!.file, /model-00002-of-00002\.safetensors$/);
    const again = await openCheckpointWeights(dir);
    const memo = join(root, 'hashes');
    assert.equal(await again.contentHash(memo), await folder.weights.contentHash(memo));
    assert.notEqual(await single.contentHash(memo), await folder.weights.contentHash(memo));
    await again.close();
  } finally {
    await single.close();
    await folder.weights.close();
  }
});

test('fingerprints tell apart weights with identical headers', async () => {
  const reseeded = join(root, 'reseeded');
  await makeModel({ arch: 'qwen2', preset: 'tiny', outDir: reseeded, seed: 4 });
  const [a, b] = [await openCheckpointWeights(model), await openCheckpointWeights(reseeded)];
  assert.deepEqual(a.files[0].headerBytes, b.files[0].headerBytes);
  assert.notEqual(await a.contentHash(join(root, 'hashes')), await b.contentHash(join(root, 'hashes')));
  await Promise.all([a.close(), b.close()]);
});

test('a missing shard, a shard lacking its tensor, and a shard outside the folder are refused', async () => {
  const missing = await copyOf(model);
  await shard(missing);
  await unlink(join(missing, 'model-00002-of-00002.safetensors'));
  await fails(missing, /lists shard files that are missing from the folder: model-00002-of-00002.safetensors/);

  const wrongShard = await copyOf(model);
  const weightMap = await shard(wrongShard);
  weightMap['model.norm.weight'] = 'model-00001-of-00002.safetensors';
  await writeFile(join(wrongShard, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  await fails(wrongShard, /maps "model.norm.weight" to model-00001-of-00002.safetensors, but that shard has no such tensor/);

  weightMap['model.norm.weight'] = '../model/model.safetensors';
  await writeFile(join(wrongShard, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  await fails(wrongShard, /expected a .safetensors file name in the same folder/);

  await writeFile(join(wrongShard, 'model.safetensors.index.json'), '{"weight_map": ');
  await fails(wrongShard, /model.safetensors.index.json is not valid JSON/);
});
