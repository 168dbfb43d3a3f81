// Writes a complete Hugging Face model folder with random weights: config.json, generation_config.json,
// model.safetensors, tokenizer.json and tokenizer_config.json. Weights are generated and written one
// chunk at a time, so even the billion-parameter presets never sit in memory whole.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SUPPORTED_ARCHITECTURES, expectedTensors, type Architecture, type ModelSpec } from '../../common/model-spec';
import { parseConfig } from '../checkpoint/config';
import { TextTokenizer } from '../checkpoint/tokenizer';
import { writeSafetensors, type TensorToWrite } from '../checkpoint/safetensors';
import { trainedTokenizer } from './bpe-tokenizer';
import { tokenizerConfig } from './chat-template';
import { throwIfCancelled, type Progress } from '../runtime/progress';
import { PRESETS, PRESET_NAMES, TRANSFORMERS_VERSION, hfConfig, type PresetName } from './presets';
import { NormalStream } from './random';

export type GeneratedDtype = 'F32' | 'F16' | 'BF16';

export interface MakeModelOptions extends Progress {
  /** Family for `tiny` (default qwen2); named presets imply theirs and reject a different one. */
  arch?: Architecture;
  preset: PresetName;
  outDir: string;
  seed: number;
  /** Stored weight type; by default the preset's (BF16 for the papers' models), else F32. */
  dtype?: GeneratedDtype;
  /** Overrides whether the chat template opens the assistant turn with "<think>\n". */
  reasoning?: boolean;
  /**
   * A checkpoint folder whose tokenizer (tokenizer.json, tokenizer_config.json, chat_template.jinja
   * when present) the model gets instead of the generated one; the embedding then has a row for every
   * id of that vocabulary, as the real model's does.
   */
  tokenizerDir?: string;
}

export interface MadeModel {
  outDir: string;
  spec: ModelSpec;
  /** Ids the tokenizer uses; embedding rows from here to spec.vocabSize are never produced by it. */
  tokenizerSize: number;
  files: string[];
}

const CHUNK_ELEMENTS = 1 << 20;
const TORCH_DTYPES = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

