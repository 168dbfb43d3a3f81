// `npm run bench`: the engine's speed against this machine's roofline and against llama.cpp on the same
// weights, measured in one run and written to BENCHMARKS.md (or printed as JSON with --json). Each model
// measurement runs in its own process.
//   npm run bench -- [--json] [--runs N] [--preset qwen2.5-0.5b|qwen2.5-1.5b|tiny] [--threads N]
//   npm run bench -- --long | --large [--json]   (memory-bench.ts; not in CI)
//   npm run bench -- --what-if [--runs N]   only the live-counterfactual rows, printed and written to their section of BENCHMARKS.md

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import type { PresetName } from '../../extension/engine/make-model/presets';
import { measureRoofline } from './roofline';
import { runWorker, type BatchResult, type LoadResult, type OverheadResult, type PeerResult, type QualityResult, type SpeedResult, type SpeedupResult, type TtsResult, type WorkerRequest } from './workers';
import { GGUF_WEIGHTS, writeGgufModel, type GgufWeights } from './gguf-model';
import { NODE_LLAMA_CPP_VERSION } from './llama-peer';
import type { PeerPair } from './peer';
import { PRECISIONS, type Precision } from '../../extension/common/precision';
import { decodeWeightBytes, prefillFlops } from './model-cost';
import { runMemoryBench } from './memory-bench';
import { writeBenchmarkMain, writeBenchmarkSection } from './sections';
import { renderMarkdown, renderTable, renderWhatIf, renderWhatIfSection, summarizeBench, type BenchInputs } from './report';
import type { WhatIfResult } from './what-if-cost';
import { fileHashFolder } from '../../extension/engine/runtime/graph-cache';

/** The engine's formats a GGUF type is compared with, most alike first. */
const PEER_PRECISIONS: Record<GgufWeights, string[]> = { F32: ['fp32'], F16: ['fp16', 'bf16', 'fp32'], Q8_0: ['int8', 'int4'], Q4_0: ['int4'] };

