// `thinkscope direction truethinking`: the TrueThinking direction from traces analyzed with --tts.

import {
  DEFAULT_HIGH_TTS,
  DEFAULT_LOW_TTS,
  DEFAULT_MAX_STEPS_PER_SIDE,
  DEFAULT_SAMPLE_SEED,
  mineTrueThinking,
} from '../../engine/analysis/truethinking-direction';
import { saveDirection } from '../../engine/directions/store';
import { readTraceResults } from '../../engine/inputs';
import { integerOption, numberOption, required, UsageError, type Command } from '../command';
import { modelLoadOptions, modelLoadSettings, openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';

export const directionTruethinkingCommand: Command = {
  name: 'truethinking',
  summary: 'Build the TrueThinking direction: per layer, mean activation at high-TTS steps minus low-TTS steps.',
  usage: 'direction truethinking RESULTS... --model DIR --out DIR [--high 0.9] [--low 0.005] [--max-per-side 200]',
  positionals: 'RESULTS...',
  options: {
    model: { type: 'string', description: 'the Hugging Face checkpoint the results were analyzed with', valueName: 'DIR' },
    high: { type: 'string', description: 'steps with TTS at or above this are true thinking', valueName: 'TTS', default: String(DEFAULT_HIGH_TTS) },
    low: { type: 'string', description: 'steps with TTS at or below this are decorative', valueName: 'TTS', default: String(DEFAULT_LOW_TTS) },
    'max-per-side': { type: 'string', description: 'at most this many steps per side, sampled with --seed', valueName: 'N', default: String(DEFAULT_MAX_STEPS_PER_SIDE) },
    seed: { type: 'string', description: 'seed of the sampling', valueName: 'N', default: String(DEFAULT_SAMPLE_SEED) },
    name: { type: 'string', description: 'name of the direction', valueName: 'NAME', default: 'truethinking' },
    ...modelLoadOptions,
    out: { type: 'string', description: 'output folder (direction.safetensors and direction.json)', valueName: 'DIR' },
  },
  async run(values, positionals, { signal }) {
    const out = required(values, 'out');
    const modelDir = required(values, 'model');
    if (positionals.length === 0) throw new UsageError('give at least one analysis result (.json or .jsonl written by `thinkscope analyze --tts`)');
    const files = await readTraceResults(positionals);
    const model = await openModelWithProgress(modelDir, modelLoadSettings(values));
    const bar = progressBar();
    try {
      const direction = await mineTrueThinking(model, files, {
        name: String(values.name),
        highMin: numberOption(values, 'high'),
        lowMax: numberOption(values, 'low'),
        maxPerSide: integerOption(values, 'max-per-side'),
        seed: integerOption(values, 'seed'),
        signal,
        report: bar.report,
      });
      bar.done();
      await saveDirection(out, direction);
      const { counts } = direction.meta;
      console.error(`wrote ${out}: ${direction.meta.layers.length} layers, from ${counts.high} high-TTS and ${counts.low} low-TTS steps`);
    } finally {
      bar.done();
      await model.close();
    }
  },
};

/** Trace files from .json files (one each), .jsonl files (one per line) and folders of them. */
