// Model shapes that generated checkpoints can take, and the config.json each family's transformers
// config class would save for them (keys sorted, as save_pretrained writes them).
import type { Architecture } from '../../common/model-spec';

export const PRESET_NAMES = [
  'tiny',
  'qwen2.5-0.5b',
  'qwen2.5-1.5b',
  'llama-3.2-1b',
  'qwen3-0.6b',
  'r1-distill-qwen-1.5b',
  'r1-distill-qwen-7b',
  'r1-distill-llama-8b',
  'qwen3-8b',
] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Shape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  intermediateSize: number;
  /** Embedding rows; null means the tokenizer's size rounded up to a multiple of 64. */
  vocabSize: number | null;
  /** Explicit head_dim; null means hidden / heads (for qwen3, a tiny head_dim that differs from that). */
  headDim: number | null;
  maxPositions: number;
  tied: boolean;
  /** Reasoning models open the assistant turn with "<think>\n". */
  reasoning: boolean;
}

interface Preset {
  /** Fixed family, or null when the caller picks one (tiny). */
  arch: Architecture | null;
  shape: Shape;
  /** config.json fields where the model differs from its family's defaults below (RoPE base and scaling, windows). */
  config?: Record<string, unknown>;
  /** Stored weight type when none is asked for: bfloat16 for the billion-parameter models, as published. */
  dtype?: 'BF16';
}

