// Opening a model folder checks everything up front — config, weights, every tensor's shape, tokenizer —
// so that a bad checkpoint fails here with one clear message, never later from deep inside the runtime.
import { access, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SUPPORTED_ARCHITECTURES, expectedTensors, type ModelSpec } from '../../common/model-spec';
import { parseConfig } from './config';
import { CheckpointError } from './errors';
import { openCheckpointWeights, type CheckpointWeights } from './weights';

export interface TokenizerFiles {
  tokenizerJson: string;
  /** tokenizer_config.json, which carries the chat template and special tokens; null if absent. */
  tokenizerConfigJson: string | null;
}

export interface ModelFolder {
  dir: string;
  spec: ModelSpec;
  /** config.json as stored (part of the built graph's fingerprint). */
  configText: string;
  /** Open weight files; the caller closes them. */
  weights: CheckpointWeights;
  /** Null only when inspected with `requireTokenizer: false` and the folder has no tokenizer.json. */
  tokenizerFiles: TokenizerFiles | null;
  /** Things that work but deserve a mention (e.g. tensors the architecture does not use). */
  warnings: string[];
}

export interface InspectOptions {
  /** Weight-only folders (such as test references) may have no tokenizer; defaults to true. */
  requireTokenizer?: boolean;
}

const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

export async function inspectModelFolder(dir: string, options: InspectOptions = {}): Promise<ModelFolder> {
  await requireFolder(dir);
  const configPath = join(dir, 'config.json');
  const configText = await readTextFile(configPath, 'the model configuration');
  const spec = parseConfig(parseJsonObject(configText, configPath));
  spec.eosTokenIds = [...new Set([...spec.eosTokenIds, ...(await generationEosIds(dir))])];
  const tokenizerFiles = await findTokenizer(dir, options.requireTokenizer ?? true);
  const weights = await openCheckpointWeights(dir);
  try {
    const warnings = checkTensors(spec, weights);
    return { dir, spec, configText, weights, tokenizerFiles, warnings };
  } catch (error) {
    await weights.close();
    throw error;
  }
}

/** Every expected tensor present, floating point and of the configured shape; extras only warn. */
function checkTensors(spec: ModelSpec, weights: CheckpointWeights): string[] {
  const expected = expectedTensors(spec);
  const missing: string[] = [];
  const problems: string[] = [];
  for (const { name, shape } of expected) {
    const found = weights.tensors.get(name);
    if (!found) missing.push(name);
    else if (!FLOAT_DTYPES.has(found.dtype)) problems.push(`"${name}" is ${found.dtype}, expected F32, F16 or BF16`);
    else if (found.shape.join(',') !== shape.join(',')) {
      problems.push(`"${name}" has shape [${found.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
  }
  const family = `${spec.architecture} with ${spec.numLayers} layers`;
  if (missing.length) {
    const tied = missing.includes('lm_head.weight') ? ' (tie_word_embeddings is false, so lm_head.weight must be stored)' : '';
    throw new CheckpointError(
      `the weights lack ${missing.length} tensor(s) that a ${family} needs: ${listSome(missing)}${tied}.`,
    );
  }
  if (problems.length) {
    throw new CheckpointError(`the weights do not match config.json: ${listSome(problems)}.`);
  }
  const known = new Set(expected.map((t) => t.name));
  // Some tied checkpoints also store lm_head.weight; rotary caches appear in older exports. Neither is used.
  const extras = [...weights.tensors.keys()].filter((name) => !known.has(name));
  return extras.length ? [`${extras.length} tensor(s) in the weights are not used by a ${family}: ${listSome(extras)}.`] : [];
}

async function findTokenizer(dir: string, required: boolean): Promise<TokenizerFiles | null> {
  const tokenizerJson = join(dir, 'tokenizer.json');
  if (!(await exists(tokenizerJson))) {
    if (!required) return null;
    throw new CheckpointError(
      `${dir} has no tokenizer.json; a Hugging Face "fast" tokenizer file is required (save it with tokenizer.save_pretrained).`,
    );
  }
  const tokenizerConfig = join(dir, 'tokenizer_config.json');
  return { tokenizerJson, tokenizerConfigJson: (await exists(tokenizerConfig)) ? tokenizerConfig : null };
}

/**
 * The end-of-turn ids of generation_config.json ([] when the folder has none): it often lists more
 * than config.json and tokenizer_config.json do (e.g. Llama 3 instruct).
 */
export async function generationEosIds(dir: string): Promise<number[]> {
  const generation = await readOptionalJsonFile(join(dir, 'generation_config.json'), 'the generation settings');
  const raw = generation?.eos_token_id;
  return (Array.isArray(raw) ? raw : [raw]).filter((id): id is number => Number.isInteger(id) && id >= 0);
}

/** Like readJsonFile, but null when the file does not exist. */
export async function readOptionalJsonFile(path: string, what: string): Promise<Record<string, unknown> | null> {
  return (await exists(path)) ? ((await readJsonFile(path, what)) as Record<string, unknown>) : null;
}

/** Reads and parses a JSON file; `what` says what the file is for, in the error message. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  return parseJsonObject(await readTextFile(path, what), path);
}

async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckpointError(
      code === 'ENOENT' ? `${path} is missing: it holds ${what}.` : `${path}: cannot read ${what} (${code}).`,
    );
  }
}

function parseJsonObject(text: string, path: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
    return value;
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON (${(error as Error).message}).`);
  }
}

async function requireFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new CheckpointError(
      `${dir} is not a folder; expected a Hugging Face model folder (config.json, model.safetensors, tokenizer.json) ` +
        `for one of: ${SUPPORTED_ARCHITECTURES.join(', ')}.`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function listSome(items: string[], limit = 5): string {
  const shown = items.slice(0, limit).join(', ');
  return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}