interface Args {
  json: boolean;
  runs: number;
  preset: PresetName;
  threads: number;
  whatIfOnly: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, runs: 3, preset: 'qwen2.5-0.5b', threads: 0, whatIfOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--runs') args.runs = Number(value());
    else if (flag === '--preset') args.preset = value() as PresetName;
    else if (flag === '--threads') args.threads = Number(value());
    else if (flag === '--what-if') args.whatIfOnly = true;
    else throw new Error(`unknown option ${flag}; use --json, --runs N, --preset NAME, --threads N, --what-if`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs must be a positive integer, got ${args.runs}`);
  if (!['qwen2.5-0.5b', 'qwen2.5-1.5b', 'tiny'].includes(args.preset)) throw new Error(`--preset must be qwen2.5-0.5b, qwen2.5-1.5b or tiny (a quick check that every measurement runs), got ${args.preset}`);
  return args;
}

const benchRoot = resolve('.thinkscope-cache', 'bench');

/** The bundled trained model folder (media/models/NAME with a config.json), or null when none is bundled. */
function trainedDefaultModel(): string | null {
  const root = resolve('media', 'models');
  if (!existsSync(root)) return null;
  const found = readdirSync(root).map((name) => join(root, name)).find((dir) => existsSync(join(dir, 'config.json')));
  return found ?? null;
}

/** The checkpoint's content hash (memoized where the graph cache keeps it), which names its GGUF files. */
async function fingerprintOf(dir: string): Promise<string> {
  const folder = await inspectModelFolder(dir);
  const fingerprint = await folder.weights.contentHash(fileHashFolder(join(benchRoot, 'graphs')));
  await folder.weights.close();
  return fingerprint;
}

/**
 * Each bit width's pair: the checkpoint as GGUF (written once per weights fingerprint) and the engine's
 * precision it is measured against: the same format where the engine has it, else the nearest it has.
 */
async function ggufPairs(modelDir: string, dir: string, fingerprint: string, log: (line: string) => void): Promise<PeerPair[]> {
  await mkdir(dir, { recursive: true });
  const pairs: PeerPair[] = [];
  for (const gguf of GGUF_WEIGHTS) {
    const path = join(dir, `${fingerprint.slice(0, 16)}-${gguf}.gguf`);
    if (!existsSync(path)) await writeGgufModel(modelDir, path, gguf, log);
    const precision = PEER_PRECISIONS[gguf].find((p): p is Precision => (PRECISIONS as readonly string[]).includes(p))!;
    pairs.push({ precision, gguf, path, sameWidth: precision === PEER_PRECISIONS[gguf][0] });
  }
  return pairs;
}

/** Runs one measurement in a fresh process and returns what it reports. */
function inWorker<T>(request: WorkerRequest, log: (line: string) => void): Promise<T> {
  log(`  ${request.task} (${request.precision})…`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--worker', JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code === 0 && line) resolvePromise(JSON.parse(line.slice('RESULT '.length)) as T);
      else reject(new Error(`the ${request.task} measurement failed (exit ${code})`));
    });
  });
}

function machineText(): string {
  return `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
}

async function main(): Promise<void> {
  if (await runMemoryBench(process.argv.slice(2))) return;
  const workerIndex = process.argv.indexOf('--worker');
  if (workerIndex >= 0) {
    const result = await runWorker(JSON.parse(process.argv[workerIndex + 1]) as WorkerRequest);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  // Both engines get the same explicit thread count: one per core unless --threads says otherwise.
  args.threads ||= availableParallelism();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();

  const modelDir = join(benchRoot, args.preset);
  if (!existsSync(join(modelDir, 'model.safetensors'))) {
    log(`generating ${args.preset} into ${modelDir}…`);
    await makeModel({ preset: args.preset, outDir: modelDir, seed: 1 });
  }
  const folder = await inspectModelFolder(modelDir);
  const spec = folder.spec;
  let fp32WeightBytes = 0;
  for (const info of folder.weights.tensors.values()) fp32WeightBytes += info.shape.reduce((a, b) => a * b, 1) * 4;
  await folder.weights.close();

  const trainedDir = trainedDefaultModel();
  const cacheRoot = join(benchRoot, 'graphs');
  const request = (task: WorkerRequest['task'], precision: WorkerRequest['precision'], extra: Partial<WorkerRequest> = {}): WorkerRequest => ({
    task,
    modelDir,
    cacheRoot,
    precision,
    runs: args.runs,
    threads: args.threads,
    ...extra,
  });
  // The readout after an edit, on the preset and (when one is bundled) the trained default, whose goal is ten times tighter.
  const measureWhatIf = async () => ({
    [args.preset]: await inWorker<WhatIfResult>(request('whatif', 'fp32'), log),
    ...(trainedDir ? { [`trained default (${basename(trainedDir)})`]: await inWorker<WhatIfResult>(request('whatif', 'fp32', { modelDir: trainedDir }), log) } : {}),
  });
  if (args.whatIfOnly) {
    const load = { start: loadavg()[0], end: 0 };
    const whatIf = await measureWhatIf();
    load.end = loadavg()[0];
    await writeBenchmarkSection('what-if', renderWhatIfSection({ preset: args.preset, whatIf, machine: machineText(), threads: args.threads, runs: args.runs }, load));
    process.stdout.write(`${renderWhatIf({ preset: args.preset, whatIf })}\nwritten to BENCHMARKS.md (section what-if)\n`);
    return;
  }

  log('llama.cpp peer: the same weights as GGUF…');
  const peers = await ggufPairs(modelDir, join(benchRoot, 'gguf', args.preset), await fingerprintOf(modelDir), log);
  // Agreement with fp32 is meaningful on trained weights (random weights have flat distributions).
  const trainedPeers = trainedDir ? await ggufPairs(trainedDir, join(benchRoot, 'gguf', 'trained'), await fingerprintOf(trainedDir), log) : null;

  log('roofline (onnxruntime MatMul and streaming reads)…');
  const roofline = await measureRoofline(args.threads, Math.max(5, args.runs));
  log('model measurements:');
  const loadFp32 = await inWorker<LoadResult>(request('load', 'fp32'), log);
  const loadInt4 = await inWorker<LoadResult>(request('load', 'int4'), log);
  const speedFp32 = await inWorker<SpeedResult>(request('speed', 'fp32'), log);
  const speedInt4 = await inWorker<SpeedResult>(request('speed', 'int4'), log);
  const overhead = await inWorker<OverheadResult>(request('overhead', 'fp32'), log);
  const speedup = await inWorker<SpeedupResult>(request('speedup', 'int4'), log);
  const tts = await inWorker<TtsResult>(request('tts', 'fp32'), log);
  const batch = await inWorker<BatchResult>(request('batch', 'fp32'), log);
  const whatIf = await measureWhatIf();
  const peer: { pair: PeerPair; result: PeerResult }[] = [];
  for (const pair of peers) peer.push({ pair, result: await inWorker<PeerResult>(request('peer', pair.precision, { peers: [pair] }), log) });
  const quality = await inWorker<QualityResult>(request('quality', 'fp32', { peers }), log);
  const trainedQuality = trainedDir && trainedPeers ? await inWorker<QualityResult>(request('quality', 'fp32', { peers: trainedPeers, modelDir: trainedDir }), log) : null;

  const inputs: BenchInputs = {
    preset: args.preset,
    machine: machineText(),
    threads: args.threads,
    runs: args.runs,
    spec,
    fp32WeightBytes,
    decodeBytes: Object.fromEntries(PRECISIONS.map((p) => [p, decodeWeightBytes(spec, p)])) as Record<Precision, number>,
    prefillFlops: prefillFlops(spec, 512),
    roofline,
    load: { fp32: loadFp32, int4: loadInt4 },
    speed: { fp32: speedFp32, int4: speedInt4 },
    overhead,
    speedup,
    tts,
    batch,
    whatIf,
    peer,
    quality,
    trainedQuality: trainedQuality && { model: relative(process.cwd(), trainedDir!), ...trainedQuality },
    llamaVersion: NODE_LLAMA_CPP_VERSION,
    seconds: 0,
  };
  inputs.seconds = (performance.now() - started) / 1000;
  const summary = summarizeBench(inputs);
  await writeBenchmarkMain(renderMarkdown(inputs, summary));
  if (args.json) process.stdout.write(`${JSON.stringify(summary.json, null, 2)}\n`);
  else process.stdout.write(`${renderTable(summary)}\nwritten to BENCHMARKS.md (${inputs.seconds.toFixed(0)} s)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
