// `npm run bench -- --long` and `--large`: memory and time at real lengths and real sizes, each
// measurement in its own process (its peak resident memory is its own), written to the long/large
// sections of BENCHMARKS.md. Not part of CI: they take minutes to hours and gigabytes of disk.
//   --long   True Thinking Score of 1,000-, 4,000- and 16,000-token traces (or --lengths N,N,...) on the
//            qwen2.5-0.5b shape (fp32): seconds per 1,000 tokens, peak memory against weights + 2 GiB.
//   --large  the R1-Distill-Qwen-7B shape (bfloat16 on disk): graph build streamed from the checkpoint,
//            then a 2,000-token trace (or --lengths N) analysed (TTS), at int8 and int4 (or --precisions),
//            peak memory against 16 / 8 GiB;
//            and a float32 checkpoint whose embedding alone is over 2 GiB builds, loads and runs.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { expectedTensors } from '../../extension/common/model-spec';
import { parseConfig } from '../../extension/engine/checkpoint/config';
import { writeSafetensors } from '../../extension/engine/checkpoint/safetensors';
import { computeTts } from '../../extension/engine/analysis/tts/compute';
import { makeModel, presetConfig } from '../../extension/engine/make-model/make-model';
import { NormalStream } from '../../extension/engine/make-model/random';
import type { PresetName } from '../../extension/engine/make-model/presets';
import { Model } from '../../extension/engine/model';
import type { Precision } from '../../extension/common/precision';
import { benchTtsLayout } from './tts-cost';
import { writeBenchmarkSection } from './sections';

const GIB = 2 ** 30;
const benchRoot = resolve('.thinkscope-cache', 'bench');
const LONG_LENGTHS = [1000, 4000, 16000];
const LONG_PRESET: PresetName = 'qwen2.5-0.5b';
const LARGE_PRESET: PresetName = 'r1-distill-qwen-7b';
const LARGE_TRACE_TOKENS = 2000;
const LARGE_STEPS = 20;
const LARGE_TARGETS: Record<'int8' | 'int4', number> = { int8: 16 * GIB, int4: 8 * GIB };

type MemoryTask =
  | { task: 'trace'; modelDir: string; cacheRoot: string; precision: Precision; tokens: number; steps: number }
  | { task: 'build'; modelDir: string; cacheRoot: string; precision: Precision }
  | { task: 'wide-embedding'; modelDir: string; cacheRoot: string };

export interface TraceRun {
  tokens: number;
  steps: number;
  firstPassSeconds: number;
  totalSeconds: number;
  /** Resident memory with the model loaded, before the trace. */
  loadedBytes: number;
  peakBytes: number;
  weightsFileBytes: number;
  memoryBudgetBytes: number;
}

function peakResidentBytes(): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

function residentBytes(): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : process.memoryUsage().rss;
}

const PARAGRAPH =
  'To find the sum of the first ten odd numbers, list them: 1, 3, 5, 7, 9, 11, 13, 15, 17 and 19. ' +
  'Wait, there is a pattern: the sum of the first n odd numbers is n squared, so the answer should be 100. ';

function text(model: Model, count: number): number[] {
  const ids: number[] = [];
  for (let i = 0; ids.length < count; i++) ids.push(...model.tokenizer.encode(`${i}. ${PARAGRAPH}`));
  return ids.slice(0, count);
}

async function traceRun(request: Extract<MemoryTask, { task: 'trace' }>): Promise<TraceRun> {
  const model = await Model.open(request.modelDir, { cacheRoot: request.cacheRoot, precision: request.precision });
  const layout = benchTtsLayout(model, (count) => text(model, count), { traceTokens: request.tokens, steps: request.steps });
  await model.session.forward({ ids: layout.intact.slice(0, 16) }); // first-run allocations
  const loadedBytes = residentBytes();
  const start = performance.now();
  let firstPass = 0;
  await computeTts(model.session, layout, {
    report: (update) => {
      if (firstPass === 0 && update.message.startsWith('True Thinking Score: step') && update.done === 1) firstPass = (performance.now() - start) / 1000;
    },
  });
  const totalSeconds = (performance.now() - start) / 1000;
  const weightsFileBytes = graphWeightBytes(request.cacheRoot);
  const memoryBudgetBytes = model.session.memoryBudget;
  await model.close();
  return { tokens: request.tokens, steps: request.steps, firstPassSeconds: firstPass, totalSeconds, loadedBytes, peakBytes: peakResidentBytes(), weightsFileBytes, memoryBudgetBytes };
}

