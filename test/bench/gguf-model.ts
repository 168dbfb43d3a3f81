// Writes a qwen2 checkpoint as a llama.cpp model file (GGUF v3), so that llama.cpp runs the
// very weights the engine runs. Tensor names and metadata keys follow llama.cpp's (convert_hf_to_gguf.py,
// llama-arch.cpp): an HF weight [out, in] is the ggml tensor [in, out] with the same bytes. Matrices are
// stored in the chosen type, every matrix including the embedding (which is also the output layer when
// tied); norms and biases stay F32, as llama.cpp's own quantizer leaves them. The Q8_0 and Q4_0 blocks
// are those of ggml's reference quantizers (quantize_row_q8_0_ref, quantize_row_q4_0_ref). The file is
// written tensor by tensor under a temporary name and renamed when complete.

import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '../../extension/common/model-spec';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { f32ToF16 } from '../../extension/engine/checkpoint/dtypes';
import { GgmlType, ggmlBytes, ggufHeader, GgufType, type GgufTensorInfo, type GgufValue } from '../../extension/engine/directions/gguf';

export const GGUF_WEIGHTS = ['F32', 'F16', 'Q8_0', 'Q4_0'] as const;
export type GgufWeights = (typeof GGUF_WEIGHTS)[number];

const MATRIX_TYPE: Record<GgufWeights, GgmlType> = { F32: GgmlType.F32, F16: GgmlType.F16, Q8_0: GgmlType.Q8_0, Q4_0: GgmlType.Q4_0 };
/** general.file_type (llama_ftype): ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_Q4_0. */
const FILE_TYPE: Record<GgufWeights, number> = { F32: 0, F16: 1, Q8_0: 7, Q4_0: 2 };
const BLOCK = 32;

/** llama.cpp's token types. */
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_UNUSED = 5;

/** HF tensor name → llama.cpp's. */
function ggufName(hf: string): string {
  const fixed: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  if (fixed[hf]) return fixed[hf];
  const match = /^model\.layers\.(\d+)\.(.+)$/.exec(hf);
  const parts: Record<string, string> = {
    'input_layernorm.weight': 'attn_norm.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
    'self_attn.q_proj.weight': 'attn_q.weight',
    'self_attn.q_proj.bias': 'attn_q.bias',
    'self_attn.k_proj.weight': 'attn_k.weight',
    'self_attn.k_proj.bias': 'attn_k.bias',
    'self_attn.v_proj.weight': 'attn_v.weight',
    'self_attn.v_proj.bias': 'attn_v.bias',
    'self_attn.o_proj.weight': 'attn_output.weight',
    'mlp.gate_proj.weight': 'ffn_gate.weight',
    'mlp.up_proj.weight': 'ffn_up.weight',
    'mlp.down_proj.weight': 'ffn_down.weight',
  };
  if (!match || !parts[match[2]]) throw new Error(`no llama.cpp name for tensor ${hf}`);
  return `blk.${match[1]}.${parts[match[2]]}`;
}

function quantizeQ8_0(values: Float32Array): Uint8Array {
  const blocks = values.length / BLOCK;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(values[b * BLOCK + j]));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 34, f32ToF16(Float32Array.of(d))[0], true);
    for (let j = 0; j < BLOCK; j++) view.setInt8(b * 34 + 2 + j, roundAway(Math.fround(values[b * BLOCK + j] * id)));
  }
  return out;
}

function quantizeQ4_0(values: Float32Array): Uint8Array {
  const blocks = values.length / BLOCK;
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < BLOCK; j++) {
      const v = values[b * BLOCK + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 18, f32ToF16(Float32Array.of(d))[0], true);
    // Element j in the low nibble of byte j, element 16 + j in its high nibble; (int8)(x + 8.5) truncates.
    for (let j = 0; j < BLOCK / 2; j++) {
      const lo = Math.min(15, Math.trunc(Math.fround(Math.fround(values[b * BLOCK + j] * id) + 8.5)));
      const hi = Math.min(15, Math.trunc(Math.fround(Math.fround(values[b * BLOCK + 16 + j] * id) + 8.5)));
      out[b * 18 + 2 + j] = lo | (hi << 4);
    }
  }
  return out;
}

/** C's roundf: halves away from zero. */
function roundAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** A tensor's bytes in `type`, blocks running along its rows. */
export function encode(type: GgmlType, values: Float32Array): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case GgmlType.F16: {
      const half = f32ToF16(values);
      return new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    case GgmlType.Q4_0:
      return quantizeQ4_0(values);
  }
}