export const PRESETS: Record<PresetName, Preset> = {
  tiny: {
    arch: null,
    shape: {
      hiddenSize: 64, numLayers: 4, numHeads: 4, numKvHeads: 2, intermediateSize: 128,
      vocabSize: null, headDim: null, maxPositions: 2048, tied: false, reasoning: true,
    },
  },
  'qwen2.5-0.5b': {
    arch: 'qwen2',
    shape: {
      hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2, intermediateSize: 4864,
      vocabSize: 151936, headDim: null, maxPositions: 32768, tied: true, reasoning: false,
    },
  },
  'qwen2.5-1.5b': {
    arch: 'qwen2',
    shape: {
      hiddenSize: 1536, numLayers: 28, numHeads: 12, numKvHeads: 2, intermediateSize: 8960,
      vocabSize: 151936, headDim: null, maxPositions: 32768, tied: true, reasoning: false,
    },
  },
  'llama-3.2-1b': {
    arch: 'llama',
    shape: {
      hiddenSize: 2048, numLayers: 16, numHeads: 32, numKvHeads: 8, intermediateSize: 8192,
      vocabSize: 128256, headDim: 64, maxPositions: 131072, tied: true, reasoning: false,
    },
  },
  'qwen3-0.6b': {
    arch: 'qwen3',
    shape: {
      hiddenSize: 1024, numLayers: 28, numHeads: 16, numKvHeads: 8, intermediateSize: 3072,
      vocabSize: 151936, headDim: 128, maxPositions: 40960, tied: true, reasoning: true,
    },
  },
  // The papers' models (DeepSeek-R1 distills and Qwen3-8B): their published config.json shapes.
  'r1-distill-qwen-1.5b': {
    arch: 'qwen2',
    shape: {
      hiddenSize: 1536, numLayers: 28, numHeads: 12, numKvHeads: 2, intermediateSize: 8960,
      vocabSize: 151936, headDim: null, maxPositions: 131072, tied: false, reasoning: true,
    },
    config: { rope_theta: 10000, sliding_window: 4096, max_window_layers: 21 },
    dtype: 'BF16',
  },
  'r1-distill-qwen-7b': {
    arch: 'qwen2',
    shape: {
      hiddenSize: 3584, numLayers: 28, numHeads: 28, numKvHeads: 4, intermediateSize: 18944,
      vocabSize: 152064, headDim: null, maxPositions: 131072, tied: false, reasoning: true,
    },
    config: { rope_theta: 10000, sliding_window: 4096, max_window_layers: 28 },
    dtype: 'BF16',
  },
  'r1-distill-llama-8b': {
    arch: 'llama',
    shape: {
      hiddenSize: 4096, numLayers: 32, numHeads: 32, numKvHeads: 8, intermediateSize: 14336,
      vocabSize: 128256, headDim: 128, maxPositions: 131072, tied: false, reasoning: true,
    },
    config: {
      rope_scaling: { factor: 8.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
    },
    dtype: 'BF16',
  },
  'qwen3-8b': {
    arch: 'qwen3',
    shape: {
      hiddenSize: 4096, numLayers: 36, numHeads: 32, numKvHeads: 8, intermediateSize: 12288,
      vocabSize: 151936, headDim: 128, maxPositions: 40960, tied: false, reasoning: true,
    },
    dtype: 'BF16',
  },
};

/** What tiny models use where the family has no fixed value: small enough that tests exercise it. */
const TINY = { slidingWindow: 32, qwen3HeadDim: 32 };

export interface ConfigInputs {
  arch: Architecture;
  preset: PresetName;
  shape: Shape;
  vocabSize: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
  torchDtype: 'float32' | 'float16' | 'bfloat16';
}

export const TRANSFORMERS_VERSION = '4.51.3';

/** config.json as transformers would save it for this family. */
export function hfConfig(inputs: ConfigInputs): Record<string, unknown> {
  const { arch, shape } = inputs;
  const common: Record<string, unknown> = {
    attention_dropout: 0.0,
    bos_token_id: inputs.bosTokenId,
    eos_token_id: inputs.eosTokenId,
    hidden_size: shape.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: shape.intermediateSize,
    max_position_embeddings: shape.maxPositions,
    model_type: arch,
    num_attention_heads: shape.numHeads,
    num_hidden_layers: shape.numLayers,
    num_key_value_heads: shape.numKvHeads,
    tie_word_embeddings: shape.tied,
    torch_dtype: inputs.torchDtype,
    transformers_version: TRANSFORMERS_VERSION,
    use_cache: true,
    vocab_size: inputs.vocabSize,
  };
  const headDim = shape.headDim ?? shape.hiddenSize / shape.numHeads;
  const family = familyFields(inputs, headDim);
  const own = PRESETS[inputs.preset].config ?? {};
  return Object.fromEntries(Object.entries({ ...common, ...family, ...own }).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function familyFields(inputs: ConfigInputs, headDim: number): Record<string, unknown> {
  const { arch, shape } = inputs;
  const tiny = inputs.preset === 'tiny';
  switch (arch) {
    case 'qwen2':
      return {
        architectures: ['Qwen2ForCausalLM'], hidden_act: 'silu', max_window_layers: tiny ? shape.numLayers : 21,
        rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 1000000.0, sliding_window: shape.maxPositions,
        use_sliding_window: false,
      };
    case 'qwen3':
      return {
        architectures: ['Qwen3ForCausalLM'], attention_bias: false, head_dim: shape.headDim ?? TINY.qwen3HeadDim,
        hidden_act: 'silu', max_window_layers: shape.numLayers, rms_norm_eps: 1e-6, rope_scaling: null,
        rope_theta: 1000000, sliding_window: null, use_sliding_window: false,
      };
    case 'llama':
      return {
        architectures: ['LlamaForCausalLM'], attention_bias: false, head_dim: headDim, hidden_act: 'silu',
        mlp_bias: false, pretraining_tp: 1, rms_norm_eps: 1e-5, rope_theta: 500000.0,
        rope_scaling: {
          factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0,
          original_max_position_embeddings: 8192, rope_type: 'llama3',
        },
      };
    case 'mistral':
      return {
        architectures: ['MistralForCausalLM'], head_dim: headDim, hidden_act: 'silu', rms_norm_eps: 1e-5,
        rope_theta: 10000.0, sliding_window: tiny ? TINY.slidingWindow : 4096,
      };
    case 'gemma2':
      return {
        architectures: ['Gemma2ForCausalLM'], attention_bias: false, attn_logit_softcapping: 50.0,
        cache_implementation: 'hybrid', final_logit_softcapping: 30.0, head_dim: headDim,
        hidden_activation: 'gelu_pytorch_tanh', pad_token_id: inputs.padTokenId, query_pre_attn_scalar: headDim,
        rms_norm_eps: 1e-6, rope_theta: 10000.0, sliding_window: tiny ? TINY.slidingWindow : 4096,
      };
  }
}
