// Measurements that each run in their own process, so that peak memory belongs to one model and no
// session of one measurement competes with another's for memory.

import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Model } from '../../extension/engine/model';
import { DecoderSession, type ForwardResult, type Steering } from '../../extension/engine/runtime/decoder-session';
import { generate, generateBatch } from '../../extension/engine/runtime/generate';
import type { Precision } from '../../extension/common/precision';
import type { Intervention } from '../../extension/common/steering-plan';
import { repeat, summarize, type Sample } from './stats';
import { argmax } from '../../extension/engine/runtime/sampling';
import { benchTtsLayout, measureTtsCostRatio } from './tts-cost';
import { measureWhatIf } from './what-if-cost';
import { LlamaPeer } from './llama-peer';
import { compareDistributions, engineDistributions, interleavedSpeed, maxLogProbDifference, peerDistributions, QUALITY_PROMPTS, QUALITY_TOKENS, type Fidelity, type PeerPair } from './peer';

export const PREFILL_TOKENS = 512;
export const DECODE_TOKENS = 64;
/** The prompt of the batch-of-two figure: a chat turn's length. */
export const BATCH_PROMPT_TOKENS = 64;

export interface WorkerRequest {
  task: 'load' | 'speed' | 'overhead' | 'speedup' | 'tts' | 'whatif' | 'peer' | 'quality' | 'batch';
  modelDir: string;
  cacheRoot: string;
  precision: Precision;
  runs: number;
  /** Threads of onnxruntime (intra-op) and of llama.cpp. */
  threads: number;
  /** peer: the llama.cpp weights to compare with `precision`; quality: every bit width's pair. */
  peers?: PeerPair[];
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
  // Plain runs first: the first steered run adds the session's steering blocks, and they stay.
  await repeat(request.runs, async () => {
    const plain = await prefillAndDecode(model.session, ids);
    prefill.push(PREFILL_TOKENS / plain.prefill);
    decode.push(decodeRate(plain.decode));
  });
  if (full) {
    await repeat(request.runs, async () => {
      steered.push(decodeRate((await prefillAndDecode(model.session, ids, { steering })).decode));
      captured.push(decodeRate((await prefillAndDecode(model.session, ids, { capture })).decode));
    });
  }
  await model.close();
  return { prefill, decode, steered, captured, peakRssBytes: peakResidentBytes() };
}

/** Steps each decode of the overhead figure takes in a row before the next one's turn; the first of each is not timed. */
export const OVERHEAD_BLOCK = 8;

/**
 * Decode of a session that has not steered (no steering blocks), and of one that has steered at the
 * residual stream (blocks at its every layer) run idle and steering at every layer, interleaved in short
 * blocks: each of the three continues its own cache after the same prompt, OVERHEAD_BLOCK greedy tokens
 * in turn, so a pause of the machine falls on a few steps of one of them, and each run compares the
 * three's median steps. A block's first step follows another session's run (its threads have gone
 * idle), which steady decoding never does, so it is not timed; the order of the three rotates.
 */
async function overhead(request: WorkerRequest) {
  const model = await open(request);
  const steeredModel = await open(request);
  const steering = steeredModel.session.compileSteering(everyLayerAddition(steeredModel));
  await steeredModel.session.prepareSteering(steering.kinds);
  const steered = steeredModel.session;
  const ids = promptIds(model, PREFILL_TOKENS);
  const variants = [
    { session: model.session, steering: undefined },
    { session: steered, steering: undefined },
    { session: steered, steering },
  ];
  await prefillAndDecode(model.session, ids.slice(0, 16));
  await prefillAndDecode(steered, ids.slice(0, 16));
  const idle: Sample = [];
  const active: Sample = [];
  await repeat(request.runs, async () => {
    const states: (typeof variants[number] & { result: ForwardResult; steps: number[] })[] = [];
    for (const v of variants) states.push({ ...v, result: await v.session.forward({ ids, steering: v.steering }), steps: [] });
    for (let step = 1, turn = 0; step < DECODE_TOKENS; step += OVERHEAD_BLOCK, turn++) {
      // Each turn starts with the next of the three, so none always runs right after the same other.
      for (const state of states.map((_, i) => states[(i + turn) % states.length])) {
        for (let k = 0; k < OVERHEAD_BLOCK; k++) {
          const start = performance.now();
          state.result = await state.session.forward({ ids: [argmax(state.result.logits)], cache: state.result.cache, steering: state.steering });
          if (k > 0) state.steps.push(performance.now() - start);
        }
      }
    }
    const [none, idleStep, activeStep] = states.map((state) => summarize(state.steps).median);
    idle.push(idleStep / none - 1);
    active.push(activeStep / none - 1);
  });
  await steeredModel.close();
  await model.close();
  return { idle, active };
}

