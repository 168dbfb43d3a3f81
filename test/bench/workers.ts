// Measurements that each run in their own process, so that peak memory belongs to one model and no
// session of one measurement competes with another's for memory.

import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Model } from '../../extension/engine/model';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import { ensureGraph, fileHashFolder, graphFingerprint, type GraphOptions } from '../../extension/engine/runtime/graph-cache';
import { DecoderSession, type Steering } from '../../extension/engine/runtime/decoder-session';
import { generate } from '../../extension/engine/runtime/generate';
import type { Precision } from '../../extension/engine/graph/graph-builder';
import type { Intervention } from '../../extension/common/steering-plan';
import { repeat, type Sample } from './stats';
import { benchTtsLayout, measureTtsCostRatio } from './tts-cost';
import { measureWhatIf } from './what-if-cost';

export const PREFILL_TOKENS = 512;
export const DECODE_TOKENS = 64;

export interface WorkerRequest {
  task: 'load' | 'speed' | 'overhead' | 'accuracy' | 'tts' | 'whatif';
  modelDir: string;
  cacheRoot: string;
  precision: Precision;
  runs: number;
  /** onnxruntime intra-op threads; 0 lets it choose (one per physical core). */
  threads: number;
}

const PARAGRAPH =
  'To find the sum of the first ten odd numbers, list them: 1, 3, 5, 7, 9, 11, 13, 15, 17 and 19. ' +
  'Wait, there is a pattern: the sum of the first n odd numbers is n squared, so the answer should be 100. ' +
  'Let me verify by adding in pairs: 1 + 19 = 20, 3 + 17 = 20, and so on, five pairs of 20 make 100. ';

/** A prompt of exactly `count` tokens of ordinary text. */
function promptIds(model: Model, count: number, variant = 0): number[] {
  const ids: number[] = [];
  for (let i = 0; ids.length < count; i++) ids.push(...model.tokenizer.encode(`${variant + i}. ${PARAGRAPH}`));
  return ids.slice(0, count);
}

async function open(request: WorkerRequest, precision = request.precision): Promise<Model> {
  return Model.open(request.modelDir, { cacheRoot: join(request.cacheRoot, precision), precision, threads: request.threads });
}

/** Seconds for one prefill of PREFILL_TOKENS, and for the DECODE_TOKENS − 1 greedy steps after it. */
async function prefillAndDecode(session: DecoderSession, ids: number[], options: { steering?: Steering; capture?: string[] } = {}) {
  const start = performance.now();
  let firstToken = 0;
  let lastToken = 0;
  for await (const token of generate(session, ids, { maxTokens: DECODE_TOKENS, steering: options.steering, capture: options.capture })) {
    lastToken = performance.now();
    if (token.index === 0) firstToken = lastToken;
  }
  return { prefill: (firstToken - start) / 1000, decode: (lastToken - firstToken) / 1000 };
}

const decodeRate = (seconds: number) => (DECODE_TOKENS - 1) / seconds;

function everyLayerAddition(model: Model): Intervention[] {
  const H = model.spec.hiddenSize;
  const vector = Float32Array.from({ length: H }, (_, i) => Math.sin(i) / Math.sqrt(H));
  return Array.from({ length: model.spec.numLayers }, (_, l) => ({ hook: `blocks.${l}.hook_resid_post`, kind: 'add', vector, scale: 0.5, positions: 'all' }));
}

/** First open of a fresh cache (build + session), then a second (cache hit). */
async function load(request: WorkerRequest) {
  await rm(join(request.cacheRoot, request.precision), { recursive: true, force: true });
  const seconds: number[] = [];
  for (let i = 0; i < 2; i++) {
    const start = performance.now();
    const model = await open(request);
    seconds.push((performance.now() - start) / 1000);
    await model.close();
  }
  return { firstSeconds: seconds[0], secondSeconds: seconds[1] };
}

/** Prefill and decode rates, decode with steering at every layer and with capture at every layer; peak memory. */
async function speed(request: WorkerRequest) {
  const model = await open(request);
  const ids = promptIds(model, PREFILL_TOKENS);
  await prefillAndDecode(model.session, ids.slice(0, 16)); // warm-up: first-run allocations
  const steering = model.session.compileSteering(everyLayerAddition(model));
  const capture = Array.from({ length: model.spec.numLayers }, (_, l) => `blocks.${l}.hook_resid_post`);
  const prefill: Sample = [];
  const decode: Sample = [];
  const steered: Sample = [];
  const captured: Sample = [];
  const full = request.precision === 'fp32';
  await repeat(request.runs, async () => {
    const plain = await prefillAndDecode(model.session, ids);
    prefill.push(PREFILL_TOKENS / plain.prefill);
    decode.push(decodeRate(plain.decode));
    if (!full) return;
    steered.push(decodeRate((await prefillAndDecode(model.session, ids, { steering })).decode));
    captured.push(decodeRate((await prefillAndDecode(model.session, ids, { capture })).decode));
  });
  await model.close();
  return { prefill, decode, steered, captured, peakRssBytes: peakResidentBytes() };
}

