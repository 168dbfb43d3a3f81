// config.json → ModelSpec. Defaults follow each family's transformers config class, so a config.json
// that omits a field means what it means to transformers.
import { SUPPORTED_ARCHITECTURES, type Architecture, type ModelSpec, type RopeScaling } from '../../common/model-spec';
import { CheckpointError } from './errors';

type Json = Record<string, unknown>;

interface FamilyDefaults {
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** head_dim when config.json has none; null means hidden_size / num_attention_heads. */
  headDim: number | null;
  /** The family reads head_dim from config.json (qwen2 always uses hidden / heads). */
  readsHeadDim: boolean;
}

const FAMILY_DEFAULTS: Record<Architecture, FamilyDefaults> = {
  qwen2: { maxPositions: 32768, tieWordEmbeddings: false, headDim: null, readsHeadDim: false },
  llama: { maxPositions: 2048, tieWordEmbeddings: false, headDim: null, readsHeadDim: true },
  mistral: { maxPositions: 131072, tieWordEmbeddings: false, headDim: null, readsHeadDim: true },
  qwen3: { maxPositions: 32768, tieWordEmbeddings: false, headDim: 128, readsHeadDim: true },
  gemma2: { maxPositions: 8192, tieWordEmbeddings: true, headDim: 256, readsHeadDim: true },
};

const SUPPORTED_LIST = SUPPORTED_ARCHITECTURES.join(', ');

/**
 * Far beyond any published model: a config.json with larger values is damaged or hostile, and is
 * refused before anything is sized by it (10 million layers would exhaust memory just listing tensors).
 */
const SIZE_LIMITS: Partial<Record<keyof ModelSpec, [number, string]>> = {
  numLayers: [1024, 'num_hidden_layers'],
  hiddenSize: [131072, 'hidden_size'],
  intermediateSize: [1 << 20, 'intermediate_size'],
  vocabSize: [1 << 23, 'vocab_size'],
  numHeads: [4096, 'num_attention_heads'],
  headDim: [8192, 'head_dim'],
  maxPositions: [1 << 24, 'max_position_embeddings'],
};

function refuseAbsurdSizes(spec: ModelSpec, source: string): void {
  for (const [key, [limit, field]] of Object.entries(SIZE_LIMITS) as [keyof ModelSpec, [number, string]][]) {
    const value = spec[key] as number;
    if (value > limit) throw new CheckpointError(`${source}: ${field} is ${value}, more than any model has (at most ${limit} is accepted); the file is damaged or not a model's configuration.`);
  }
}

/** Parses a decoded config.json. `source` names the file in error messages. */
export function parseConfig(json: unknown, source = 'config.json'): ModelSpec {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(`${source}: expected a JSON object with the model's hyper-parameters.`);
  }
  const cfg = json as Json;
  const fields = new FieldReader(cfg, source);
  const architecture = readArchitecture(cfg, source);
  const defaults = FAMILY_DEFAULTS[architecture];

  const hiddenSize = fields.positiveInt('hidden_size');
  const numHeads = fields.positiveInt('num_attention_heads');
  const numKvHeads = fields.positiveInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new CheckpointError(
      `${source}: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads}).`,
    );
  }
  const headDim = readHeadDim(fields, defaults, hiddenSize, numHeads, source);
  const numLayers = fields.positiveInt('num_hidden_layers');
  const isGemma = architecture === 'gemma2';

  rejectUnsupportedBiases(fields, architecture, source);

  const spec: ModelSpec = {
    architecture,
    vocabSize: fields.positiveInt('vocab_size'),
    hiddenSize,
    intermediateSize: fields.positiveInt('intermediate_size'),
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    maxPositions: fields.positiveInt('max_position_embeddings', defaults.maxPositions),
    rmsNormEps: fields.positiveNumber('rms_norm_eps', 1e-6),
    ...readRope(cfg, fields, source),
    attentionBias: architecture === 'qwen2',
    qkNorm: architecture === 'qwen3',
    normAddsOne: isGemma,
    sandwichNorms: isGemma,
    // transformers casts sqrt(hidden) to the compute dtype before multiplying.
    embeddingMultiplier: isGemma ? Math.fround(Math.sqrt(hiddenSize)) : 1,
    attentionScale: isGemma ? fields.positiveNumber('query_pre_attn_scalar', 256) ** -0.5 : 1 / Math.sqrt(headDim),
    attnLogitSoftcap: isGemma ? fields.optionalPositiveNumber('attn_logit_softcapping', 50) : null,
    finalLogitSoftcap: isGemma ? fields.optionalPositiveNumber('final_logit_softcapping', 30) : null,
    slidingWindows: readSlidingWindows(fields, architecture, numLayers),
    activation: readActivation(fields, architecture, source),
    tieWordEmbeddings: fields.boolean('tie_word_embeddings', defaults.tieWordEmbeddings),
    bosTokenId: fields.optionalTokenId('bos_token_id'),
    eosTokenIds: readTokenIds(cfg.eos_token_id, 'eos_token_id', source),
  };
  refuseAbsurdSizes(spec, source);
  return spec;
}

