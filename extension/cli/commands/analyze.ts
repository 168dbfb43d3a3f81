// `thinkscope analyze`: cut traces into steps and, with --tts, score every step's True Thinking
// Score; writes one trace file per trace (JSON for one trace, JSONL for several or a folder).

import { basename, resolve } from 'node:path';
import { version } from '../../../package.json';
import { DEFAULT_PERTURBATION_SEED } from '../../common/analysis/perturb';
import type { TraceFile } from '../../common/bundle/trace-file';
import { serializeTraceFile } from '../../common/bundle/trace-write';
import { MAX_TRACE_FILE_CHARS } from '../../common/bundle/trace-load';
import type { DatasetFields } from '../../common/trace/parse-chat';
import { SEGMENTATION_POLICIES, type SegmentationPolicy } from '../../common/trace/types';
import { segmentThinking } from '../../engine/analysis/trace-steps';
import { describeReadable } from '../../common/analysis/logit-lens';
import { analyzeDocument } from '../../engine/analysis/analyze-document';
import { loadDirectionFor } from '../../engine/directions/store';
import type { Direction } from '../../common/direction';
import type { Model } from '../../engine/model';
import { InputError, readTraceDocuments, type TraceDocument } from '../../engine/inputs';
import { refuseOverwritingInputs, writeFileAtomically } from '../../engine/atomic-write';
import { integerOption, optionalInteger, UsageError, required, type Command } from '../command';
import { ContextLimitError } from '../../engine/analysis/context-limit';
import { modelLoadOptions, modelLoadSettings, openModelWithProgress } from '../open-model';
import { progressBar } from '../progress-bar';
import { answerWarnings } from '../../common/analysis/tts';
import { KeptScoresStore } from '../../engine/analysis/tts/kept-scores';
import { CancelledError } from '../../engine/runtime/progress';
import type { TtsResumeEvent } from '../../common/protocol';

const percent = (x: number) => `${Math.round(x * 100)}%`;