/** Size of the weights file of the one graph in a cache folder (one folder per precision here). */
function graphWeightBytes(cacheRoot: string): number {
  const graphs = readdirSync(cacheRoot).filter((name) => existsSync(join(cacheRoot, name, 'weights.bin')));
  if (graphs.length !== 1) throw new Error(`${cacheRoot} holds ${graphs.length} graphs; expected one`);
  return statSync(join(cacheRoot, graphs[0], 'weights.bin')).size;
}

async function build(request: Extract<MemoryTask, { task: 'build' }>): Promise<BuildRun> {
  const start = performance.now();
  const model = await Model.open(request.modelDir, { cacheRoot: request.cacheRoot, precision: request.precision, requireTokenizer: false });
  const seconds = (performance.now() - start) / 1000;
  await model.close();
  return { built: model.built, seconds, peakBytes: peakResidentBytes() };
}

/**
 * A float32 checkpoint of the 7B shape cut to one layer with a small MLP: its embedding (152,064 × 3,584,
 * 2.18 GB) and output layer are each over 2 GiB as float32. It must build, load and run.
 */
async function wideEmbedding(request: Extract<MemoryTask, { task: 'wide-embedding' }>): Promise<WideEmbeddingRun> {
  const config = { ...presetConfig({ preset: LARGE_PRESET, dtype: 'F32' }), num_hidden_layers: 1, intermediate_size: 256 };
  const spec = parseConfig(config);
  await mkdir(request.modelDir, { recursive: true });
  if (!existsSync(join(request.modelDir, 'config.json'))) {
    const chunk = 1 << 20;
    const tensors = expectedTensors(spec).map(({ name, shape }) => ({
      name,
      dtype: 'F32' as const,
      shape,
      data: function* () {
        const stream = new NormalStream(1, name);
        const count = shape.reduce((a, b) => a * b, 1);
        const mean = name.endsWith('norm.weight') ? 1 : 0;
        for (let done = 0; done < count; done += chunk) yield stream.fillNormal(new Float32Array(Math.min(chunk, count - done)), mean, 0.02);
      },
    }));
    await writeSafetensors(join(request.modelDir, 'model.safetensors'), tensors, { format: 'pt' });
    await writeFile(join(request.modelDir, 'config.json'), JSON.stringify(config));
  }
  const start = performance.now();
  const model = await Model.open(request.modelDir, { cacheRoot: request.cacheRoot, requireTokenizer: false });
  const { logits } = await model.session.forward({ ids: [1, 2, 3, 4] });
  const finite = logits.every(Number.isFinite);
  const seconds = (performance.now() - start) / 1000;
  await model.close();
  const embeddingBytes = spec.vocabSize * spec.hiddenSize * 4;
  return { embeddingBytes, seconds, finite, peakBytes: peakResidentBytes() };
}

async function runMemoryWorker(request: MemoryTask): Promise<unknown> {
  if (request.task === 'trace') return traceRun(request);
  if (request.task === 'build') return build(request);
  return wideEmbedding(request);
}

