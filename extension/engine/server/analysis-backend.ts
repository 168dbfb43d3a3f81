// The engine service's analyses: the same pipeline as the CLI's `analyze` and `direction` commands,
// with progress, snapshots and cancellation carried over the protocol.

import { basename, resolve } from 'node:path';
import { version } from '../../../package.json';
import { parseTrace } from '../../common/trace/parse';
import type { Direction } from '../../common/direction';
import { analyzeDocument } from '../analysis/analyze-document';
import { buildSealDirection } from '../analysis/seal';
import { buildAssistantAxis, FAST_AXIS, loadRoleSet } from '../analysis/persona';
import { buildSelectiveDirection } from '../analysis/selective';
import { mineTrueThinking } from '../analysis/truethinking-direction';
import { steerStep } from '../analysis/tts/steer-step';
import { loadDirectionFor, saveDirection } from '../directions/store';
import { InputError, readPrompts, readTraceDocuments, readTraceResults, readTraces } from '../inputs';
import type { Model } from '../model';
import { requestProgress } from '../runtime/progress';
import type { EngineRequests } from '../../common/protocol';
import type { AnalysisBackend } from './engine-service';
import { CounterfactualBaseline } from '../analysis/counterfactual';
import { pruneTrace } from '../analysis/prune';
import { pruneDocuments, writePruneReport } from '../analysis/prune-batch';
import { throwIfCancelled } from '../runtime/progress';
import { KeptScoresStore, type ResumeOptions } from '../analysis/tts/kept-scores';

/** The last analysed traces' runs, so that each edit recomputes only from its first changed token. */
const BASELINES_KEPT = 2;
const baselines = new WeakMap<Model, Map<string, Promise<CounterfactualBaseline>>>();

/** The analysed trace's run; made once, not cancelled with the edit that asked first (the next edit needs it too). */
function baselineFor(model: Model, params: EngineRequests['counterfactual'][0]): Promise<CounterfactualBaseline> {
  const kept = baselines.get(model) ?? new Map<string, Promise<CounterfactualBaseline>>();
  baselines.set(model, kept);
  const key = JSON.stringify([params.baseline, params.fileName, params.conversation ?? 0, params.segmentation, params.cue ?? null, params.answer ?? null]);
  let baseline = kept.get(key);
  if (!baseline) {
    baseline = CounterfactualBaseline.prepare(model, parseTrace(params.baseline, { fileName: params.fileName }), params);
    // A failed run is not kept: the next edit tries again.
    baseline.catch(() => kept.delete(key));
    kept.set(key, baseline);
    while (kept.size > BASELINES_KEPT) kept.delete(kept.keys().next().value!);
  }
  return baseline;
}

async function directionFor(model: Model, path: string | undefined): Promise<Direction | undefined> {
  return path === undefined ? undefined : (await loadDirectionFor(path, model.fingerprint)).direction;
}

export const analysisBackend: AnalysisBackend = {
  async analyzeTrace(model, params, context) {
    const axis = await directionFor(model, params.axisDirection);
    if (params.persona && !axis) throw new InputError('persona drift needs an Assistant-Axis direction: build one with Build Direction… (Assistant Axis) and choose it');
    // A named document's cancelled True Thinking run is kept (one per document and conversation) until an
    // analysis of it completes; a request without a document (a generated reply) keeps nothing.
    const resume: ResumeOptions | undefined =
      params.document === undefined
        ? undefined
        : {
            store: KeptScoresStore.inCache(),
            document: `${params.document}#${params.conversation ?? 0}`,
            restart: params.restart,
            onEvent: (event) => context.notify('ttsResume', { requestId: context.id, event }),
          };
    const { file } = await analyzeDocument(parseTrace(params.text, { fileName: params.fileName }), {
      name: basename(params.fileName),
      toolVersion: version,
      segmentation: params.segmentation,
      conversation: params.conversation,
      model,
      tts: params.tts ? { cue: params.cue, answer: params.answer, answerFrom: params.answerFrom, seed: params.seed } : null,
      lens: params.lens ? { cue: params.cue, answer: params.answer } : null,
      seal: params.seal ? { keywords: params.sealKeywords, direction: await directionFor(model, params.sealDirection), layer: params.sealLayer } : null,
      persona: params.persona && axis ? { axis, layer: params.personaLayer } : null,
      lastTokens: params.lastTokens,
      ...requestProgress(context),
      onSnapshot: (snapshot) => context.notify('analysisSnapshot', { requestId: context.id, file: snapshot }),
      resume,
    });
    if (params.tts && resume) await resume.store.drop(resume.document);
    return file;
  },

  async steerStep(model, params, context) {
    const { direction } = await loadDirectionFor(params.direction, model.fingerprint);
    return steerStep(model, parseTrace(params.text, { fileName: params.fileName }), {
      ...params,
      direction,
      ...requestProgress(context),
    });
  },

  async counterfactual(model, params, context) {
    const baseline = await baselineFor(model, params);
    throwIfCancelled(context.signal);
    return baseline.edit(parseTrace(params.text, { fileName: params.fileName }), context.signal);
  },

  async prune(model, params, context) {
    const { steps, pruned } = await pruneTrace(model, parseTrace(params.text, { fileName: params.fileName }), {
      name: basename(params.fileName),
      fileName: params.fileName,
      toolVersion: version,
      segmentation: params.segmentation,
      conversation: params.conversation,
      cue: params.cue,
      answer: params.answer,
      seed: params.seed,
      rules: [params.rule],
      scores: params.scores,
      ...requestProgress(context),
    });
    return { text: pruned[0].text, file: pruned[0].file, record: pruned[0].record, stepCount: steps.length };
  },

  async pruneFolder(model, params, context) {
    const { documents } = await readTraceDocuments([params.folder], resolve(params.out));
    const records = await pruneDocuments(model, documents, { ...params, toolVersion: version, ...requestProgress(context) });
    const { traces, points, rows, table, written } = await writePruneReport(params.out, records, documents.length);
    return { traces, points, rows, table, written };
  },

  async buildDirection(model, params, context) {
    const progress = requestProgress(context);
    const options = params.options ?? {};
    let direction: Direction;
    switch (params.kind) {
      case 'seal': {
        const traces = await readTraces(params.inputs);
        if (traces.length === 0) throw new InputError('no trace files among the chosen files and folders');
        direction = await buildSealDirection(model, traces, progress);
        break;
      }
      case 'truethinking':
        direction = await mineTrueThinking(model, await readTraceResults(params.inputs), progress);
        break;
      case 'assistant-axis':
        direction = await buildAssistantAxis(model, { roleSet: await loadRoleSet(params.inputs), ...(options.fast ? FAST_AXIS : {}), ...progress });
        break;
      case 'selective': {
        if (params.inputs.length !== 2) throw new InputError('Selective Steering needs two prompt files: the positive set, then the negative set');
        direction = await buildSelectiveDirection(model, { positive: await readPrompts(params.inputs[0]), negative: await readPrompts(params.inputs[1]), ...progress });
        break;
      }
      default:
        throw new InputError(`unknown direction kind "${(params as { kind: unknown }).kind}": expected seal, truethinking, assistant-axis or selective`);
    }
    await saveDirection(params.out, direction);
    return { ...direction.meta, path: params.out };
  },
};