export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'Cut traces into steps and score them (--tts True Thinking, --seal step classes, --persona drift); write trace files.',
  usage: 'analyze TRACE... [--model DIR] [--tts [--restart]] [--lens] [--seal [--seal-direction DIR]] [--persona --axis DIR] [--segment sentence|paragraph|markers] --out FILE',
  positionals: 'TRACE...',
  options: {
    model: { type: 'string', description: 'Hugging Face checkpoint folder (needed for --tts)', valueName: 'DIR' },
    segment: { type: 'string', description: 'how the thinking is cut into steps: sentence, paragraph or markers', valueName: 'POLICY', default: 'sentence' },
    tts: { type: 'boolean', description: "score each step's True Thinking Score (4 confidences per step); after Ctrl-C, the same command resumes where it stopped" },
    restart: { type: 'boolean', description: 'with --tts: score every step again instead of resuming a cancelled run of the same traces' },
    lens: { type: 'boolean', description: "logit lens: the answer's probability at every layer after every step (needs --model)" },
    seal: { type: 'boolean', description: 'classify each step (SEAL: execution, reflection, transition) by its keywords' },
    'seal-direction': { type: 'string', description: 'with --seal: a SEAL direction folder, for the latent score of each step (needs --model)', valueName: 'DIR' },
    'seal-layer': { type: 'string', description: 'layer of the SEAL latent view (default: ≈70% of depth)', valueName: 'N' },
    persona: { type: 'boolean', description: 'project each assistant turn onto the Assistant Axis (needs --model and --axis)' },
    axis: { type: 'string', description: 'an Assistant-Axis direction folder (direction assistant-axis)', valueName: 'DIR' },
    'persona-layer': { type: 'string', description: 'layer of the persona projection (default: the axis target layer, L/2)', valueName: 'N' },
    cue: { type: 'string', description: 'text after the thinking that asks for the answer (default: "\\n The final answer is \\boxed{")', valueName: 'TEXT' },
    answer: { type: 'string', description: "the answer to score (default: the trace's \\boxed{} answer; a trace without one needs this or --answer-from model)", valueName: 'TEXT' },
    'answer-from': { type: 'string', description: "trace: score the trace's answer; model: score the model's own answer, decoded after the whole trace and the cue", valueName: 'trace|model', default: 'trace' },
    seed: { type: 'string', description: 'seed of the number perturbation', valueName: 'N', default: String(DEFAULT_PERTURBATION_SEED) },
    ...modelLoadOptions,
    fields: { type: 'string', description: 'field names of dataset rows, e.g. question=problem,reasoning=cot,answer=solution (default: detected)', valueName: 'LIST' },
    'last-tokens': { type: 'string', description: 'analyse only the steps within the last N tokens of thinking (for a trace longer than the model\'s positions)', valueName: 'N' },
    out: { type: 'string', description: 'output: FILE.json for one trace, FILE.jsonl (one trace file per line) for several or a folder', valueName: 'FILE' },
  },
  async run(values, positionals, { signal }) {
    const out = resolve(required(values, 'out'));
    const segmentation = String(values.segment) as SegmentationPolicy;
    if (!SEGMENTATION_POLICIES.includes(segmentation)) throw new UsageError(`--segment must be one of ${SEGMENTATION_POLICIES.join(', ')}; got "${segmentation}"`);
    const seed = integerOption(values, 'seed');
    if (values.tts && values.model === undefined) throw new UsageError('--tts needs --model DIR: the scores come from running the model');
    if (values.lens && values.model === undefined) throw new UsageError('--lens needs --model DIR: the logit lens reads the model\'s layers');
    if (values.persona && (values.model === undefined || values.axis === undefined)) throw new UsageError('--persona needs --model DIR and --axis DIR (an Assistant-Axis direction)');
    if (values['seal-direction'] !== undefined && !values.seal) throw new UsageError('--seal-direction goes with --seal');
    if (values.restart && !values.tts) throw new UsageError('--restart goes with --tts');
    if (values['seal-direction'] !== undefined && values.model === undefined) throw new UsageError('--seal-direction needs --model DIR: the latent view runs the model');
    if (positionals.length === 0) throw new UsageError('give at least one trace file or folder (see --help)');
    const answerFrom = String(values['answer-from']);
    if (answerFrom !== 'trace' && answerFrom !== 'model') throw new UsageError(`--answer-from must be trace or model; got "${answerFrom}"`);
    if (answerFrom === 'model' && values.answer !== undefined) throw new UsageError('give either --answer TEXT or --answer-from model, not both');

    await refuseOverwritingInputs(out, positionals, '--out');
    const { documents, fromFolder } = await readDocuments(positionals, out, datasetFields(values.fields));
    const asLines = fromFolder || documents.length > 1 || /\.(jsonl|ndjson)$/i.test(out);
    if (asLines && /\.json$/i.test(out)) throw new UsageError(`${documents.length} traces${fromFolder ? ' from a folder' : ''} make one trace file each: write them to a .jsonl file, not ${basename(out)}`);
    // Every trace is segmented up front: a bad input fails before any model time is spent.
    const stepCounts = documents.map((doc) => withName(doc.name, () => segmentThinking(doc.trace, segmentation, { conversation: doc.conversation }).steps.length));
    const total = stepCounts.reduce((a, b) => a + b, 0);

    const lastTokens = optionalInteger(values, 'last-tokens');
    if (lastTokens !== undefined && lastTokens <= 0) throw new UsageError(`--last-tokens must be a positive number of tokens; got ${lastTokens}`);
    if (lastTokens !== undefined && values.model === undefined) throw new UsageError('--last-tokens needs --model DIR: tokens are counted with its tokenizer');

    const needsModel = values.tts || values.lens || values.persona || values['seal-direction'] !== undefined || lastTokens !== undefined;
    const model: Model | undefined = needsModel ? await openModelWithProgress(String(values.model), { ...modelLoadSettings(values), signal }) : undefined;
    const loadFor = async (option: string): Promise<Direction | undefined> => {
      if (typeof values[option] !== 'string' || !model) return undefined;
      const fitted = await loadDirectionFor(values[option] as string, model.fingerprint);
      for (const warning of fitted.warnings) console.error(`warning: ${warning}`);
      return fitted.direction;
    };
    const bar = progressBar();
    const documentLabel = (i: number) => (documents.length > 1 ? `${documents[i].name} (${i + 1} of ${documents.length}): ` : `${documents[i].name}: `);
    const files: TraceFile[] = [];
    // A cancelled --tts run keeps each trace's scored steps (kept-scores.ts) until the whole command completes.
    const kept = KeptScoresStore.inCache();
    const keptAs = (doc: TraceDocument) => `cli:${resolve(doc.name)}#${doc.conversation}`;
    let keptAny = false;
    const sayResume = (name: string, event: TtsResumeEvent) => {
      if (event.kind === 'kept') {
        keptAny = true;
        return;
      }
      bar.done();
      if (event.kind === 'startedOver') console.error(`${name}: scoring every step again: ${event.reason}`);
      else if (event.kept === event.total) console.error(`${name}: all ${event.total} steps kept from the cancelled run`);
      else console.error(`${name}: resuming at step ${event.kept + 1} of ${event.total}: ${event.kept} steps kept from the cancelled run (--restart scores every step again)`);
    };
    try {
      const sealDirection = await loadFor('seal-direction');
      const axis = await loadFor('axis');
      const heldOutAgreement = { scored: 0, agreeing: 0, majority: 0 };
      for (const [i, doc] of documents.entries()) {
        const { file, sealAgreement } = await withNameAsync(doc.name, () =>
          analyzeDocument(doc.trace, {
            name: doc.name,
            toolVersion: version,
            segmentation,
            conversation: doc.conversation,
            model: model ?? null,
            tts: values.tts ? { cue: optionalString(values.cue), answer: optionalString(values.answer), answerFrom, seed } : null,
            lens: values.lens ? { cue: optionalString(values.cue), answer: optionalString(values.answer) } : null,
            seal: values.seal ? { direction: sealDirection, layer: optionalInteger(values, 'seal-layer') } : null,
            persona: axis ? { axis, layer: optionalInteger(values, 'persona-layer') } : null,
            lastTokens,
            signal,
            resume: values.tts ? { store: kept, document: keptAs(doc), restart: values.restart === true, onEvent: (event) => sayResume(doc.name, event) } : undefined,
            // Each phase (reading the trace, scoring its steps, …) moves the bar with its own done/total.
            report: (update) => bar.report({ ...update, message: `${documentLabel(i)}${update.message}` }),
          }),
        );
        bar.done(); // what follows starts on a line of its own
        const readable = values.lens ? describeReadable(file.steps) : null;
        if (readable) console.error(`${doc.name}: logit lens: ${readable}`);
        if (file.answerCheck) {
          for (const warning of answerWarnings(file.answerCheck, file.settings.answer ?? '')) console.error(`${doc.name}: warning: ${warning}`);
          if (!file.answerCheck.agrees) console.error(`${doc.name}: to score the model's own answer instead, run again with --answer-from model`);
        }
        if (sealAgreement?.rate != null) {
          const { rate, scored, majority, layer, heldOut } = sealAgreement;
          const where = heldOut === null ? '' : heldOut ? ', a held-out trace' : ', a trace the SEAL vector was built from (not held out)';
          console.error(`${doc.name}: keyword classes and the latent view agree on ${percent(rate)} of ${scored} steps (layer ${layer}${where}); always guessing the commoner class agrees on ${percent(majority / scored)}`);
          if (heldOut) for (const key of ['scored', 'agreeing', 'majority'] as const) heldOutAgreement[key] += sealAgreement[key];
        }
        files.push(file);
      }
      if (heldOutAgreement.scored > 0 && documents.length > 1) {
        const { scored, agreeing, majority } = heldOutAgreement;
        console.error(`held-out traces: keyword classes and the latent view agree on ${percent(agreeing / scored)} of ${scored} steps; the commoner class alone: ${percent(majority / scored)}`);
      }
    } catch (error) {
      if (error instanceof CancelledError && keptAny) {
        bar.done();
        console.error('the steps scored so far are kept: run the same command again to resume where it stopped (--restart starts over)');
      }
      throw error;
    } finally {
      bar.done();
      await model?.close();
    }
    const texts = asLines ? files.map((file) => JSON.stringify(file)) : [serializeTraceFile(files[0])];
    texts.forEach((text, i) => {
      if (text.length > MAX_TRACE_FILE_CHARS) throw new Error(`${documents[i].name}: its trace file would have ${text.length} characters, more than the ${MAX_TRACE_FILE_CHARS} a trace file may have; nothing was written`);
    });
    await writeFileAtomically(out, asLines ? texts.join('\n') + '\n' : texts[0]);
    if (values.tts) for (const doc of documents) await kept.drop(keptAs(doc));
    const scored = files.reduce((n, file) => n + file.steps.filter((step) => step.tts !== null).length, 0);
    const analysed = files.reduce((n, file) => n + file.steps.length, 0);
    const cut = total - analysed;
    const cutWords = cut > 0 ? ` (${cut} earlier step${cut === 1 ? '' : 's'} cut by --last-tokens ${lastTokens})` : '';
    console.error(`wrote ${out}: ${files.length} trace${files.length === 1 ? '' : 's'}, ${analysed} step${analysed === 1 ? '' : 's'} analysed${cutWords}${model ? `, ${scored} scored` : ''}`);
  },
};

