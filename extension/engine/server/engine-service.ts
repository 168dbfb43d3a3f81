// The engine's side of the protocol: one loaded model at a time, every request cancellable, progress
// and streamed results as notifications.

import { performance } from 'node:perf_hooks';
import { version } from '../../../package.json';
import { ErrorCodes, PROTOCOL_VERSION, RemoteError, type EngineRequests, type GenerateParams, type ModelInfo, type RequestMethod } from '../../common/protocol';
import type { RequestContext } from '../../common/rpc';
import type { Precision } from '../../common/precision';
import { memoryBudgetFromMib } from '../runtime/memory-budget';
import { Model } from '../model';
import { loadDirection, loadDirectionFor } from '../directions/store';
import { generationSteering, type ResolvedChoice } from '../directions/steering-methods';
import { generateBatch } from '../runtime/generate';
import { requestProgress } from '../runtime/progress';
import { chatPromptIds, thinkingSwitch } from '../chat-prompt';
import { compareReplies } from '../../common/analysis/compare';

type Handlers = { [M in RequestMethod]: (params: EngineRequests[M][0], context: RequestContext) => Promise<EngineRequests[M][1]> };

export interface AnalysisBackend {
  analyzeTrace(model: Model, params: EngineRequests['analyzeTrace'][0], context: RequestContext): Promise<EngineRequests['analyzeTrace'][1]>;
  buildDirection(model: Model, params: EngineRequests['buildDirection'][0], context: RequestContext): Promise<EngineRequests['buildDirection'][1]>;
  steerStep(model: Model, params: EngineRequests['steerStep'][0], context: RequestContext): Promise<EngineRequests['steerStep'][1]>;
  counterfactual(model: Model, params: EngineRequests['counterfactual'][0], context: RequestContext): Promise<EngineRequests['counterfactual'][1]>;
  prune(model: Model, params: EngineRequests['prune'][0], context: RequestContext): Promise<EngineRequests['prune'][1]>;
  pruneFolder(model: Model, params: EngineRequests['pruneFolder'][0], context: RequestContext): Promise<EngineRequests['pruneFolder'][1]>;
}

export class EngineService {
  private model: Model | null = null;
  /** Requests run one at a time: they share the one loaded model, and a new load must not close it under a running one. */
  private queue: Promise<unknown> = Promise.resolve();

  /** `defaults`: the threads, precision and memory budget (bytes) of a model load whose request names none (`thinkscope serve --precision`). */
  constructor(
    private readonly analysis: AnalysisBackend,
    private readonly defaults: { threads?: number; precision?: Precision; memoryBudget?: number } = {},
  ) {}

  handle(method: RequestMethod, params: unknown, context: RequestContext): Promise<unknown> {
    const handler = this.handlers[method] as ((p: unknown, c: RequestContext) => Promise<unknown>) | undefined;
    if (!handler) return Promise.reject(new RemoteError(`unknown method ${method}`, ErrorCodes.methodNotFound));
    // A client's greeting needs no model: it is answered at once, even while another client's request runs.
    if (method === 'initialize') return handler(params ?? {}, context);
    const run = this.queue.then(() => handler(params ?? {}, context));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    await this.model?.close();
    this.model = null;
  }

  private requireModel(): Model {
    if (!this.model) throw new RemoteError('no model is loaded: select a model first', ErrorCodes.noModel);
    return this.model;
  }

  private async directionsFor(model: Model, choices: GenerateParams['steering']): Promise<{ resolved: ResolvedChoice[]; warnings: string[] }> {
    const resolved: ResolvedChoice[] = [];
    const warnings: string[] = [];
    for (const { direction: path, ...choice } of choices) {
      const fitted = await loadDirectionFor(path, model.fingerprint);
      resolved.push({ direction: fitted.direction, choice });
      warnings.push(...fitted.warnings);
    }
    return { resolved, warnings };
  }

  private readonly handlers: Handlers = {
    initialize: async (params) => {
      if (params.protocol !== PROTOCOL_VERSION) {
        throw new RemoteError(
          `this engine (ThinkScope ${version}) speaks protocol ${PROTOCOL_VERSION}, the client ${params.protocol ?? 'an older one'}: use the same ThinkScope version on both ends`,
          ErrorCodes.invalidRequest,
        );
      }
      return { protocol: PROTOCOL_VERSION, version, pid: process.pid };
    },

    loadModel: async (params, context) => {
      const started = performance.now();
      const memoryBudget = params.memoryBudgetMib ? memoryBudgetFromMib(params.memoryBudgetMib) : this.defaults.memoryBudget;
      const model = await Model.open(params.path, { threads: params.threads ?? this.defaults.threads, precision: params.precision ?? this.defaults.precision, memoryBudget, ...requestProgress(context) });
      await this.model?.close();
      this.model = model;
      const info: ModelInfo = {
        ...model.fingerprint,
        path: model.dir,
        built: model.built,
        loadSeconds: (performance.now() - started) / 1000,
        hasChatTemplate: model.tokenizer.hasChatTemplate,
      };
      return info;
    },

    analyzeTrace: async (params, context) => this.analysis.analyzeTrace(this.requireModel(), params, context),

    buildDirection: async (params, context) => this.analysis.buildDirection(this.requireModel(), params, context),

    steerStep: async (params, context) => this.analysis.steerStep(this.requireModel(), params, context),

    counterfactual: async (params, context) => this.analysis.counterfactual(this.requireModel(), params, context),

    prune: async (params, context) => this.analysis.prune(this.requireModel(), params, context),
    pruneFolder: async (params, context) => this.analysis.pruneFolder(this.requireModel(), params, context),

    describeDirection: async (params) => ({ ...(await loadDirection(params.path)).meta, path: params.path }),

    generate: async (params, context) => {
      const model = this.requireModel();
      const { tokenizer } = model;
      const ids = chatPromptIds(tokenizer, params.messages ?? (params.prompt !== undefined ? [{ role: 'user', content: params.prompt }] : []), thinkingSwitch(params.enableThinking));
      const { resolved, warnings } = await this.directionsFor(model, params.steering);
      const { steering, promptSteering, applied, kinds } = generationSteering(model, ids, resolved);
      await model.session.prepareSteering(kinds, requestProgress(context));
      // With compare, the baseline and the steered reply decode together as a batch of two.
      const streams = params.compare ? (['baseline', 'steered'] as const) : (['steered'] as const);
      const replies: Record<string, string> = {};
      const tokens = streams.map(() => [] as number[]);
      for await (const { reply, token } of generateBatch(
        model.session,
        ids,
        streams.map((stream) => (stream === 'steered' ? { steering, promptSteering, seed: params.seed } : { seed: params.seed })),
        { maxTokens: params.maxTokens, temperature: params.temperature, topP: params.topP, topK: params.topK, stopTokens: tokenizer.eosIds, signal: context.signal },
      )) {
        const stream = streams[reply];
        if (!tokenizer.eosIds.includes(token.id)) tokens[reply].push(token.id);
        replies[stream] = tokenizer.decode(tokens[reply]);
        context.notify('replySnapshot', { requestId: context.id, stream, text: replies[stream], done: token.stop !== undefined });
      }
      const baseline = replies.baseline ?? null;
      return {
        steered: replies.steered ?? '',
        baseline,
        warnings,
        applied,
        comparison: baseline === null ? null : compareReplies(params.prompt ?? params.messages?.at(-1)?.content ?? '', baseline, replies.steered ?? '', params.segmentation ?? 'paragraph'),
      };
    },
  };
}