/** int4 decode against fp32 decode on the same prompt, run by run. */
async function speedup(request: WorkerRequest) {
  const exact = await open(request, 'fp32');
  const quantized = await open(request, 'int4');
  const ids = promptIds(exact, PREFILL_TOKENS);
  await prefillAndDecode(quantized.session, ids.slice(0, 16));
  const ratio: Sample = [];
  await repeat(request.runs, async () => {
    const fp32 = (await prefillAndDecode(exact.session, ids)).decode;
    ratio.push(fp32 / (await prefillAndDecode(quantized.session, ids)).decode);
  });
  await exact.close();
  await quantized.close();
  return { ratio };
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

/** Prefill and decode against llama.cpp on the same weights, runs interleaved (peer.ts). */
async function peer(request: WorkerRequest) {
  const [pair] = request.peers!;
  const model = await open(request);
  const llama = await LlamaPeer.open(pair.path, { threads: request.threads, contextSize: 1024, log: () => undefined });
  const ids = promptIds(model, PREFILL_TOKENS);
  const result = await interleavedSpeed(
    (prompt) => prefillAndDecode(model.session, prompt),
    (prompt) => llama.prefillAndDecode(prompt, DECODE_TOKENS),
    ids,
    request.runs,
    DECODE_TOKENS,
  );
  await llama.close();
  await model.close();
  return result;
}

/**
 * Every bit width against fp32 on both engines: mean KL(fp32 ‖ format) and top-1 agreement over
 * QUALITY_PROMPTS × QUALITY_TOKENS positions, and how far llama.cpp's F32 logits are from the engine's.
 * llama.cpp runs with an F32 cache and plain attention here, so the figures are the weights' own error.
 */
async function quality(request: WorkerRequest) {
  const exact = await open(request, 'fp32');
  const prompts = Array.from({ length: QUALITY_PROMPTS }, (_, i) => promptIds(exact, QUALITY_TOKENS, i * 7));
  const V = exact.spec.vocabSize;
  const reference = await engineDistributions(exact, prompts);
  await exact.close();
  const formats: { precision: Precision; gguf: string; ours: Fidelity | null; theirs: Fidelity }[] = [];
  let logitDifference = NaN;
  for (const pair of request.peers!) {
    let ours = null;
    if (pair.precision !== 'fp32') {
      const model = await open(request, pair.precision);
      ours = compareDistributions(reference, await engineDistributions(model, prompts));
      await model.close();
    }
    const llama = await LlamaPeer.open(pair.path, { threads: request.threads, contextSize: QUALITY_TOKENS, exact: true, log: () => undefined });
    const theirs = await peerDistributions(llama, prompts, V);
    await llama.close();
    if (pair.gguf === 'F32') logitDifference = maxLogProbDifference(reference, theirs);
    formats.push({ precision: pair.precision, gguf: pair.gguf, ours, theirs: compareDistributions(reference, theirs) });
  }
  return { positions: prompts.length * QUALITY_TOKENS, logitDifference, formats };
}

/** A baseline and a steered reply decoded together (generateBatch) against the steered reply alone, interleaved. */
async function batch(request: WorkerRequest) {
  const model = await open(request);
  const ids = promptIds(model, BATCH_PROMPT_TOKENS);
  const steering = model.session.compileSteering(everyLayerAddition(model));
  const alone = async () => {
    for await (const token of generate(model.session, ids, { maxTokens: DECODE_TOKENS, steering })) void token;
  };
  const together = async () => {
    for await (const item of generateBatch(model.session, ids, [{}, { steering }], { maxTokens: DECODE_TOKENS })) void item;
  };
  await alone();
  await together();
  const ratio: Sample = [];
  await repeat(request.runs, async () => {
    const [one] = await repeat(1, alone);
    const [two] = await repeat(1, together);
    ratio.push(two / one);
  });
  await model.close();
  return { ratio };
}

export type LoadResult = Awaited<ReturnType<typeof load>>;
export type SpeedResult = Awaited<ReturnType<typeof speed>>;
export type OverheadResult = Awaited<ReturnType<typeof overhead>>;
export type SpeedupResult = Awaited<ReturnType<typeof speedup>>;
export type TtsResult = Awaited<ReturnType<typeof tts>>;
export type PeerResult = Awaited<ReturnType<typeof peer>>;
export type QualityResult = Awaited<ReturnType<typeof quality>>;
export type BatchResult = Awaited<ReturnType<typeof batch>>;

export async function runWorker(request: WorkerRequest): Promise<unknown> {
  switch (request.task) {
    case 'load':
      return load(request);
    case 'speed':
      return speed(request);
    case 'overhead':
      return overhead(request);
    case 'speedup':
      return speedup(request);
    case 'tts':
      return tts(request);
    case 'whatif':
      return whatIf(request);
    case 'peer':
      return peer(request);
    case 'quality':
      return quality(request);
    case 'batch':
      return batch(request);
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
