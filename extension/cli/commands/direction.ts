// `thinkscope direction SUBCOMMAND`: build directions (seal, assistant-axis, selective, truethinking)
// and move them to and from llama.cpp control-vector GGUF files (import, export).

import { readFile } from 'node:fs/promises';
import { validateSealKeywords } from '../../common/analysis/seal';
import { buildAssistantAxis, FAST_AXIS, loadRoleSet } from '../../engine/analysis/persona';
import { buildSealDirection } from '../../engine/analysis/seal';
import { buildSelectiveDirection } from '../../engine/analysis/selective';
import { exportControlVector, importControlVector } from '../../engine/directions/controlvector';
import { loadDirection, saveDirection } from '../../engine/directions/store';
import type { Model } from '../../engine/model';
import { integerOption, numberOption, optionalInteger, optionalNumber, required, UsageError, type Command, type CommandGroup, type OptionSpec } from '../command';
import { modelLoadOptions, modelLoadSettings, openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';
import { directionTruethinkingCommand } from './direction-truethinking';
import { parseLayerList } from './generate';
import { readPrompts, readTraces, TRACE_EXTENSIONS } from '../../engine/inputs';
import type { ProgressUpdate } from '../../engine/runtime/progress';

async function readKeywords(path: string) {
  try {
    return validateSealKeywords(JSON.parse(await readFile(path, 'utf8')));
  } catch (error) {
    throw new UsageError(`--keywords ${path}: ${(error as Error).message}`);
  }
}

/** Runs a direction builder with a progress bar and the model closed afterwards, then saves it. */
async function build(values: Record<string, unknown>, open: () => Promise<Model>, make: (model: Model, report: (update: ProgressUpdate) => void) => Promise<Parameters<typeof saveDirection>[1]>): Promise<void> {
  const out = required(values, 'out');
  const model = await open();
  const bar = progressBar();
  try {
    const direction = await make(model, bar.report);
    bar.done();
    await saveDirection(out, direction);
    const counts = Object.entries(direction.meta.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    console.error(`wrote ${out}: ${direction.meta.method} direction, ${direction.meta.layers.length} layers (${counts})`);
  } finally {
    bar.done();
    await model.close();
  }
}

const modelOption: OptionSpec = { type: 'string', description: 'Hugging Face checkpoint folder', valueName: 'DIR' };
const outOption: OptionSpec = { type: 'string', description: 'output folder (direction.safetensors and direction.json)', valueName: 'DIR' };

const sealCommand: Command = {
  name: 'seal',
  summary: 'Build the SEAL vector: mean over reflection/transition step boundaries minus execution ones, per layer.',
  usage: 'direction seal TRACES... --model DIR --out DIR [--layer N] [--keywords FILE]',
  positionals: 'TRACES...',
  options: {
    model: modelOption,
    out: outOption,
    layer: { type: 'string', description: 'layer SEAL steering uses by default (≈70% of depth when omitted)', valueName: 'N' },
    keywords: { type: 'string', description: 'JSON keyword lists {"reflection": {"startsWith", "contains"}, "transition": {...}}', valueName: 'FILE' },
    name: { type: 'string', description: 'name of the direction', valueName: 'NAME' },
    ...modelLoadOptions,
  },
  async run(values, positionals, { signal }) {
    if (positionals.length === 0) throw new UsageError('give trace files or folders of traces (with <think> blocks) to build the SEAL vector from');
    const keywords = values.keywords === undefined ? undefined : await readKeywords(String(values.keywords));
    const traces = await readTraces(positionals);
    if (traces.length === 0) throw new UsageError(`no trace files (${[...TRACE_EXTENSIONS].join(', ')}) in ${positionals.join(', ')}`);
    await build(values, () => openModelWithProgress(required(values, 'model'), modelLoadSettings(values)), (model, report) =>
      buildSealDirection(model, traces, {
        keywords,
        layer: optionalInteger(values, 'layer'),
        name: values.name === undefined ? undefined : String(values.name),
        signal,
        report,
      }),
    );
  },
};

const axisCommand: Command = {
  name: 'assistant-axis',
  summary: 'Build the Assistant Axis: mean activation of default-assistant replies minus role replies, per layer, with capping floors.',
  usage: 'direction assistant-axis --model DIR --out DIR [--roles DIR]... [--questions N] [--max-tokens N] [--fast] [--judge DIR]',
  options: {
    model: modelOption,
    out: outOption,
    roles: { type: 'string', multiple: true, description: 'a folder with roles.json / questions.json / default.json adding to the bundled role set (repeatable)', valueName: 'DIR' },
    questions: { type: 'string', description: 'questions asked under each system prompt', valueName: 'N', default: '5' },
    'max-tokens': { type: 'string', description: 'length of each generated reply', valueName: 'N', default: '96' },
    fast: { type: 'boolean', description: 'each role prompt answers one question; the default assistant still answers every question in full, since τ is a percentile of its replies' },
    judge: { type: 'string', description: 'a model that scores role replies 0–3; only replies fully in role (3) are kept', valueName: 'DIR' },
    percentile: { type: 'string', description: 'capping floor τ: this percentile of the default assistant\'s reply projections per layer', valueName: 'P', default: '25' },
    temperature: { type: 'string', description: 'sampling temperature of the replies', valueName: 'T', default: '0.7' },
    'top-p': { type: 'string', description: 'nucleus sampling threshold of the replies', valueName: 'P', default: '0.9' },
    seed: { type: 'string', description: 'sampling seed', valueName: 'N', default: '0' },
    name: { type: 'string', description: 'name of the direction', valueName: 'NAME' },
    ...modelLoadOptions,
  },
  async run(values, _positionals, { signal }) {
    required(values, 'out');
    const roleSet = await loadRoleSet((values.roles as string[] | undefined) ?? []);
    const loadSettings = modelLoadSettings(values);
    const judge = values.judge === undefined ? undefined : await openModelWithProgress(String(values.judge), loadSettings);
    try {
      await build(values, () => openModelWithProgress(required(values, 'model'), loadSettings), (model, report) =>
        buildAssistantAxis(model, {
          roleSet,
          questions: integerOption(values, 'questions'),
          maxTokens: integerOption(values, 'max-tokens'),
          ...(values.fast ? FAST_AXIS : {}),
          judge,
          percentile: numberOption(values, 'percentile'),
          temperature: numberOption(values, 'temperature'),
          topP: numberOption(values, 'top-p'),
          seed: integerOption(values, 'seed'),
          name: values.name === undefined ? undefined : String(values.name),
          signal,
          report,
        }),
      );
    } finally {
      await judge?.close();
    }
  },
};


const selectiveCommand: Command = {
  name: 'selective',
  summary: 'Build a Selective Steering plane from two prompt sets, with the blocks that separate them.',
  usage: 'direction selective --model DIR --positive FILE --negative FILE --out DIR [--labels harmful,harmless]',
  options: {
    model: modelOption,
    out: outOption,
    positive: { type: 'string', description: 'prompts of one side (one per line, or JSON/JSONL)', valueName: 'FILE' },
    negative: { type: 'string', description: 'prompts of the other side', valueName: 'FILE' },
    labels: { type: 'string', description: 'names of the two sides', valueName: 'A,B', default: 'positive,negative' },
    name: { type: 'string', description: 'name of the direction', valueName: 'NAME' },
    ...modelLoadOptions,
  },
  async run(values, _positionals, { signal }) {
    const positive = await readPrompts(required(values, 'positive'));
    const negative = await readPrompts(required(values, 'negative'));
    const labels = String(values.labels).split(',').map((s) => s.trim());
    if (labels.length !== 2 || labels.some((l) => l === '') || labels[0] === labels[1]) throw new UsageError('--labels must be two different names, e.g. harmful,harmless');
    await build(values, () => openModelWithProgress(required(values, 'model'), modelLoadSettings(values)), (model, report) =>
      buildSelectiveDirection(model, { positive, negative, labels: { positive: labels[0], negative: labels[1] }, name: values.name === undefined ? undefined : String(values.name), signal, report }),
    );
  },
};

const importCommand: Command = {
  name: 'import',
  summary: 'Import a llama.cpp control vector (GGUF) as a direction folder.',
  usage: 'direction import FILE.gguf --out DIR',
  positionals: 'FILE.gguf',
  options: { out: outOption, name: { type: 'string', description: 'name of the direction (default: the file name)', valueName: 'NAME' } },
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError('give one control-vector file: direction import FILE.gguf --out DIR');
    const out = required(values, 'out');
    const direction = await importControlVector(positionals[0]);
    if (values.name !== undefined) direction.meta.name = String(values.name);
    await saveDirection(out, direction);
    const hint = direction.meta.details.modelHint ? ` for ${direction.meta.details.modelHint}` : '';
    console.error(`wrote ${out}: ${direction.meta.layers.length} vectors${hint} at the outputs of blocks ${direction.meta.layers.join(', ')} (hook_resid_post)`);
  },
};

const exportCommand: Command = {
  name: 'export',
  summary: 'Export a direction folder as a llama.cpp control vector (GGUF): direction.k is added to the output of block k.',
  usage: 'direction export DIR --gguf OUT.gguf [--layers 10-20] [--scale X]',
  positionals: 'DIR',
  options: {
    gguf: { type: 'string', description: 'output control-vector file', valueName: 'FILE' },
    layers: { type: 'string', description: 'only these layers of the direction, e.g. 10-20', valueName: 'LIST' },
    scale: { type: 'string', description: 'multiply the vectors (e.g. -1 for SEAL, which calibrates with a negative sign)', valueName: 'X' },
  },
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError('give one direction folder: direction export DIR --gguf OUT.gguf');
    const out = required(values, 'gguf');
    const direction = await loadDirection(positionals[0]);
    const result = await exportControlVector(direction, out, {
      layers: values.layers === undefined ? undefined : parseLayerList(String(values.layers), 'layers'),
      scale: optionalNumber(values, 'scale'),
    });
    if (result.skipped.length) console.error(`note: layer ${result.skipped.join(', ')} left out: it lands on block 0's output, which llama.cpp never steers`);
    console.error(`wrote ${out}: direction.${result.blocks.join(', direction.')}`);
  },
};

/** The subcommands of `direction`, by name. */
export const DIRECTION_SUBCOMMANDS: readonly Command[] = [sealCommand, axisCommand, selectiveCommand, directionTruethinkingCommand, importCommand, exportCommand];

/**
 * The options of every subcommand, so that one strict parse accepts any of them; defaults are left
 * to the subcommand's own parse, which runs on the arguments rebuilt from the values.
 */

export const directionCommand: CommandGroup = {
  name: 'direction',
  summary: 'Build a direction (seal, assistant-axis, selective, truethinking) or import/export a llama.cpp control vector.',
  usage: 'direction SUBCOMMAND ...',
  subcommands: DIRECTION_SUBCOMMANDS,
};
