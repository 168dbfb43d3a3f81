// A loaded model: the checkpoint folder checked up front, its steerable graph built (or found in the
// cache), an onnxruntime session over it, and the tokenizer when the folder has one.

import { basename, resolve } from 'node:path';
import type { ModelSpec } from '../common/model-spec';
import type { ModelFingerprint } from '../common/bundle/trace-file';
import { inspectModelFolder } from './checkpoint/load';
import { TextTokenizer } from './checkpoint/tokenizer';
import { DecoderSession } from './runtime/decoder-session';
import { defaultCacheRoot, ensureGraph, fileHashFolder, graphFile, graphFingerprint, type GraphOptions } from './runtime/graph-cache';
import type { Progress } from './runtime/progress';

export interface OpenModelOptions extends Progress {
  threads?: number;
  /** Bytes one forward's working tensors may take (memory-budget.ts); default a share of free memory. */
  memoryBudget?: number;
  cacheRoot?: string;
  precision?: GraphOptions['precision'];
  /** Weight-only folders (test references) may lack a tokenizer. */
  requireTokenizer?: boolean;
}

export class Model {
  private constructor(
    readonly dir: string,
    readonly spec: ModelSpec,
    readonly session: DecoderSession,
    /** Null only for weight-only folders opened with `requireTokenizer: false`. */
    private readonly textTokenizer: TextTokenizer | null,
    readonly fingerprint: ModelFingerprint,
    /** True when this open built the graph (first open), false on a cache hit. */
    readonly built: boolean,
  ) {}

  get tokenizer(): TextTokenizer {
    if (!this.textTokenizer) throw new Error(`${this.dir} has no tokenizer.json: text cannot be tokenized with this model`);
    return this.textTokenizer;
  }

  static async open(dir: string, options: OpenModelOptions = {}): Promise<Model> {
    const folder = await inspectModelFolder(resolve(dir), { requireTokenizer: options.requireTokenizer });
    try {
      const precision = options.precision ?? 'fp32';
      const cacheRoot = options.cacheRoot ?? defaultCacheRoot();
      const weightsHash = await folder.weights.contentHash(fileHashFolder(cacheRoot), options);
      const key = graphFingerprint(folder.configText, weightsHash, { precision });
      options.report?.({ message: 'preparing the model graph', done: 0, total: 1 });
      const graph = await ensureGraph(folder.spec, key, folder.weights, options, cacheRoot, { precision });
      options.report?.({ message: 'loading the inference session', done: 1, total: 1 });
      const tokenizer = folder.tokenizerFiles ? await TextTokenizer.fromFolder(folder.dir) : null;
      const session = await DecoderSession.create(folder.spec, (kinds) => graphFile(graph, kinds), { threads: options.threads, memoryBudget: options.memoryBudget });
      const { spec } = folder;
      const fingerprint: ModelFingerprint = {
        name: basename(folder.dir),
        architecture: spec.architecture,
        numLayers: spec.numLayers,
        hiddenSize: spec.hiddenSize,
        vocabSize: spec.vocabSize,
        weightsHash,
        precision,
      };
      return new Model(folder.dir, spec, session, tokenizer, fingerprint, graph.built);
    } finally {
      await folder.weights.close();
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
