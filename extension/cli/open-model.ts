// Opens a model for a CLI command, with a progress bar while the graph is built the first time; the
// options every command that loads a model takes (threads, precision) are defined here once.

import { Model, type OpenModelOptions } from '../engine/model';
import type { HookKind } from '../common/hooks';
import { DEFAULT_PRECISION, isPrecision, PRECISIONS, type Precision } from '../common/precision';
import { integerOption, memoryBudgetOption, UsageError, type OptionSpec } from './command';
import { progressBar } from './progress-bar';

export const modelLoadOptions: Record<'threads' | 'precision' | 'memory-budget', OptionSpec> = {
  threads: { type: 'string', description: 'onnxruntime threads (0 = all cores)', valueName: 'N' },
  'memory-budget': {
    type: 'string',
    description: 'MiB one forward may use beyond the weights and KV caches: long inputs are read in chunks, TTS packs sized to fit (0 = an eighth of free memory, 128 MiB to 512 MiB)',
    valueName: 'MIB',
    default: '0',
  },
  precision: {
    type: 'string',
    description: `weight format of the model graph: ${PRECISIONS.join(' | ')} (fp32 is exact, the reference for every score; the others are faster and smaller, their scores shift slightly)`,
    valueName: 'FORMAT',
    default: DEFAULT_PRECISION,
  },
};

/** The threads, precision and memory budget (bytes) a command's `modelLoadOptions` were given. */
export function modelLoadSettings(values: Record<string, unknown>): { threads: number; precision: Precision; memoryBudget: number } {
  const precision = values.precision ?? DEFAULT_PRECISION;
  if (!isPrecision(precision)) throw new UsageError(`--precision must be one of ${PRECISIONS.join(', ')}; got ${JSON.stringify(precision)}`);
  return { threads: integerOption(values, 'threads', 0), precision, memoryBudget: memoryBudgetOption(values) };
}

export async function openModelWithProgress(dir: string, options: OpenModelOptions = {}): Promise<Model> {
  const bar = progressBar();
  try {
    return await Model.open(dir, { ...options, report: bar.report });
  } finally {
    bar.done();
  }
}

/** Adds the steering blocks a steering needs before its first run, with the bar (a reopen takes about as long as an open). */
export async function prepareSteeringWithProgress(model: Model, kinds: readonly HookKind[]): Promise<void> {
  const bar = progressBar();
  try {
    await model.session.prepareSteering(kinds, { report: bar.report });
  } finally {
    bar.done();
  }
}