function readArchitecture(cfg: Json, source: string): Architecture {
  const modelType = cfg.model_type;
  if (typeof modelType !== 'string') {
    throw new CheckpointError(`${source} has no "model_type" string; supported model types: ${SUPPORTED_LIST}.`);
  }
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(modelType)) {
    throw new CheckpointError(
      `${source}: model_type "${modelType}" is not supported; supported model types: ${SUPPORTED_LIST}.`,
    );
  }
  return modelType as Architecture;
}

function readHeadDim(fields: FieldReader, defaults: FamilyDefaults, hidden: number, heads: number, source: string): number {
  const fromConfig = defaults.readsHeadDim ? fields.optionalPositiveInt('head_dim') : null;
  if (fromConfig !== null) return fromConfig;
  if (defaults.headDim !== null) return defaults.headDim;
  if (hidden % heads !== 0) {
    throw new CheckpointError(
      `${source}: hidden_size (${hidden}) is not a multiple of num_attention_heads (${heads}) and there is no head_dim.`,
    );
  }
  return hidden / heads;
}

/** Only qwen2's q/k/v biases are modelled; other families' optional biases are rejected, not ignored. */
function rejectUnsupportedBiases(fields: FieldReader, architecture: Architecture, source: string): void {
  for (const key of ['attention_bias', 'mlp_bias']) {
    if (architecture !== 'qwen2' && fields.boolean(key, false)) {
      throw new CheckpointError(`${source}: ${key}: true is not supported for model_type "${architecture}" (only false).`);
    }
  }
}

/** Keys each RoPE kind reads; any other key would be silently ignored, so it is refused. */
const ROPE_KEYS: Record<string, readonly string[]> = {
  default: [],
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
};

/**
 * RoPE's base and scaling: transformers 5 saves them together as `rope_parameters` ({rope_type,
 * rope_theta, …}); earlier versions as `rope_theta` and `rope_scaling`. A key the engine would not
 * apply is an error, never a silent default.
 */
function readRope(cfg: Json, fields: FieldReader, source: string): { ropeTheta: number; ropeScaling: RopeScaling } {
  const parameters = cfg.rope_parameters;
  if (parameters === undefined || parameters === null) {
    return { ropeTheta: fields.positiveNumber('rope_theta', 10000), ropeScaling: readRopeScaling(cfg.rope_scaling, `${source} rope_scaling`, []) };
  }
  if (typeof parameters !== 'object' || Array.isArray(parameters)) throw new CheckpointError(`${source}: rope_parameters must be an object.`);
  const at = `${source} rope_parameters`;
  const ropeTheta = new FieldReader(parameters as Json, at).positiveNumber('rope_theta');
  for (const [key, value] of [['rope_theta', cfg.rope_theta], ['rope_scaling', cfg.rope_scaling]] as const) {
    if (value !== undefined && value !== null && key === 'rope_theta' && value !== ropeTheta) {
      throw new CheckpointError(`${source}: rope_theta (${String(value)}) and rope_parameters.rope_theta (${ropeTheta}) disagree; keep one.`);
    }
    if (value !== undefined && value !== null && key === 'rope_scaling') throw new CheckpointError(`${source}: both rope_scaling and rope_parameters are set; keep rope_parameters.`);
  }
  return { ropeTheta, ropeScaling: readRopeScaling(parameters, at, ['rope_theta']) };
}

function readRopeScaling(raw: unknown, at: string, alsoAllowed: readonly string[]): RopeScaling {
  if (raw === undefined || raw === null) return { kind: 'none' };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CheckpointError(`${at} must be an object or null.`);
  }
  const scaling = new FieldReader(raw as Json, at);
  // Older configs name the kind "type"; newer ones "rope_type".
  const kind = (raw as Json).rope_type ?? (raw as Json).type ?? 'default';
  const known = typeof kind === 'string' ? ROPE_KEYS[kind] : undefined;
  if (!known) {
    throw new CheckpointError(`${at}: RoPE type ${JSON.stringify(kind)} is not supported; supported: default, linear, llama3.`);
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'rope_type' && key !== 'type' && !known.includes(key) && !alsoAllowed.includes(key)) {
      throw new CheckpointError(`${at}: "${key}" is not read for RoPE type "${kind}" (it would be ignored, changing the model); supported keys: ${['rope_type', ...alsoAllowed, ...known].join(', ')}.`);
    }
  }
  switch (kind) {
    case 'linear':
      return { kind: 'linear', factor: scaling.positiveNumber('factor') };
    case 'llama3':
      return {
        kind: 'llama3',
        factor: scaling.positiveNumber('factor'),
        lowFreqFactor: scaling.positiveNumber('low_freq_factor'),
        highFreqFactor: scaling.positiveNumber('high_freq_factor'),
        originalMaxPositions: scaling.positiveInt('original_max_position_embeddings'),
      };
    default:
      return { kind: 'none' };
  }
}

