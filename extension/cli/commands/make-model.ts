// `thinkscope make-model`: a complete Hugging Face model folder with random weights and the real shapes
// of a known model — for tests, benchmarks and the demo, since no weights are ever downloaded.

import { SUPPORTED_ARCHITECTURES, type Architecture } from '../../common/model-spec';
import { makeModel, type GeneratedDtype } from '../../engine/make-model/make-model';
import { PRESET_NAMES, type PresetName } from '../../engine/make-model/presets';
import { integerOption, required, UsageError, type Command } from '../command';
import { progressBar } from '../progress-bar';
import { writeFolderAtomically } from '../../engine/atomic-write';

export const makeModelCommand: Command = {
  name: 'make-model',
  summary: 'Write a Hugging Face model folder with random weights (tiny, or the real shapes of a known model).',
  usage: `make-model [--arch ${SUPPORTED_ARCHITECTURES.join('|')}] --preset ${PRESET_NAMES.join('|')} --out DIR [--force] [--seed N] [--dtype F32|F16|BF16] [--tokenizer DIR]`,
  options: {
    arch: { type: 'string', description: 'architecture family of the tiny preset (named presets imply theirs)', valueName: 'ARCH' },
    preset: { type: 'string', description: `shape: ${PRESET_NAMES.join(', ')}`, valueName: 'PRESET' },
    out: { type: 'string', description: 'folder to write', valueName: 'DIR' },
    seed: { type: 'string', description: 'random seed', valueName: 'N', default: '0' },
    force: { type: 'boolean', description: 'replace the folder --out names when it is not empty (its files are lost)' },
    dtype: { type: 'string', description: "stored weight type (default: the preset's, BF16 for the r1-distill and qwen3-8b shapes, else F32)", valueName: 'TYPE' },
    tokenizer: {
      type: 'string',
      description: "a real checkpoint's folder whose tokenizer.json, tokenizer_config.json and chat_template.jinja the model gets (its vocabulary, special ids and chat template) instead of a generated tokenizer",
      valueName: 'DIR',
    },
  },
  async run(values, _positionals, { signal }) {
    const preset = required(values, 'preset');
    if (!(PRESET_NAMES as readonly string[]).includes(preset)) throw new UsageError(`--preset must be one of ${PRESET_NAMES.join(', ')}`);
    const arch = values.arch as string | undefined;
    if (arch !== undefined && !(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) throw new UsageError(`--arch must be one of ${SUPPORTED_ARCHITECTURES.join(', ')}`);
    const dtype = values.dtype as string | undefined;
    if (dtype !== undefined && !['F32', 'F16', 'BF16'].includes(dtype)) throw new UsageError('--dtype must be F32, F16 or BF16');
    const out = required(values, 'out');
    const bar = progressBar();
    let made: Awaited<ReturnType<typeof makeModel>> | undefined;
    // Written beside --out and moved there when complete: a cancelled run leaves what was there before.
    await writeFolderAtomically(
      out,
      async (outDir) => {
        made = await makeModel({ preset: preset as PresetName, arch: arch as Architecture | undefined, outDir, seed: integerOption(values, 'seed'), dtype: dtype as GeneratedDtype | undefined, tokenizerDir: values.tokenizer as string | undefined, report: bar.report, signal });
      },
      () => values.force === true,
    ).finally(bar.done);
    const { spec } = made!;
    console.error(`wrote ${out}: ${spec.architecture}, ${spec.numLayers} layers, hidden ${spec.hiddenSize}, vocabulary ${spec.vocabSize} (tokenizer ${made!.tokenizerSize} tokens)`);
  },
};