export async function makeModel(options: MakeModelOptions): Promise<MadeModel> {
  if (!Number.isInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}.`);
  const dtype = storedDtype(options);
  const real = options.tokenizerDir === undefined ? null : await TextTokenizer.fromFolder(options.tokenizerDir);
  const config = presetConfig({ ...options, dtype }, real ?? undefined);
  const spec = parseConfig(config);
  const tokenizer = trainedTokenizer();
  const ids = tokenizer.specialIds;
  const reasoning = options.reasoning ?? PRESETS[options.preset].shape.reasoning;
  const generationConfig = {
    bos_token_id: real ? real.bosId : ids.endOfText,
    eos_token_id: real ? [...real.eosIds] : [ids.imEnd, ids.endOfText],
    pad_token_id: real ? real.eosIds[0] : ids.endOfText,
    transformers_version: TRANSFORMERS_VERSION,
  };

  await mkdir(options.outDir, { recursive: true });
  const writeJson = (name: string, value: unknown) => writeFile(join(options.outDir, name), JSON.stringify(value, null, 2) + '\n');
  // Weights first (written atomically, and the slow part) and config.json last: a folder with a
  // config.json is complete, and a cancelled run leaves none.
  await writeSafetensors(join(options.outDir, 'model.safetensors'), randomWeights(spec, options.seed, dtype, options), { format: 'pt' });
  await writeJson('generation_config.json', generationConfig);
  const files = ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
  if (options.tokenizerDir !== undefined) {
    for (const name of ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja']) {
      const copied = await copyFile(join(options.tokenizerDir, name), join(options.outDir, name)).then(() => true, (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' && name !== 'tokenizer.json') return false;
        throw error;
      });
      if (copied && !files.includes(name)) files.push(name);
    }
  } else {
    await writeJson('tokenizer.json', tokenizer.tokenizerJson);
    await writeJson('tokenizer_config.json', tokenizerConfig(tokenizer, reasoning, spec.maxPositions));
  }
  await writeJson('config.json', config);
  return { outDir: options.outDir, spec, tokenizerSize: real ? real.size : tokenizer.size, files };
}

/** The config.json a generated model of this preset gets (also useful on its own, to plan for a shape). */
export function presetConfig(options: Pick<MakeModelOptions, 'arch' | 'preset' | 'dtype'>, realTokenizer?: Pick<TextTokenizer, 'size' | 'bosId' | 'eosIds'>): Record<string, unknown> {
  const { arch, shape } = resolvePreset(options);
  const dtype = storedDtype(options);
  if (!(dtype in TORCH_DTYPES)) throw new Error(`dtype "${dtype}" is not supported; choose F32, F16 or BF16.`);
  const tokenizer = trainedTokenizer();
  const ids = tokenizer.specialIds;
  return hfConfig({
    arch,
    preset: options.preset,
    // Gemma 2 always ties its output layer to the embeddings.
    shape: { ...shape, tied: shape.tied || arch === 'gemma2' },
    vocabSize: realTokenizer ? Math.max(shape.vocabSize ?? 0, Math.ceil(realTokenizer.size / 64) * 64) : (shape.vocabSize ?? Math.ceil(tokenizer.size / 64) * 64),
    bosTokenId: realTokenizer ? (realTokenizer.bosId ?? realTokenizer.eosIds[0]) : ids.endOfText,
    eosTokenId: realTokenizer ? realTokenizer.eosIds[0] : ids.imEnd,
    padTokenId: realTokenizer ? realTokenizer.eosIds[0] : ids.endOfText,
    torchDtype: TORCH_DTYPES[dtype],
  });
}

function storedDtype(options: Pick<MakeModelOptions, 'preset' | 'dtype'>): GeneratedDtype {
  return options.dtype ?? PRESETS[options.preset]?.dtype ?? 'F32';
}

function resolvePreset(options: Pick<MakeModelOptions, 'arch' | 'preset'>) {
  const preset = PRESETS[options.preset];
  if (!preset) throw new Error(`unknown preset "${options.preset}"; choose one of: ${PRESET_NAMES.join(', ')}.`);
  if (options.arch !== undefined && !SUPPORTED_ARCHITECTURES.includes(options.arch)) {
    throw new Error(`unknown arch "${options.arch}"; choose one of: ${SUPPORTED_ARCHITECTURES.join(', ')}.`);
  }
  if (preset.arch && options.arch && options.arch !== preset.arch) {
    throw new Error(
      `preset "${options.preset}" is a ${preset.arch} model, so arch "${options.arch}" does not apply; ` +
        `omit arch or use "tiny" for other families.`,
    );
  }
  return { arch: preset.arch ?? options.arch ?? 'qwen2', shape: preset.shape };
}

/**
 * Seeded weights that keep activations tame through many layers: matrices N(0, σ²) with
 * σ = max(0.02, 0.5/√hidden), so a sublayer's output stays about half the scale of its normalized input;
 * norm gains 1 + 0.02·N (for gemma's (1 + w) norms, w = 0.02·N); biases N(0, 0.02²).
 */
function randomWeights(spec: ModelSpec, seed: number, dtype: GeneratedDtype, progress: Progress): TensorToWrite[] {
  const matrixStd = Math.max(0.02, 0.5 / Math.sqrt(spec.hiddenSize));
  const tensors = expectedTensors(spec);
  let started = 0; // tensors are written in name order, not in this order
  return tensors.map(({ name, shape }) => {
    const isNorm = name.endsWith('norm.weight');
    const mean = isNorm && !spec.normAddsOne ? 1 : 0;
    const std = isNorm || name.endsWith('.bias') ? 0.02 : matrixStd;
    const count = shape.reduce((a, b) => a * b, 1);
    const data = () => {
      progress.report?.({ message: 'writing random weights', done: started++, total: tensors.length });
      return normalChunks(new NormalStream(seed, name), count, mean, std, progress.signal);
    };
    return { name, dtype, shape, data };
  });
}

function* normalChunks(stream: NormalStream, count: number, mean: number, std: number, signal: AbortSignal | undefined): Generator<Float32Array> {
  const buffer = new Float32Array(Math.min(CHUNK_ELEMENTS, count));
  for (let done = 0; done < count; done += buffer.length) {
    throwIfCancelled(signal);
    const size = Math.min(buffer.length, count - done);
    yield stream.fillNormal(size === buffer.length ? buffer : buffer.subarray(0, size), mean, std);
  }
}