function readSlidingWindows(fields: FieldReader, architecture: Architecture, numLayers: number): (number | null)[] {
  const layers = Array.from({ length: numLayers }, (_, l) => l);
  switch (architecture) {
    case 'llama':
      return layers.map(() => null);
    case 'mistral': {
      const window = fields.optionalPositiveInt('sliding_window');
      return layers.map(() => window);
    }
    case 'qwen2':
    case 'qwen3': {
      // Sliding attention only when use_sliding_window is set, and then only from max_window_layers on.
      if (!fields.boolean('use_sliding_window', false)) return layers.map(() => null);
      const window = fields.optionalPositiveInt('sliding_window');
      const firstSliding = fields.nonNegativeInt('max_window_layers', 28);
      return layers.map((l) => (l >= firstSliding ? window : null));
    }
    case 'gemma2': {
      // transformers 4.45: layers 0, 2, 4, … use the sliding window, odd layers attend globally.
      const window = fields.optionalPositiveInt('sliding_window', 4096);
      return layers.map((l) => (l % 2 === 0 ? window : null));
    }
  }
}

function readActivation(fields: FieldReader, architecture: Architecture, source: string): ModelSpec['activation'] {
  const key = architecture === 'gemma2' && fields.has('hidden_activation') ? 'hidden_activation' : 'hidden_act';
  const name = fields.string(key, architecture === 'gemma2' ? 'gelu_pytorch_tanh' : 'silu');
  if (name === 'silu' || name === 'swish') return 'silu';
  if (name === 'gelu_pytorch_tanh' || name === 'gelu_new' || name === 'gelu_fast') return 'gelu_tanh';
  throw new CheckpointError(`${source}: ${key} "${name}" is not supported; supported: silu, gelu_pytorch_tanh.`);
}

function readTokenIds(raw: unknown, key: string, source: string): number[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  if (!list.every((id) => Number.isInteger(id) && (id as number) >= 0)) {
    throw new CheckpointError(`${source}: ${key} must be a token id or a list of token ids, got ${JSON.stringify(raw)}.`);
  }
  return [...new Set(list as number[])];
}

/** Typed access to config fields; every failure names the field and the expected type. */
class FieldReader {
  constructor(
    private readonly obj: Json,
    private readonly source: string,
  ) {}

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  positiveInt(key: string, fallback?: number): number {
    return this.check(key, fallback, (v) => Number.isInteger(v) && (v as number) > 0, 'a positive integer') as number;
  }

  nonNegativeInt(key: string, fallback?: number): number {
    return this.check(key, fallback, (v) => Number.isInteger(v) && (v as number) >= 0, 'a non-negative integer') as number;
  }

  positiveNumber(key: string, fallback?: number): number {
    return this.check(key, fallback, (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, 'a positive number') as number;
  }

  optionalPositiveInt(key: string, fallback: number | null = null): number | null {
    if (!(key in this.obj)) return fallback;
    return this.obj[key] === null ? null : this.positiveInt(key);
  }

  optionalPositiveNumber(key: string, fallback: number | null): number | null {
    if (!(key in this.obj)) return fallback;
    return this.obj[key] === null ? null : this.positiveNumber(key);
  }

  optionalTokenId(key: string): number | null {
    if (!this.has(key)) return null;
    return this.nonNegativeInt(key);
  }

  boolean(key: string, fallback: boolean): boolean {
    return this.check(key, fallback, (v) => typeof v === 'boolean', 'true or false') as boolean;
  }

  string(key: string, fallback: string): string {
    return this.check(key, fallback, (v) => typeof v === 'string', 'a string') as string;
  }

  private check(key: string, fallback: unknown, valid: (v: unknown) => boolean, expected: string): unknown {
    const value = this.obj[key];
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback;
      throw new CheckpointError(`${this.source} is missing "${key}" (expected ${expected}).`);
    }
    if (!valid(value)) {
      throw new CheckpointError(`${this.source}: "${key}" must be ${expected}, got ${JSON.stringify(value)}.`);
    }
    return value;
  }
}