function architectureMetadata(spec: ModelSpec, name: string, weights: GgufWeights): [string, GgufValue][] {
  const arch = spec.architecture;
  if (arch !== 'qwen2') throw new Error(`the GGUF writer handles qwen2 checkpoints (the benchmark's), not ${arch}`);
  const u32 = (value: number): GgufValue => ({ type: GgufType.UINT32, value });
  const f32 = (value: number): GgufValue => ({ type: GgufType.FLOAT32, value });
  const entries: [string, GgufValue][] = [
    ['general.architecture', { type: GgufType.STRING, value: arch }],
    ['general.name', { type: GgufType.STRING, value: name }],
    ['general.file_type', u32(FILE_TYPE[weights])],
    [`${arch}.context_length`, u32(spec.maxPositions)],
    [`${arch}.embedding_length`, u32(spec.hiddenSize)],
    [`${arch}.block_count`, u32(spec.numLayers)],
    [`${arch}.feed_forward_length`, u32(spec.intermediateSize)],
    [`${arch}.attention.head_count`, u32(spec.numHeads)],
    [`${arch}.attention.head_count_kv`, u32(spec.numKvHeads)],
    [`${arch}.attention.key_length`, u32(spec.headDim)],
    [`${arch}.attention.value_length`, u32(spec.headDim)],
    [`${arch}.rope.freq_base`, f32(spec.ropeTheta)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(spec.rmsNormEps)],
  ];
  if (spec.ropeScaling.kind !== 'none') throw new Error('the GGUF writer does not write rope scaling');
  return entries;
}

/** The checkpoint's byte-level BPE vocabulary as llama.cpp's "gpt2" tokenizer, padded to the embedding rows. */
function tokenizerMetadata(tokenizerJson: string, spec: ModelSpec): [string, GgufValue][] {
  const parsed = JSON.parse(tokenizerJson) as {
    model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
    added_tokens?: { id: number; content: string; special?: boolean }[];
  };
  const tokens: string[] = Array.from({ length: spec.vocabSize }, (_, i) => `[PAD${i}]`);
  const types: number[] = Array<number>(spec.vocabSize).fill(TOKEN_UNUSED);
  for (const [text, id] of Object.entries(parsed.model.vocab)) {
    tokens[id] = text;
    types[id] = TOKEN_NORMAL;
  }
  for (const added of parsed.added_tokens ?? []) {
    tokens[added.id] = added.content;
    types[added.id] = added.special ? TOKEN_CONTROL : TOKEN_NORMAL;
  }
  const eos = spec.eosTokenIds[0] ?? 0;
  const array = (itemType: GgufType, value: (string | number)[]): GgufValue => ({ type: GgufType.ARRAY, itemType, value });
  return [
    ['tokenizer.ggml.model', { type: GgufType.STRING, value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: GgufType.STRING, value: 'qwen2' }],
    ['tokenizer.ggml.tokens', array(GgufType.STRING, tokens)],
    ['tokenizer.ggml.token_type', array(GgufType.INT32, types)],
    ['tokenizer.ggml.merges', array(GgufType.STRING, parsed.model.merges.map((m) => (typeof m === 'string' ? m : m.join(' '))))],
    ['tokenizer.ggml.eos_token_id', { type: GgufType.UINT32, value: eos }],
    ['tokenizer.ggml.padding_token_id', { type: GgufType.UINT32, value: eos }],
    ['tokenizer.ggml.bos_token_id', { type: GgufType.UINT32, value: spec.bosTokenId ?? eos }],
    ['tokenizer.ggml.add_bos_token', { type: GgufType.BOOL, value: false }],
  ];
}

/** Writes the checkpoint in `modelDir` to `out` as GGUF with matrices in `weights`. */
export async function writeGgufModel(modelDir: string, out: string, weights: GgufWeights, log: (line: string) => void = () => undefined): Promise<void> {
  const folder = await inspectModelFolder(modelDir);
  const { spec } = folder;
  try {
    const tokenizerJson = await readFile(folder.tokenizerFiles?.tokenizerJson ?? join(modelDir, 'tokenizer.json'), 'utf8');
    const sources = [...folder.weights.tensors.keys()].filter((name) => !(spec.tieWordEmbeddings && name === 'lm_head.weight'));
    const infos: (GgufTensorInfo & { source: string; shape: number[] })[] = sources.map((source) => {
      const shape = folder.weights.tensors.get(source)!.shape;
      const matrix = shape.length === 2 && shape[1] % BLOCK === 0;
      return { source, shape, name: ggufName(source), dims: [...shape].reverse(), type: matrix ? MATRIX_TYPE[weights] : GgmlType.F32 };
    });
    const metadata = [...architectureMetadata(spec, `thinkscope-bench-${spec.architecture}`, weights), ...tokenizerMetadata(tokenizerJson, spec)];
    const { header, offsets } = ggufHeader(metadata, infos);
    const partial = `${out}.partial`;
    const file = await open(partial, 'w');
    try {
      await file.write(header, 0, header.length, 0);
      log(`  writing ${out} (${infos.length} tensors)…`);
      for (const [i, info] of infos.entries()) {
        const data = await folder.weights.readFloat32(info.source);
        const bytes = encode(info.type, data);
        if (bytes.length !== ggmlBytes(info.type, data.length)) throw new Error(`tensor ${info.name}: encoded ${bytes.length} bytes`);
        await file.write(bytes, 0, bytes.length, header.length + offsets[i]);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(partial, out);
  } catch (error) {
    await rm(`${out}.partial`, { force: true });
    throw error;
  } finally {
    await folder.weights.close();
  }
}
