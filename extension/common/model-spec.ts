// The normalized description of a decoder-only checkpoint. Parsed once from config.json; the graph
// builder reads only this, never the family name, wherever a feature can be described as data.

export const SUPPORTED_ARCHITECTURES = ['qwen2', 'llama', 'mistral', 'qwen3', 'gemma2'] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export type RopeScaling =
  | { kind: 'none' }
  | { kind: 'linear'; factor: number }
  | { kind: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface ModelSpec {
  architecture: Architecture;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  /** q/k/v projections carry biases (qwen2). */
  attentionBias: boolean;
  /** Per-head RMSNorm on q and k after projection, before RoPE (qwen3). */
  qkNorm: boolean;
  /** RMSNorm gain applied as (1 + w) (gemma). */
  normAddsOne: boolean;
  /** Extra norms after attention and after the MLP, before each residual add (gemma2). */
  sandwichNorms: boolean;
  /** Embeddings are multiplied by this (gemma2: sqrt(hidden)); 1 otherwise. */
  embeddingMultiplier: number;
  /** Multiplier on q·k (1/sqrt(head_dim), or query_pre_attn_scalar^-0.5 for gemma2). */
  attentionScale: number;
  attnLogitSoftcap: number | null;
  finalLogitSoftcap: number | null;
  /** Sliding window per layer (keys attended, including the query itself), null for full attention. */
  slidingWindows: (number | null)[];
  activation: 'silu' | 'gelu_tanh';
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

/** The HF tensor names and shapes a checkpoint of this spec must contain. */
export function expectedTensors(spec: ModelSpec): { name: string; shape: number[] }[] {
  const { hiddenSize: h, intermediateSize: f, numHeads, numKvHeads, headDim: d, vocabSize: v } = spec;
  const tensors: { name: string; shape: number[] }[] = [{ name: 'model.embed_tokens.weight', shape: [v, h] }];
  for (let l = 0; l < spec.numLayers; l++) {
    const p = `model.layers.${l}`;
    tensors.push(
      { name: `${p}.input_layernorm.weight`, shape: [h] },
      { name: `${p}.self_attn.q_proj.weight`, shape: [numHeads * d, h] },
      { name: `${p}.self_attn.k_proj.weight`, shape: [numKvHeads * d, h] },
      { name: `${p}.self_attn.v_proj.weight`, shape: [numKvHeads * d, h] },
      { name: `${p}.self_attn.o_proj.weight`, shape: [h, numHeads * d] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [h] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [f, h] },
      { name: `${p}.mlp.up_proj.weight`, shape: [f, h] },
      { name: `${p}.mlp.down_proj.weight`, shape: [h, f] },
    );
    if (spec.attentionBias) {
      tensors.push(
        { name: `${p}.self_attn.q_proj.bias`, shape: [numHeads * d] },
        { name: `${p}.self_attn.k_proj.bias`, shape: [numKvHeads * d] },
        { name: `${p}.self_attn.v_proj.bias`, shape: [numKvHeads * d] },
      );
    }
    if (spec.qkNorm) {
      tensors.push({ name: `${p}.self_attn.q_norm.weight`, shape: [d] }, { name: `${p}.self_attn.k_norm.weight`, shape: [d] });
    }
    if (spec.sandwichNorms) {
      tensors.push(
        { name: `${p}.pre_feedforward_layernorm.weight`, shape: [h] },
        { name: `${p}.post_feedforward_layernorm.weight`, shape: [h] },
      );
    }
  }
  tensors.push({ name: 'model.norm.weight', shape: [h] });
  if (!spec.tieWordEmbeddings) tensors.push({ name: 'lm_head.weight', shape: [v, h] });
  return tensors;
}
