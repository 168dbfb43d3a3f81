// `npm run bench`: the engine's speed against this machine's roofline, measured in one run and written
// to BENCHMARKS.md (or printed as JSON with --json). Each model measurement runs in its own process.
//   npm run bench -- [--json] [--runs N] [--preset qwen2.5-0.5b|qwen2.5-1.5b] [--threads N]
//   npm run bench -- --long | --large [--json]   (memory-bench.ts; not in CI)

import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { makeModel } from '../../extension/engine/make-model/make-model';
import { inspectModelFolder } from '../../extension/engine/checkpoint/load';
import type { PresetName } from '../../extension/engine/make-model/presets';
import { measureRoofline } from './roofline';
import { runWorker, type AccuracyResult, type LoadResult, type OverheadResult, type SpeedResult, type TtsResult, type WorkerRequest } from './workers';
import { decodeWeightBytes, prefillFlops } from './model-cost';
import { runMemoryBench } from './memory-bench';
import { writeBenchmarkMain } from './sections';
import { renderMarkdown, renderTable, summarizeBench, type BenchInputs } from './report';
import type { WhatIfResult } from './what-if-cost';

interface Args {
  json: boolean;
  runs: number;
  preset: PresetName;
  threads: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, runs: 3, preset: 'qwen2.5-0.5b', threads: 0 };
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
    else throw new Error(`unknown option ${flag}; use --json, --runs N, --preset NAME, --threads N`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs must be a positive integer, got ${args.runs}`);
  if (!['qwen2.5-0.5b', 'qwen2.5-1.5b'].includes(args.preset)) throw new Error(`--preset must be qwen2.5-0.5b or qwen2.5-1.5b, got ${args.preset}`);
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

async function main(): Promise<void> {
  if (await runMemoryBench(process.argv.slice(2))) return;
  const workerIndex = process.argv.indexOf('--worker');
  if (workerIndex >= 0) {
    const result = await runWorker(JSON.parse(process.argv[workerIndex + 1]) as WorkerRequest);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
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

  log('roofline (onnxruntime MatMul and streaming reads)…');
  const roofline = await measureRoofline(args.threads, Math.max(5, args.runs));
  const cacheRoot = join(benchRoot, 'graphs');
  const request = (task: WorkerRequest['task'], precision: WorkerRequest['precision']): WorkerRequest => ({ task, modelDir, cacheRoot, precision, runs: args.runs, threads: args.threads });
  log('model measurements:');
  const loadFp32 = await inWorker<LoadResult>(request('load', 'fp32'), log);
  const loadInt4 = await inWorker<LoadResult>(request('load', 'int4'), log);
  const speedFp32 = await inWorker<SpeedResult>(request('speed', 'fp32'), log);
  const speedInt4 = await inWorker<SpeedResult>(request('speed', 'int4'), log);
  const overhead = await inWorker<OverheadResult>(request('overhead', 'fp32'), log);
  const accuracy = await inWorker<AccuracyResult>(request('accuracy', 'int4'), log);
  const tts = await inWorker<TtsResult>(request('tts', 'fp32'), log);
  const whatIf = await inWorker<WhatIfResult>(request('whatif', 'fp32'), log);
  // The trained default model, when one is bundled: the live readout's goal there is ten times tighter.
  const trained = trainedDefaultModel();
  const whatIfTrained = trained ? await inWorker<WhatIfResult>({ ...request('whatif', 'fp32'), modelDir: trained }, log) : null;

  const inputs: BenchInputs = {
    preset: args.preset,
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    threads: args.threads,
    runs: args.runs,
    spec,
    fp32WeightBytes,
    decodeBytes: { fp32: decodeWeightBytes(spec, 'fp32'), int4: decodeWeightBytes(spec, 'int4') },
    prefillFlops: prefillFlops(spec, 512),
    roofline,
    load: { fp32: loadFp32, int4: loadInt4 },
    speed: { fp32: speedFp32, int4: speedInt4 },
    overhead,
    accuracy,
    tts,
    whatIf: { [args.preset]: whatIf, ...(whatIfTrained && trained ? { [`trained default (${basename(trained)})`]: whatIfTrained } : {}) },
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