function inWorker<T>(request: MemoryTask, log: (line: string) => void): Promise<T> {
  log(`  ${JSON.stringify(request)}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--memory-worker', JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolvePromise(JSON.parse(line.slice('RESULT '.length)) as T);
      else reject(new Error(`the ${request.task} measurement failed (${signal ? `killed by ${signal}` : `exit ${code}`})`));
    });
  });
}

const gib = (bytes: number) => `${(bytes / GIB).toFixed(2)} GiB`;
const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
const today = () => new Date().toISOString().slice(0, 10);

async function longBench(lengths: readonly number[], log: (line: string) => void): Promise<{ markdown: string; json: unknown }> {
  const modelDir = join(benchRoot, LONG_PRESET);
  if (!existsSync(join(modelDir, 'config.json'))) {
    log(`generating ${LONG_PRESET} into ${modelDir}…`);
    await makeModel({ preset: LONG_PRESET, outDir: modelDir, seed: 1 });
  }
  const cacheRoot = join(benchRoot, 'graphs-long');
  const runs: TraceRun[] = [];
  for (const tokens of lengths) {
    runs.push(await inWorker<TraceRun>({ task: 'trace', modelDir, cacheRoot, precision: 'fp32', tokens, steps: tokens / 20 }, log));
  }
  return { markdown: renderLong(runs), json: { long: runs } };
}

/** The long-trace section from its runs; `note` says anything about how they were taken. */
export function renderLong(runs: readonly TraceRun[], note: readonly string[] = []): string {
  const lengths = runs.map((r) => r.tokens);
  const rows = runs.map((r) => {
    const perThousand = r.totalSeconds / (r.tokens / 1000);
    const limit = r.weightsFileBytes + 2 * GIB;
    return `| ${r.tokens.toLocaleString('en-US')} | ${r.steps} | ${r.firstPassSeconds.toFixed(1)} | ${r.totalSeconds.toFixed(1)} | ${perThousand.toFixed(1)} | ${gib(r.loadedBytes)} | ${gib(r.peakBytes)} | ${gib(r.peakBytes - r.weightsFileBytes)} | ${met(r.peakBytes <= limit)} (≤ weights + 2 GiB) |`;
  });
  const first = runs[0];
  const growth = runs.map((r) => `${(r.totalSeconds / r.tokens / (first.totalSeconds / first.tokens)).toFixed(2)}×`).join(', ');
  return [
    `## Long traces (\`npm run bench -- --long\`)`,
    '',
    `Written ${today()}. True Thinking Score of one trace per length on generated \`${LONG_PRESET}\` (fp32, weights file ${gib(first.weightsFileBytes)}),`,
    `steps of 19 tokens each perturbed by one token, an 8-token cue and a 2-token answer; each length in its own process,`,
    `one run each: on a shared, loaded machine the times are indicative only; the memory figures are not affected. Memory budget`,
    `of a forward: ${gib(first.memoryBudgetBytes)}. "above weights" is peak resident memory minus the graph's weights file.`,
    ...note,
    '',
    '| trace tokens | steps | first pass s | total s | s per 1,000 tokens | loaded | peak | above weights | target |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(lengths.length < LONG_LENGTHS.length || lengths.some((n, i) => n !== LONG_LENGTHS[i]) ? [`Lengths measured: ${lengths.join(', ')} (\`--lengths\`; the full run is ${LONG_LENGTHS.join(', ')}).`, ''] : []),
    `Time per token relative to the ${first.tokens.toLocaleString('en-US')}-token trace: ${growth} (a cost linear in the length would stay at 1×).`,
  ].join('\n');
}

interface BuildRun {
  built: boolean;
  seconds: number;
  peakBytes: number;
}

export interface WideEmbeddingRun {
  embeddingBytes: number;
  seconds: number;
  finite: boolean;
  peakBytes: number;
}

const largeSteps = (traceTokens: number) => Math.max(1, Math.round((LARGE_STEPS * traceTokens) / LARGE_TRACE_TOKENS));

async function largeBench(traceTokens: number, precisions: readonly ('int8' | 'int4')[], log: (line: string) => void): Promise<{ markdown: string; json: unknown }> {
  const modelDir = join(benchRoot, LARGE_PRESET);
  if (!existsSync(join(modelDir, 'config.json'))) {
    log(`generating ${LARGE_PRESET} (bfloat16, ~15 GB) into ${modelDir}…`);
    await makeModel({ preset: LARGE_PRESET, outDir: modelDir, seed: 1 });
  }
  const runs: { precision: 'int8' | 'int4'; build: BuildRun; trace: TraceRun }[] = [];
  for (const precision of precisions) {
    const cacheRoot = join(benchRoot, `graphs-large-${precision}`);
    const build = await inWorker<BuildRun>({ task: 'build', modelDir, cacheRoot, precision }, log);
    const trace = await inWorker<TraceRun>({ task: 'trace', modelDir, cacheRoot, precision, tokens: traceTokens, steps: largeSteps(traceTokens) }, log);
    runs.push({ precision, build, trace });
    await rm(cacheRoot, { recursive: true, force: true });
  }
  const wideDir = join(benchRoot, 'wide-embedding');
  const wide = await inWorker<WideEmbeddingRun>({ task: 'wide-embedding', modelDir: wideDir, cacheRoot: join(wideDir, 'graphs') }, log);
  await rm(wideDir, { recursive: true, force: true });
  return { markdown: renderLarge(traceTokens, runs, wide), json: { large: runs, wideEmbedding: wide } };
}

/** For each missed memory target, where its peak comes from: the build, or the loaded model and what the trace adds. */
function largeLimits(runs: readonly { precision: 'int8' | 'int4'; build: BuildRun; trace: TraceRun }[]): string[] {
  const lines = runs
    .filter(({ precision, build, trace }) => Math.max(build.peakBytes, trace.peakBytes) > LARGE_TARGETS[precision])
    .map(({ precision, build, trace }) =>
      build.peakBytes > LARGE_TARGETS[precision]
        ? `- ${precision} MISSED at the first open: peak ${gib(build.peakBytes)} building and loading a ${gib(trace.weightsFileBytes)} weights file.`
        : `- ${precision} MISSED in the trace: ${gib(trace.loadedBytes)} resident once loaded (a ${gib(trace.weightsFileBytes)} weights file), the scoring adds ${gib(trace.peakBytes - trace.loadedBytes)} (caches and working tensors).`,
    );
  return lines.length > 0 ? ['What limits each missed target:', '', ...lines, ''] : [];
}