/** `--fields question=NAME,reasoning=NAME,answer=NAME`: which fields of a dataset row hold what. */
function datasetFields(value: unknown): DatasetFields {
  if (typeof value !== 'string') return {};
  const fields: DatasetFields = {};
  for (const pair of value.split(',')) {
    const [key, name] = pair.split('=').map((part) => part.trim());
    if ((key !== 'question' && key !== 'reasoning' && key !== 'answer') || !name) throw new UsageError(`--fields takes question=NAME,reasoning=NAME,answer=NAME; got "${pair}"`);
    fields[key] = name;
  }
  return fields;
}

/** The engine's reader, its input errors reported as usage errors (exit status 2). */
export async function readDocuments(paths: readonly string[], out: string, fields: DatasetFields = {}): Promise<{ documents: TraceDocument[]; fromFolder: boolean }> {
  try {
    return await readTraceDocuments(paths, out, fields);
  } catch (error) {
    throw error instanceof InputError ? new UsageError(error.message) : error;
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function withName<T>(name: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw named(name, error);
  }
}

async function withNameAsync<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw named(name, error);
  }
}

/** Prefixes the trace's name to an input error; cancellation passes through unchanged. */
function named(name: string, error: unknown): unknown {
  if (!(error instanceof Error) || error.name === 'CancelledError' || error.message.startsWith(name)) return error;
  const hint = error instanceof ContextLimitError && error.fits > 0 ? ` (--last-tokens ${error.fits})` : '';
  const wrapped = new Error(`${name}: ${error.message}${hint}`);
  wrapped.name = error.name;
  return wrapped;
}