/** Decode with no steering slots, idle slots and slots active at every layer, interleaved run by run. */
async function overhead(request: WorkerRequest) {
  const model = await open(request);
  const folder = await inspectModelFolder(request.modelDir);
  const options: GraphOptions = { precision: request.precision, steering: false };
  const key = graphFingerprint(folder.configText, await folder.weights.contentHash(fileHashFolder(request.cacheRoot)), options);
  const graph = await ensureGraph(folder.spec, key, folder.weights, {}, join(request.cacheRoot, `${request.precision}-no-steering`), options);
  await folder.weights.close();
  const bare = await DecoderSession.create(folder.spec, graph.modelPath, { threads: request.threads });
  const ids = promptIds(model, PREFILL_TOKENS);
  const steering = model.session.compileSteering(everyLayerAddition(model));
  await prefillAndDecode(bare, ids.slice(0, 16));
  await prefillAndDecode(model.session, ids.slice(0, 16));
  const idle: Sample = [];
  const active: Sample = [];
  await repeat(request.runs, async () => {
    const none = (await prefillAndDecode(bare, ids)).decode;
    idle.push((await prefillAndDecode(model.session, ids)).decode / none - 1);
    active.push((await prefillAndDecode(model.session, ids, { steering })).decode / none - 1);
  });
  await bare.release();
  await model.close();
  return { idle, active };
}

function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of logits) max = Math.max(max, x);
  const p = Float64Array.from(logits, (x) => Math.exp(x - max));
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / sum);
}

/** int4 against fp32 on the same prompts: mean KL(fp32 ‖ int4) of next-token distributions, top-1 agreement; decode speedup run by run. */
async function accuracy(request: WorkerRequest) {
  const exact = await open(request, 'fp32');
  const quantized = await open(request, 'int4');
  const V = exact.spec.vocabSize;
  let kl = 0;
  let agree = 0;
  let rows = 0;
  for (let variant = 0; variant < 4; variant++) {
    const ids = promptIds(exact, 128, variant * 7);
    const a = (await exact.session.forward({ ids, logits: 'all' })).logits;
    const b = (await quantized.session.forward({ ids, logits: 'all' })).logits;
    for (let t = 0; t < ids.length; t++) {
      const p = softmax(a.subarray(t * V, (t + 1) * V));
      const q = softmax(b.subarray(t * V, (t + 1) * V));
      let divergence = 0;
      let topP = 0;
      let topQ = 0;
      for (let v = 0; v < V; v++) {
        if (p[v] > 0) divergence += p[v] * Math.log(p[v] / q[v]);
        if (p[v] > p[topP]) topP = v;
        if (q[v] > q[topQ]) topQ = v;
      }
      kl += divergence;
      agree += topP === topQ ? 1 : 0;
      rows++;
    }
  }
  const ids = promptIds(exact, PREFILL_TOKENS);
  await prefillAndDecode(quantized.session, ids.slice(0, 16));
  const speedup: Sample = [];
  await repeat(request.runs, async () => {
    const fp32 = (await prefillAndDecode(exact.session, ids)).decode;
    speedup.push(fp32 / (await prefillAndDecode(quantized.session, ids)).decode);
  });
  await exact.close();
  await quantized.close();
  return { meanKl: kl / rows, top1Agreement: agree / rows, positions: rows, speedup };
}

/** True Thinking Score of a 1000-token, 50-step trace against one forward over it (tts-cost.ts). */
async function tts(request: WorkerRequest) {
  const model = await open(request);
  const result = await measureTtsCostRatio(model, benchTtsLayout(model, (count) => promptIds(model, count)), request.runs);
  await model.close();
  return result;
}

/** Live counterfactual readout and logit lens against TTS on a 1000-token trace (what-if-cost.ts). */
async function whatIf(request: WorkerRequest) {
  const model = await open(request);
  const result = await measureWhatIf(model, request.runs);
  await model.close();
  return result;
}

export type LoadResult = Awaited<ReturnType<typeof load>>;
export type SpeedResult = Awaited<ReturnType<typeof speed>>;
export type OverheadResult = Awaited<ReturnType<typeof overhead>>;
export type AccuracyResult = Awaited<ReturnType<typeof accuracy>>;
export type TtsResult = Awaited<ReturnType<typeof tts>>;

export async function runWorker(request: WorkerRequest): Promise<unknown> {
  switch (request.task) {
    case 'load':
      return load(request);
    case 'speed':
      return speed(request);
    case 'overhead':
      return overhead(request);
    case 'accuracy':
      return accuracy(request);
    case 'tts':
      return tts(request);
    case 'whatif':
      return whatIf(request);
  }
}

/**
 * This process's peak resident set. Linux's getrusage maximum survives exec, so a worker would report
 * the larger parent's peak; /proc/self/status VmHWM is this process's own.
 */
function peakResidentBytes(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS * 1024;
}