/** The large-model section from its runs; `note` says anything about how they were taken. */
export function renderLarge(traceTokens: number, runs: readonly { precision: 'int8' | 'int4'; build: BuildRun; trace: TraceRun }[], wide: WideEmbeddingRun, note: readonly string[] = []): string {
  const rows = runs.map(({ precision, build, trace }) => {
    const target = LARGE_TARGETS[precision];
    return `| ${precision} | ${gib(trace.weightsFileBytes)} | ${build.seconds.toFixed(0)} s, peak ${gib(build.peakBytes)} | ${trace.totalSeconds.toFixed(0)} s | ${gib(trace.peakBytes)} | ${met(trace.peakBytes <= target && build.peakBytes <= target)} (≤ ${target / GIB} GiB) |`;
  });
  return [
    `## Large models (\`npm run bench -- --large\`)`,
    '',
    `Written ${today()}. Generated \`${LARGE_PRESET}\` (R1-Distill-Qwen-7B's shape, 7.6 B parameters, bfloat16 on disk).`,
    `The first open builds the graph on its own thread (weights streamed from the checkpoint one tensor at a time, never as a whole`,
    `in float32; the thread's memory is returned when it ends) and loads the session in the same process;`,
    `then a ${traceTokens.toLocaleString('en-US')}-token trace of ${largeSteps(traceTokens)} steps is scored (True Thinking Score) in a fresh process. One run each.`,
    ...(traceTokens !== LARGE_TRACE_TOKENS ? [`(\`--lengths ${traceTokens}\`; the target is stated for ${LARGE_TRACE_TOKENS.toLocaleString('en-US')} tokens.)`] : []),
    ...note,
    '',
    ...(rows.length > 0 ? ['| weights | graph weights file | first open (build) | TTS of the trace | peak resident memory | target |', '|---|---|---|---|---|---|', ...rows, ''] : []),
    ...largeLimits(runs),
    `A float32 checkpoint whose embedding alone is ${gib(wide.embeddingBytes)} (the 7B vocabulary × hidden, one layer):`,
    `${wide.finite ? 'builds, loads and gives finite logits' : 'FAILED: non-finite logits'} in ${wide.seconds.toFixed(0)} s, peak ${gib(wide.peakBytes)}.`,
  ].join('\n');
}

/** Handles `--long`, `--large` and their workers; false when the arguments ask for neither. */
export async function runMemoryBench(argv: readonly string[]): Promise<boolean> {
  const workerIndex = argv.indexOf('--memory-worker');
  if (workerIndex >= 0) {
    process.stdout.write(`RESULT ${JSON.stringify(await runMemoryWorker(JSON.parse(argv[workerIndex + 1]) as MemoryTask))}\n`);
    return true;
  }
  const kinds = (['--long', '--large'] as const).filter((flag) => argv.includes(flag));
  if (kinds.length === 0) return false;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`free memory ${gib(freemem())} of ${gib(totalmem())}`);
  for (const kind of kinds) {
    const lengthsIndex = argv.indexOf('--lengths');
    const lengths = lengthsIndex >= 0 ? argv[lengthsIndex + 1].split(',').map(Number) : LONG_LENGTHS;
    if (!lengths.every((n) => Number.isInteger(n) && n >= 100)) throw new Error(`--lengths takes token counts of at least 100, separated by commas; got ${argv[lengthsIndex + 1]}`);
    const precisionsIndex = argv.indexOf('--precisions');
    const precisions = precisionsIndex >= 0 ? argv[precisionsIndex + 1].split(',') : ['int4', 'int8'];
    if (!precisions.every((p): p is 'int8' | 'int4' => p === 'int8' || p === 'int4')) throw new Error(`--precisions takes int8 and/or int4; got ${argv[precisionsIndex + 1]}`);
    const { markdown, json } = kind === '--long' ? await longBench(lengths, log) : await largeBench(lengthsIndex >= 0 ? lengths[0] : LARGE_TRACE_TOKENS, precisions, log);
    await writeBenchmarkSection(kind.slice(2), markdown);
    process.stdout.write(argv.includes('--json') ? `${JSON.stringify(json, null, 2)}\n` : `${markdown}\n\nwritten to BENCHMARKS.md\n`);
  }
  return true;
}
