// `thinkscope steer-step`: push one step along or against the TrueThinking direction and score it again.

import { readFile } from 'node:fs/promises';
import { formatProbability } from '../../common/analysis/counterfactual';
import { parseTrace } from '../../common/trace/parse';
import { SEGMENTATION_POLICIES, type SegmentationPolicy } from '../../common/trace/types';
import { steerStep } from '../../engine/analysis/tts/steer-step';
import { loadDirectionFor } from '../../engine/directions/store';
import { integerOption, numberOption, optionalInteger, required, UsageError, type Command } from '../command';
import { modelLoadOptions, modelLoadSettings, openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';

export const steerStepCommand: Command = {
  name: 'steer-step',
  summary: "Steer one step along (+) or against (−) the TrueThinking direction and re-score it: does the model now use or ignore it?",
  usage: 'steer-step TRACE --model DIR --direction DIR --step N [--scale -1] [--layer L] [--segment POLICY]',
  positionals: 'TRACE',
  options: {
    model: { type: 'string', description: 'Hugging Face checkpoint folder', valueName: 'DIR' },
    direction: { type: 'string', description: 'a TrueThinking direction folder (direction truethinking)', valueName: 'DIR' },
    step: { type: 'string', description: 'index of the step (as in the analysis output)', valueName: 'N' },
    scale: { type: 'string', description: 'positive: along the direction (use the step); negative: against it', valueName: 'X', default: '1' },
    layer: { type: 'string', description: 'layer to steer at (default ≈60% of depth)', valueName: 'L' },
    segment: { type: 'string', description: 'segmentation policy used for the analysis', valueName: 'POLICY', default: 'sentence' },
    cue: { type: 'string', description: 'the TTS cue (default: "\\n The final answer is \\boxed{")', valueName: 'TEXT' },
    answer: { type: 'string', description: "the answer to score (default: the trace's own)", valueName: 'TEXT' },
    ...modelLoadOptions,
  },
  async run(values, positionals, { signal }) {
    if (positionals.length !== 1) throw new UsageError('give one trace file (see --help)');
    const segmentation = String(values.segment) as SegmentationPolicy;
    if (!SEGMENTATION_POLICIES.includes(segmentation)) throw new UsageError(`--segment must be one of ${SEGMENTATION_POLICIES.join(', ')}`);
    // Checked before the model loads, so a wrong option fails at once.
    const step = integerOption(values, 'step');
    const layer = optionalInteger(values, 'layer');
    const scale = numberOption(values, 'scale');
    const trace = parseTrace(await readFile(positionals[0], 'utf8'), { fileName: positionals[0] });
    const model = await openModelWithProgress(required(values, 'model'), { ...modelLoadSettings(values), signal });
    const bar = progressBar();
    try {
      const fitted = await loadDirectionFor(required(values, 'direction'), model.fingerprint);
      for (const warning of fitted.warnings) console.error(`warning: ${warning}`);
      const result = await steerStep(model, trace, {
        segmentation,
        step,
        direction: fitted.direction,
        layer,
        scale,
        cue: typeof values.cue === 'string' ? values.cue : undefined,
        answer: typeof values.answer === 'string' ? values.answer : undefined,
        signal,
        report: bar.report,
      });
      bar.done();
      const row = (label: string, s: typeof result.before) =>
        `${label.padEnd(9)}${[s.s11, s.s01, s.s10, s.s00, s.tts].map((x) => formatProbability(x).padStart(11)).join('')}`;
      console.log(`step ${result.step}, ${result.scale >= 0 ? '+' : ''}${result.scale}·v at blocks.${result.layer}.hook_resid_pre on the step's tokens`);
      console.log(`${''.padEnd(9)}${['S11', 'S01', 'S10', 'S00', 'TTS'].map((h) => h.padStart(11)).join('')}`);
      console.log(row('before', result.before));
      console.log(row('steered', result.after));
      console.log(row('random', result.control));
      console.log('random: a random direction of the same norm, pushed the same way (control)');
    } finally {
      bar.done();
      await model.close();
    }
  },
};
