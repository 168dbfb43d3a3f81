// llama.cpp as the benchmark's peer, through node-llama-cpp (its prebuilt CPU build). The package is
// installed by the benchmark on first use into an ignored folder, so `npm ci` and CI never fetch it.
// Only what the benchmark needs is typed here: load a GGUF file, time a prefill and greedy decode,
// and read next-token probabilities.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Newer releases may not install on every machine: the benchmark pins this one. */
export const NODE_LLAMA_CPP_VERSION = '3.21.1';
const INSTALL_DIR = resolve('.bench', 'llama');

type Token = number;
interface ProbabilityOutput {
  next: { probabilities?: Map<Token, number> };
}
type ControlledItem = Token | [Token, { generateNext: { probabilities: true } }];
interface Sequence {
  evaluate(tokens: Token[], options?: { temperature?: number }): AsyncGenerator<Token, void, void | Token | Token[]>;
  controlledEvaluate(input: ControlledItem[]): Promise<(ProbabilityOutput | undefined)[]>;
  clearHistory(): Promise<void>;
}
interface Context {
  getSequence(): Sequence;
  dispose(): Promise<void>;
}
interface Model {
  createContext(options: { contextSize: number; batchSize: number; threads: number; sequences: number; flashAttention?: boolean; experimentalKvCacheKeyType?: 'F32'; experimentalKvCacheValueType?: 'F32' }): Promise<Context>;
  dispose(): Promise<void>;
}
interface Llama {
  loadModel(options: { modelPath: string; gpuLayers: number }): Promise<Model>;
  dispose(): Promise<void>;
}
interface NodeLlamaCpp {
  getLlama(options: { gpu: false; build: 'never'; logLevel: 'error' | 'warn'; progressLogs: false }): Promise<Llama>;
}

/** Installs the pinned node-llama-cpp into .bench/llama unless it is there, and imports it. */
async function nodeLlamaCpp(log: (line: string) => void): Promise<NodeLlamaCpp> {
  const entry = join(INSTALL_DIR, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
  if (!existsSync(entry)) {
    log(`installing node-llama-cpp@${NODE_LLAMA_CPP_VERSION} into ${INSTALL_DIR} (first run only)…`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(npm, ['install', '--prefix', INSTALL_DIR, '--save-exact', '--no-audit', '--no-fund', `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status !== 0 || !existsSync(entry)) throw new Error(`could not install node-llama-cpp@${NODE_LLAMA_CPP_VERSION} (npm exit ${result.status}); the llama.cpp column needs it`);
  }
  return (await import(pathToFileURL(entry).href)) as NodeLlamaCpp;
}

export class LlamaPeer {
  private constructor(
    private readonly llama: Llama,
    private readonly model: Model,
    private readonly context: Context,
    private readonly sequence: Sequence,
  ) {}

  /**
   * Loads a GGUF model on the CPU with `threads` threads and room for `contextSize` positions, as
   * llama.cpp runs by default (F16 KV cache, its CPU flash attention, which rounds through F16), or with
   * `exact` an F32 cache and plain attention, to compare its logits with the engine's fp32.
   */
  static async open(ggufPath: string, options: { threads: number; contextSize: number; exact?: boolean; log: (line: string) => void }): Promise<LlamaPeer> {
    const { getLlama } = await nodeLlamaCpp(options.log);
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false });
    const model = await llama.loadModel({ modelPath: ggufPath, gpuLayers: 0 });
    // One batch holds a whole prefill, as the engine's one run does.
    const exact = options.exact ? { flashAttention: false, experimentalKvCacheKeyType: 'F32' as const, experimentalKvCacheValueType: 'F32' as const } : {};
    const context = await model.createContext({ contextSize: options.contextSize, batchSize: options.contextSize, threads: options.threads, sequences: 1, ...exact });
    return new LlamaPeer(llama, model, context, context.getSequence());
  }

  /** Seconds of a prefill of `ids` (to the first token) and of the greedy steps after it, `tokens` in all. */
  async prefillAndDecode(ids: number[], tokens: number): Promise<{ prefill: number; decode: number }> {
    await this.sequence.clearHistory();
    const start = performance.now();
    let first = 0;
    let last = 0;
    let count = 0;
    for await (const token of this.sequence.evaluate(ids, { temperature: 0 })) {
      void token;
      last = performance.now();
      if (count === 0) first = last;
      if (++count === tokens) break;
    }
    return { prefill: (first - start) / 1000, decode: (last - first) / 1000 };
  }

  /** Next-token probabilities after every position of `ids`, as [ids.length, vocab], fed in chunks to bound memory. */
  async probabilities(ids: number[], vocab: number, chunk = 16): Promise<Float64Array> {
    await this.sequence.clearHistory();
    const out = new Float64Array(ids.length * vocab);
    for (let start = 0; start < ids.length; start += chunk) {
      const part = ids.slice(start, start + chunk);
      const output = await this.sequence.controlledEvaluate(part.map((id): ControlledItem => [id, { generateNext: { probabilities: true } }]));
      part.forEach((_, i) => {
        const probabilities = output[i]?.next.probabilities;
        if (!probabilities) throw new Error(`llama.cpp gave no probabilities at position ${start + i}`);
        for (const [token, p] of probabilities) out[(start + i) * vocab + token] = p;
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
