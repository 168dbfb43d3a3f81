// `thinkscope whatif`: what an edit of a trace does to its answer — S before → after and the model's
// greedy answer — for an edited copy of the trace, a removed step, or a step with its numbers moved.
// The edited trace is computed from its first changed token on (the editor's live readout).

import { readFile } from 'node:fs/promises';
import { DEFAULT_PERTURBATION_SEED } from '../../common/analysis/perturb';
import { describeCounterfactual, perturbStep, removeSteps } from '../../common/analysis/counterfactual';
import { parseTrace } from '../../common/trace/parse';
import { SEGMENTATION_POLICIES, type SegmentationPolicy } from '../../common/trace/types';
import { CounterfactualBaseline } from '../../engine/analysis/counterfactual';
import { segmentThinking } from '../../engine/analysis/trace-steps';
import { integerOption, optionalInteger, required, UsageError, type Command } from '../command';
import { openModelWithProgress } from '../open-model';

export const whatifCommand: Command = {
  name: 'whatif',
  summary: "What an edit does to the answer: S before → after and the model's greedy answer, for an edited copy, a removed step or a step's numbers moved.",
  usage: 'whatif TRACE --model DIR (--edited EDITED | --remove N | --perturb N) [--segment POLICY]',
  positionals: 'TRACE',
  options: {
    model: { type: 'string', description: 'Hugging Face checkpoint folder', valueName: 'DIR' },
    edited: { type: 'string', description: 'the same trace, edited', valueName: 'FILE' },
    remove: { type: 'string', description: 'remove step N', valueName: 'N' },
    perturb: { type: 'string', description: "move step N's numbers (the TTS perturbation)", valueName: 'N' },
    segment: { type: 'string', description: 'how the thinking is cut into steps: sentence, paragraph or markers', valueName: 'POLICY', default: 'sentence' },
    cue: { type: 'string', description: 'text after the thinking that asks for the answer', valueName: 'TEXT' },
    answer: { type: 'string', description: "the answer to score (default: the trace's own)", valueName: 'TEXT' },
    seed: { type: 'string', description: 'seed of the number perturbation', valueName: 'N', default: String(DEFAULT_PERTURBATION_SEED) },
    threads: { type: 'string', description: 'onnxruntime threads (0 = all cores)', valueName: 'N' },
  },
  async run(values, positionals, { signal }) {
    if (positionals.length !== 1) throw new UsageError('give one trace file (see --help)');
    const segmentation = String(values.segment) as SegmentationPolicy;
    if (!SEGMENTATION_POLICIES.includes(segmentation)) throw new UsageError(`--segment must be one of ${SEGMENTATION_POLICIES.join(', ')}`);
    const edits = ['edited', 'remove', 'perturb'].filter((key) => values[key] !== undefined);
    if (edits.length !== 1) throw new UsageError('give exactly one of --edited FILE, --remove N or --perturb N');
    const text = await readFile(positionals[0], 'utf8');
    const trace = parseTrace(text, { fileName: positionals[0] });
    const steps = segmentThinking(trace, segmentation).steps.map((step) => ({ index: step.index, ...step.range }));
    const stepOf = (key: string) => {
      const index = optionalInteger(values, key)!;
      if (!steps[index]) throw new UsageError(`--${key} ${index}: the trace has ${steps.length} steps (0..${steps.length - 1})`);
      return steps[index];
    };
    let edited: string;
    if (values.edited !== undefined) edited = await readFile(String(values.edited), 'utf8');
    else if (values.remove !== undefined) edited = removeSteps(text, steps, new Set([stepOf('remove').index]));
    else {
      const perturbed = perturbStep(text, stepOf('perturb'), integerOption(values, 'seed'));
      if (perturbed === null) throw new UsageError(`step ${values.perturb} has no number to perturb`);
      edited = perturbed;
    }
    const model = await openModelWithProgress(required(values, 'model'), { threads: integerOption(values, 'threads', 0), signal });
    try {
      const settings = { segmentation, cue: typeof values.cue === 'string' ? values.cue : undefined, answer: typeof values.answer === 'string' ? values.answer : undefined };
      const baseline = await CounterfactualBaseline.prepare(model, trace, settings, signal);
      const result = await baseline.edit(parseTrace(edited, { fileName: positionals[0] }), signal);
      // A removed step's first changed token can fall in the step before it (a merged ".\n\n"): name the step asked for.
      const what = values.remove !== undefined ? `step ${stepOf('remove').index} removed` : result.step ? `step ${result.step.index} edited` : 'the question edited';
      console.log(`${what}: ${describeCounterfactual(result)}`);
      console.log(`answer "${result.answer}": S ${result.before.confidence} → ${result.after.confidence}; greedy "${result.before.greedy}" → "${result.after.greedy}"`);
      console.log(`${result.recomputed} of ${result.tokens.after} tokens recomputed in ${(result.seconds * 1000).toFixed(0)} ms`);
    } finally {
      await model.close();
    }
  },
};
